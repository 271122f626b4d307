// The WebSocket byte channel (RFC 6455 via Boost.Beast), as js-libp2p's
// @libp2p/websockets speaks it: binary messages whose payloads concatenate
// into the byte stream, no subprotocol, no compression.
#include "runtime/asio/websocket.hpp"

#include <boost/beast/core/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <utility>
#include <vector>

namespace taho::runtime::asio::detail {
namespace {

namespace websocket = boost::beast::websocket;
using tcp = boost::asio::ip::tcp;

class BeastWebSocketChannel final : public WebSocketChannel {
 public:
  BeastWebSocketChannel(tcp::socket socket, WebSocketLimits limits)
      : teardown_timer_(socket.get_executor()), stream_(std::move(socket)), limits_(limits) {
    websocket::permessage_deflate no_compression;
    no_compression.server_enable = false;  // never accept a client's offer
    no_compression.client_enable = false;  // never offer it
    stream_.set_option(no_compression);
    stream_.read_message_max(limits_.message_bytes_max);
    stream_.binary(true);
    // One frame per message: peers count messages, and smaller frames only
    // cost headers. Masking (client side) still works through a buffer.
    stream_.auto_fragment(false);
    stream_.write_buffer_bytes(kMaskBufferBytes);
    // The transport times the opening handshake itself; Beast's handshake
    // timer bounds our close handshake (async_shutdown).
    stream_.set_option(websocket::stream_base::timeout{std::chrono::milliseconds(limits_.close_timeout_ms),
                                                       websocket::stream_base::none(), false});
    // After a peer's close frame, Beast (1.81) replies and then, as a server,
    // waits for the client to close TCP with no time limit: bound it here.
    stream_.control_callback([this](websocket::frame_type kind, boost::beast::string_view) {
      if (kind != websocket::frame_type::close) return;
      peer_sent_close_ = true;
      arm_teardown_timer();
    });
    stream_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& response) { response.set(boost::beast::http::field::server, "taho"); }));
  }

  void async_accept(DoneHandler handler) override { stream_.async_accept(std::move(handler)); }

  void async_handshake(std::string host, DoneHandler handler) override {
    host_ = std::move(host);
    stream_.async_handshake(host_, "/", std::move(handler));
  }

  void async_read_some(MutableByteView buffer, IoHandler handler) override {
    stream_.async_read_some(boost::asio::buffer(buffer.data(), buffer.size()), std::move(handler));
  }

  void async_write(std::span<const ByteView> buffers, IoHandler handler) override {
    write_buffers_.clear();
    for (const ByteView bytes : buffers) write_buffers_.emplace_back(bytes.data(), bytes.size());
    stream_.async_write(write_buffers_, std::move(handler));
  }

  void async_shutdown(DoneHandler handler) override {
    stream_.async_close(websocket::close_code::normal, std::move(handler));
  }

  void close() override {
    boost::system::error_code ignored;
    stream_.next_layer().close(ignored);
    teardown_timer_.cancel();
  }

  std::string describe(const boost::system::error_code& error) const override {
    // After the peer's close frame, whatever ends the teardown (even our
    // timer) is still the peer closing.
    if (error == websocket::error::closed || peer_sent_close_) return "closed by remote (websocket close)";
    if (error == websocket::error::message_too_big) {
      return "websocket message over websocket_message_bytes_max (" + std::to_string(limits_.message_bytes_max) +
             " bytes)";
    }
    if (error.category() == boost::beast::websocket::make_error_code(websocket::error::closed).category()) {
      return "websocket protocol error: " + error.message();
    }
    return describe_socket_error(error);
  }

  tcp::socket& socket() override { return stream_.next_layer(); }

 private:
  static constexpr std::size_t kMaskBufferBytes = 64 * 1024;

  void arm_teardown_timer() {
    teardown_timer_.expires_after(std::chrono::milliseconds(limits_.close_timeout_ms));
    teardown_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
      if (error || alive.expired()) return;  // `this` may be gone when the timer was destroyed
      close();
    });
  }

  bool peer_sent_close_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  boost::asio::steady_timer teardown_timer_;

  websocket::stream<tcp::socket> stream_;
  WebSocketLimits limits_;
  std::string host_;  // must outlive the client handshake
  std::vector<boost::asio::const_buffer> write_buffers_;
};

}  // namespace

std::unique_ptr<WebSocketChannel> WebSocketChannel::make(tcp::socket socket, WebSocketLimits limits) {
  return std::make_unique<BeastWebSocketChannel>(std::move(socket), limits);
}

}  // namespace taho::runtime::asio::detail
