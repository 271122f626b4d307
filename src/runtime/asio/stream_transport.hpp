// The byte-stream transport driver: TCP and WebSocket connections on the
// event loop, addressed by multiaddrs. It only moves bytes; the libp2p
// upgrade (multistream, Noise, Yamux) runs above it in the swarm.
//
// Threading: every method must be called on the event loop's thread, and
// every callback runs there. Callbacks may call any method of this class
// (send, close, dial ...) but must not destroy the StreamTransport.
//
// Connection lifecycle, per ConnectionId (ids are never reused):
//   on_open (inbound) or on_dialed (outbound) exactly once, first;
//   then any number of on_data;
//   then on_closed exactly once, last — also after close(), once queued
//   bytes were flushed (or close_flush_timeout_ms passed). Nothing follows it.
// Errors caused by a call (a queue overflow in send, a bad address in dial)
// are reported through callbacks posted to the loop, never re-entrantly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/multiaddr.hpp"

namespace taho::runtime::asio {

class EventLoop;

using ConnectionId = std::uint64_t;  // never reused within a process
using DialId = std::uint64_t;        // never reused within a process

enum class Transport { tcp, websocket };

struct ConnectionInfo {
  ConnectionId id = 0;
  Transport transport = Transport::tcp;
  bool inbound = false;
  // Socket endpoints as multiaddrs: /ip4/127.0.0.1/tcp/4001, or with /ws
  // appended for WebSocket. A dialed DNS name appears resolved here.
  Multiaddr local;
  Multiaddr remote;
};

struct StreamTransportOptions {
  // Per connection: bytes accepted by send() and not yet written. Going over
  // closes the connection (the layer above bounds itself via Yamux windows).
  std::size_t send_queue_bytes_max = 32 * 1024 * 1024;
  // Most bytes per on_data. A connection's read buffer starts small and
  // grows to this only while reads fill it (bulk transfers). Large reads
  // mean fewer syscalls and fewer Noise frames split across two reads
  // (those are gathered by copying).
  std::size_t read_chunk_bytes = 1024 * 1024;
  std::uint32_t dial_timeout_ms = 6'000;                  // per address: TCP connect (+ WS upgrade); also DNS
  std::uint32_t websocket_handshake_timeout_ms = 10'000;  // inbound upgrade
  // A larger incoming WS message closes the connection; our outgoing
  // messages are cut to this size too, so two taho nodes always agree.
  std::size_t websocket_message_bytes_max = 1024 * 1024;
  std::size_t pending_inbound_max = 64;          // accepted sockets still in WS upgrade
  std::uint32_t close_flush_timeout_ms = 2'000;  // close(): time to flush and see the peer's FIN
};

struct StreamTransportCallbacks {
  // An inbound connection is ready (after the upgrade, for WebSocket).
  // Outbound connections are announced by on_dialed only.
  std::function<void(const ConnectionInfo&)> on_open;
  std::function<void(DialId, const ConnectionInfo&)> on_dialed;
  // Why, in words: "... connection refused", "... timed out after 6000 ms",
  // "bad address ...", "cannot resolve ...".
  std::function<void(DialId, std::string error)> on_dial_failed;
  // `data` is valid only during the call.
  std::function<void(ConnectionId, ByteView data)> on_data;
  // "closed locally" (after our close(); "closed locally (flush timed out,
  // N bytes unsent)" when the peer would not take them), "closed by remote",
  // "closed by remote (websocket close)", "connection reset by peer",
  // "send queue over send_queue_bytes_max (N bytes)", "websocket message
  // over websocket_message_bytes_max (N bytes)", ...
  std::function<void(ConnectionId, std::string reason)> on_closed;
};

// Counted reasons for limits and failures (also logged when they happen).
struct StreamTransportStats {
  std::uint64_t connections_opened = 0;  // inbound and outbound
  std::uint64_t dials_failed = 0;
  std::uint64_t send_queue_overflows = 0;  // closed for send_queue_bytes_max
  std::uint64_t inbound_refused = 0;       // accepted over pending_inbound_max, closed at once
  std::uint64_t upgrades_failed = 0;       // inbound WebSocket upgrades bad or timed out
};

class StreamTransport {
 public:
  StreamTransport(EventLoop& loop, StreamTransportOptions options, StreamTransportCallbacks callbacks);
  // Closes every listener, dial and connection at once, calling no callback.
  ~StreamTransport();
  StreamTransport(const StreamTransport&) = delete;
  StreamTransport& operator=(const StreamTransport&) = delete;

  // Listens on /ip4|ip6/<address>/tcp/<port>[/ws] (port 0 picks a free
  // port). Returns the bound address with the real port. /ip6/ listeners
  // are IPv6-only: listen on 0.0.0.0 as well for IPv4.
  Result<Multiaddr> listen(const Multiaddr& address);
  // Dials /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/ws][/p2p/<id>]; the
  // /p2p part is ignored here. DNS names resolve asynchronously and each
  // resolved address is tried in turn. The result arrives as on_dialed or
  // on_dial_failed, never during this call.
  DialId dial(const Multiaddr& address);

  // Queues bytes in order; queued buffers are written together. Ignored for
  // unknown, closing or closed connections.
  void send(ConnectionId id, Bytes data);
  // Flushes what is queued, ends the stream politely, then closes; on_closed
  // fires once with "closed locally". No on_data is delivered after this.
  // Idempotent; unknown ids are ignored.
  void close(ConnectionId id);
  // Backpressure from above: while paused no on_data is delivered and the
  // socket is not read (at most one read chunk waits in memory).
  void pause_reading(ConnectionId id, bool paused);
  // Bytes accepted by send() and not yet written to the socket (0 if unknown).
  std::size_t queued_bytes(ConnectionId id) const;
  std::optional<ConnectionInfo> connection_info(ConnectionId id) const;
  std::size_t connection_count() const;  // includes connections still closing
  std::vector<Multiaddr> listen_addresses() const;
  StreamTransportStats stats() const;

  struct State;  // shared with the sockets' pending operations (defined in the .cpp)

 private:
  std::shared_ptr<State> state_;
};

}  // namespace taho::runtime::asio
