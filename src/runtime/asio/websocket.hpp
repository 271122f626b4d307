// Internal to the stream transport: the seam between stream_transport.cpp,
// which knows nothing of Boost.Beast, and websocket.cpp, the one file that
// compiles Beast's WebSocket templates (they are slow to build).
//
// A ByteChannel is an established byte stream: a plain TCP socket, or a
// WebSocket over one whose binary messages carry the stream. Everything runs
// on the event loop's thread; at most one read and one write are in flight.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/bytes.hpp"

namespace taho::runtime::asio::detail {

using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
using DoneHandler = std::function<void(const boost::system::error_code&)>;

class ByteChannel {
 public:
  virtual ~ByteChannel() = default;

  // Completes with the number of stream bytes placed in `buffer` (may be 0
  // for an empty WebSocket message). `buffer` must outlive the operation.
  virtual void async_read_some(MutableByteView buffer, IoHandler handler) = 0;
  // Writes all of `buffers` (gathered; one binary message on a WebSocket).
  // The bytes they view must outlive the operation.
  virtual void async_write(std::span<const ByteView> buffers, IoHandler handler) = 0;
  // Ends our direction politely: a TCP FIN, or the WebSocket close
  // handshake. A pending read then ends when the peer finishes its side.
  virtual void async_shutdown(DoneHandler handler) = 0;
  // Closes the socket at once; pending operations complete with an error.
  virtual void close() = 0;
  // Why a read or write failed, in words for ConnectionInfo users' logs.
  virtual std::string describe(const boost::system::error_code& error) const = 0;
  virtual boost::asio::ip::tcp::socket& socket() = 0;
};

std::unique_ptr<ByteChannel> make_tcp_channel(boost::asio::ip::tcp::socket socket);

// Words for an error that ends a TCP stream or a dial ("connection refused").
std::string describe_socket_error(const boost::system::error_code& error);

struct WebSocketLimits {
  std::size_t message_bytes_max;   // larger incoming messages fail the read
  std::uint32_t close_timeout_ms;  // bounds the close handshake and TCP teardown
};

// A WebSocket not yet upgraded: run exactly one of the handshakes, then use
// it as a ByteChannel. Handshake timeouts are the caller's: it calls close().
class WebSocketChannel : public ByteChannel {
 public:
  static std::unique_ptr<WebSocketChannel> make(boost::asio::ip::tcp::socket socket, WebSocketLimits limits);

  // Server side: accepts an upgrade request for any path; declines
  // permessage-deflate; a malformed request fails (after a 400 answer).
  virtual void async_accept(DoneHandler handler) = 0;
  // Client side: upgrades with path "/" and `host` as the Host header.
  virtual void async_handshake(std::string host, DoneHandler handler) = 0;
};

}  // namespace taho::runtime::asio::detail
