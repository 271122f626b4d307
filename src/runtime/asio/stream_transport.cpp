#include "runtime/asio/stream_transport.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cctype>
#include <chrono>
#include <deque>
#include <optional>
#include <spdlog/spdlog.h>
#include <unordered_map>
#include <utility>

#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/websocket.hpp"

namespace taho::runtime::asio {

// Most bytes per TCP write operation: large enough that syscalls amortize,
// small enough that one write does not hold a lot of completed bytes.
constexpr std::size_t kTcpWriteBatchBytesMax = 4 * 1024 * 1024;

namespace detail {

using tcp = boost::asio::ip::tcp;

std::string describe_socket_error(const boost::system::error_code& error) {
  namespace errors = boost::asio::error;
  if (error == errors::eof) return "closed by remote";
  if (error == errors::connection_refused) return "connection refused";
  if (error == errors::connection_reset) return "connection reset by peer";
  if (error == errors::broken_pipe) return "connection reset by peer (broken pipe)";
  if (error == errors::timed_out) return "timed out (reported by the operating system)";
  if (error == errors::address_in_use) return "address already in use";
  if (error == boost::system::errc::address_not_available) return "address not available on this host";
  if (error == errors::network_unreachable) return "network unreachable";
  if (error == errors::host_unreachable) return "host unreachable";
  if (error == errors::access_denied) return "permission denied";
  if (error == errors::host_not_found) return "host not found";
  if (error == errors::host_not_found_try_again) return "host not found (temporary failure in name resolution)";
  if (error == errors::no_data) return "no address of the requested family";
  std::string text = error.message();
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

namespace {

// asio's transfer_all hands each write_some (one sendmsg) at most 64 KiB, so
// a batch of megabytes took dozens of syscalls, each waking the peer; this
// completion condition lets one sendmsg take a whole batch if the socket
// buffer has room.
struct TransferAllInLargeWrites {
  std::size_t operator()(const boost::system::error_code& error, std::size_t) const {
    return error ? 0 : kTcpWriteBatchBytesMax;
  }
};

class TcpChannel final : public ByteChannel {
 public:
  explicit TcpChannel(tcp::socket socket) : socket_(std::move(socket)) {}

  void async_read_some(MutableByteView buffer, IoHandler handler) override {
    socket_.async_read_some(boost::asio::buffer(buffer.data(), buffer.size()), std::move(handler));
  }

  void async_write(std::span<const ByteView> buffers, IoHandler handler) override {
    write_buffers_.clear();
    for (const ByteView bytes : buffers) write_buffers_.emplace_back(bytes.data(), bytes.size());
    boost::asio::async_write(socket_, write_buffers_, TransferAllInLargeWrites{}, std::move(handler));
  }

  void async_shutdown(DoneHandler handler) override {
    boost::system::error_code error;
    socket_.shutdown(tcp::socket::shutdown_send, error);
    boost::asio::post(socket_.get_executor(), [handler = std::move(handler), error] { handler(error); });
  }

  void close() override {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  std::string describe(const boost::system::error_code& error) const override { return describe_socket_error(error); }

  tcp::socket& socket() override { return socket_; }

 private:
  tcp::socket socket_;
  std::vector<boost::asio::const_buffer> write_buffers_;
};

}  // namespace

std::unique_ptr<ByteChannel> make_tcp_channel(tcp::socket socket) {
  return std::make_unique<TcpChannel>(std::move(socket));
}

}  // namespace detail

namespace {

using Protocol = ::taho::multiaddr::Protocol;
using tcp = boost::asio::ip::tcp;
using detail::ByteChannel;
using detail::WebSocketChannel;

// Most buffers gathered into one write (Linux takes up to 1024 iovecs; asio
// passes at most 64 per call anyway).
constexpr std::size_t kWriteBatchBuffersMax = 64;
// A new connection reads into this much; the buffer grows while reads fill it.
constexpr std::size_t kReadBufferStartBytes = 4 * 1024;
// A failing accept (e.g. out of file descriptors) is retried after this.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};

std::chrono::milliseconds milliseconds(std::uint32_t count) { return std::chrono::milliseconds(count); }

// What a stream address names: a host (IP literal or DNS name), a TCP port,
// and whether the WebSocket upgrade runs on top.
struct StreamTarget {
  Protocol host_protocol = Protocol::ip4;
  std::string host;
  std::optional<boost::asio::ip::address> ip;  // set for ip4 / ip6
  std::uint16_t port = 0;
  bool websocket = false;

  // The Host header and log form: "1.2.3.4:5", "[::1]:5", "name:5".
  std::string host_and_port() const {
    const bool bracket = host_protocol == Protocol::ip6;
    return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};

Result<StreamTarget> parse_target(const Multiaddr& address, bool allow_dns) {
  const std::string expected =
      allow_dns ? "/ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>[/ws][/p2p/<id>]" : "/ip4|ip6/<address>/tcp/<port>[/ws]";
  const auto bad = [&](const std::string& why) {
    return fail("bad address " + address.to_string() + ": " + why + " (expected " + expected + ")");
  };
  const auto& components = address.components();
  if (components.size() < 2) return bad("too short");
  StreamTarget target;
  target.host_protocol = components[0].protocol();
  switch (target.host_protocol) {
    case Protocol::ip4:
    case Protocol::ip6: {
      target.host = components[0].value_text();
      boost::system::error_code error;
      target.ip = boost::asio::ip::make_address(target.host, error);
      if (error) return bad("unusable IP address");
      break;
    }
    case Protocol::dns:
    case Protocol::dns4:
    case Protocol::dns6:
      if (!allow_dns) return bad("a listener needs an IP address, not a DNS name");
      target.host = components[0].value_text();
      break;
    default:
      return bad("unsupported first component /" + std::string(components[0].name()));
  }
  if (components[1].protocol() != Protocol::tcp || !components[1].port()) return bad("no /tcp/<port>");
  target.port = *components[1].port();
  std::size_t next = 2;
  if (next < components.size() && components[next].protocol() == Protocol::ws) {
    target.websocket = true;
    ++next;
  }
  if (allow_dns && next < components.size() && components[next].protocol() == Protocol::p2p) ++next;
  if (next < components.size()) return bad("unsupported component /" + std::string(components[next].name()));
  return target;
}

// The multiaddr of a socket endpoint; IPv6 zones are dropped (multiaddr has
// no room for them) and IPv4-mapped IPv6 addresses print as IPv4.
Multiaddr endpoint_multiaddr(const tcp::endpoint& endpoint, bool websocket) {
  boost::asio::ip::address address = endpoint.address();
  std::string text;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v4()) {
    text = "/ip4/" + address.to_string();
  } else {
    auto v6 = address.to_v6();
    v6.scope_id(0);
    text = "/ip6/" + v6.to_string();
  }
  text += "/tcp/" + std::to_string(endpoint.port());
  if (websocket) text += "/ws";
  auto parsed = Multiaddr::parse(text);
  return parsed ? *parsed : Multiaddr{};
}

detail::WebSocketLimits websocket_limits(const StreamTransportOptions& options) {
  return {options.websocket_message_bytes_max, options.websocket_handshake_timeout_ms};
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) out += separator;
    out += part;
  }
  return out;
}

class Connection;
class Dialer;
class Listener;
class InboundUpgrade;

}  // namespace

struct StreamTransport::State : std::enable_shared_from_this<StreamTransport::State> {
  State(boost::asio::io_context& io, StreamTransportOptions opts, StreamTransportCallbacks calls)
      : context(io), options(std::move(opts)), callbacks(std::move(calls)) {
    options.read_chunk_bytes = std::max<std::size_t>(options.read_chunk_bytes, 1);
    options.websocket_message_bytes_max = std::max<std::size_t>(options.websocket_message_bytes_max, 1);
  }

  boost::asio::io_context& context;
  StreamTransportOptions options;
  const StreamTransportCallbacks callbacks;
  StreamTransportStats stats;
  bool shut_down = false;  // the StreamTransport is gone: call nothing

  ConnectionId next_connection_id = 1;
  DialId next_dial_id = 1;
  std::uint64_t next_upgrade_id = 1;
  std::unordered_map<ConnectionId, std::shared_ptr<Connection>> connections;
  std::unordered_map<DialId, std::shared_ptr<Dialer>> dials;
  std::unordered_map<std::uint64_t, std::shared_ptr<InboundUpgrade>> upgrades;
  std::vector<std::shared_ptr<Listener>> listeners;

  // Registers an established stream; the caller announces it, then starts it.
  std::shared_ptr<Connection> adopt(std::unique_ptr<ByteChannel> channel, Transport transport, bool inbound);
  void accepted(tcp::socket socket, bool websocket);
  void post_closed(ConnectionId id, std::string reason);
  void shutdown();
};

namespace {

using State = StreamTransport::State;

// One established stream: an ordered send queue written in gathered
// batches, a read loop that honours pause_reading, and the close sequence
// (flush, polite shutdown, wait for the peer's end, bounded by a timer).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<State> state, ConnectionInfo info, std::unique_ptr<ByteChannel> channel)
      : state_(std::move(state)),
        info_(std::move(info)),
        channel_(std::move(channel)),
        read_buffer_(std::min(kReadBufferStartBytes, state_->options.read_chunk_bytes)),
        write_batch_bytes_max_(info_.transport == Transport::websocket ? state_->options.websocket_message_bytes_max
                                                                       : kTcpWriteBatchBytesMax),
        close_timer_(state_->context) {}

  const ConnectionInfo& info() const { return info_; }
  std::size_t queued_bytes() const { return queued_bytes_; }

  void start() { read_next(); }

  void send(Bytes data) {
    if (phase_ != Phase::open || data.empty()) return;
    const std::size_t limit = state_->options.send_queue_bytes_max;
    if (data.size() > limit - std::min(limit, queued_bytes_)) {
      ++state_->stats.send_queue_overflows;
      spdlog::warn("transport: closing connection {} ({}): {} queued + {} more is over send_queue_bytes_max {}",
                   info_.id, info_.remote.to_string(), queued_bytes_, data.size(), limit);
      terminate("send queue over send_queue_bytes_max (" + std::to_string(limit) + " bytes)", true);
      return;
    }
    queued_bytes_ += data.size();
    queue_.push_back(std::move(data));
    write_next();
  }

  void close() {
    if (phase_ != Phase::open) return;
    phase_ = Phase::closing;
    held_bytes_ = 0;  // undelivered data is dropped: no on_data after close()
    close_timer_.expires_after(milliseconds(state_->options.close_flush_timeout_ms));
    close_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error || self->phase_ == Phase::closed) return;
      spdlog::debug("transport: connection {}: close flush timed out with {} bytes unsent", self->info_.id,
                    self->queued_bytes_);
      self->terminate("closed locally (flush timed out, " + std::to_string(self->queued_bytes_) + " bytes unsent)",
                      true);
    });
    if (!writing_ && queue_.empty()) begin_shutdown();
    read_next();  // keep reading, discarding, to see the peer's end
  }

  void pause(bool paused) {
    if (phase_ != Phase::open || paused_ == paused) return;
    paused_ = paused;
    if (!paused_) {
      boost::asio::post(state_->context, [self = shared_from_this()] { self->resume(); });
    }
  }

  // Ends the connection at once. on_closed is posted unless `notify` is false.
  void terminate(const std::string& reason, bool notify) {
    if (phase_ == Phase::closed) return;
    const auto keep_alive = shared_from_this();  // the map may hold the last reference
    phase_ = Phase::closed;
    close_timer_.cancel();
    channel_->close();  // pending operations end with errors; their buffers stay alive with us
    queued_bytes_ = 0;
    state_->connections.erase(info_.id);
    spdlog::debug("transport: connection {} ({}) closed: {}", info_.id, info_.remote.to_string(), reason);
    if (notify) state_->post_closed(info_.id, reason);
  }

 private:
  enum class Phase { open, closing, closed };

  void read_next() {
    if (reading_ || phase_ == Phase::closed) return;
    if (phase_ == Phase::open && (paused_ || held_bytes_ > 0)) return;
    reading_ = true;
    channel_->async_read_some(read_buffer_,
                              [self = shared_from_this()](const boost::system::error_code& error, std::size_t count) {
                                self->on_read(error, count);
                              });
  }

  void on_read(const boost::system::error_code& error, std::size_t count) {
    reading_ = false;
    if (phase_ == Phase::closed) return;
    if (phase_ == Phase::closing) {
      if (!error) {
        read_next();
        return;
      }
      // The peer finished (or vanished). Done, unless our bytes still flush.
      peer_finished_ = true;
      if (shutdown_started_) terminate("closed locally", true);
      return;
    }
    if (error) {
      terminate(channel_->describe(error), true);
      return;
    }
    if (paused_) {
      held_bytes_ = count;
      return;
    }
    deliver(count);
    grow_read_buffer_if_full(count);
    read_next();
  }

  // Idle connections keep a small read buffer; one that fills it grows it
  // (doubling) up to read_chunk_bytes for bulk transfers.
  void grow_read_buffer_if_full(std::size_t count) {
    if (count == read_buffer_.size() && read_buffer_.size() < state_->options.read_chunk_bytes) {
      read_buffer_.resize(std::min(read_buffer_.size() * 2, state_->options.read_chunk_bytes));
    }
  }

  void resume() {
    if (phase_ != Phase::open || paused_) return;
    if (held_bytes_ > 0) {
      const std::size_t count = held_bytes_;
      held_bytes_ = 0;
      deliver(count);
      grow_read_buffer_if_full(count);
    }
    read_next();
  }

  void deliver(std::size_t count) {
    if (count == 0 || !state_->callbacks.on_data) return;
    state_->callbacks.on_data(info_.id, ByteView(read_buffer_.data(), count));
  }

  void write_next() {
    if (writing_ || queue_.empty() || phase_ == Phase::closed) return;
    batch_.clear();
    std::size_t total = 0;
    std::size_t offset = front_offset_;
    for (const Bytes& buffer : queue_) {
      if (batch_.size() == kWriteBatchBuffersMax || total == write_batch_bytes_max_) break;
      ByteView view = ByteView(buffer).subspan(offset);
      offset = 0;
      view = view.first(std::min(view.size(), write_batch_bytes_max_ - total));
      batch_.push_back(view);
      total += view.size();
    }
    writing_ = true;
    channel_->async_write(batch_, [self = shared_from_this(), total](const boost::system::error_code& error,
                                                                     std::size_t) { self->on_written(error, total); });
  }

  void on_written(const boost::system::error_code& error, std::size_t total) {
    writing_ = false;
    if (phase_ == Phase::closed) return;
    if (error) {
      terminate(phase_ == Phase::closing ? "closed locally (flush failed: " + channel_->describe(error) + ")"
                                         : channel_->describe(error),
                true);
      return;
    }
    consume(total);
    if (!queue_.empty()) {
      write_next();
    } else if (phase_ == Phase::closing) {
      begin_shutdown();
    }
  }

  void consume(std::size_t count) {
    queued_bytes_ -= count;
    while (count > 0) {
      const std::size_t remaining = queue_.front().size() - front_offset_;
      if (count < remaining) {
        front_offset_ += count;
        return;
      }
      count -= remaining;
      queue_.pop_front();
      front_offset_ = 0;
    }
  }

  void begin_shutdown() {
    if (shutdown_started_) return;
    shutdown_started_ = true;
    if (peer_finished_) {
      terminate("closed locally", true);
      return;
    }
    channel_->async_shutdown([self = shared_from_this()](const boost::system::error_code& error) {
      // Success: wait for the read loop to see the peer's end.
      if (error && self->phase_ != Phase::closed) self->terminate("closed locally", true);
    });
  }

  std::shared_ptr<State> state_;
  const ConnectionInfo info_;
  std::unique_ptr<ByteChannel> channel_;
  Phase phase_ = Phase::open;

  Bytes read_buffer_;
  bool reading_ = false;
  bool paused_ = false;
  std::size_t held_bytes_ = 0;  // read while paused, waiting in read_buffer_

  std::deque<Bytes> queue_;
  std::size_t front_offset_ = 0;  // bytes of queue_.front() already written
  std::size_t queued_bytes_ = 0;
  const std::size_t write_batch_bytes_max_;
  std::vector<ByteView> batch_;
  bool writing_ = false;

  bool shutdown_started_ = false;
  bool peer_finished_ = false;
  boost::asio::steady_timer close_timer_;
};

// One outbound dial: resolve (DNS), then try each address in turn, each
// bounded by dial_timeout_ms for TCP connect plus the WebSocket upgrade.
class Dialer : public std::enable_shared_from_this<Dialer> {
 public:
  Dialer(std::shared_ptr<State> state, DialId id, Multiaddr address, StreamTarget target)
      : state_(std::move(state)),
        id_(id),
        address_(std::move(address)),
        target_(std::move(target)),
        resolver_(state_->context),
        timer_(state_->context) {}

  void start() {
    if (target_.ip) {
      endpoints_.emplace_back(*target_.ip, target_.port);
      try_next();
    } else {
      resolve();
    }
  }

  // The transport is going away: stop without callbacks.
  void abort() {
    done_ = true;
    ++attempt_;
    timer_.cancel();
    resolver_.cancel();
    drop_sockets();
  }

 private:
  std::uint32_t timeout_ms() const { return state_->options.dial_timeout_ms; }

  void resolve() {
    const std::uint64_t attempt = ++attempt_;
    arm_timer(attempt, [this] {
      resolver_.cancel();
      failures_.push_back("cannot resolve " + target_.host + ": timed out after " + std::to_string(timeout_ms()) +
                          " ms");
      finish_failed();
    });
    auto handler = [self = shared_from_this(), attempt](const boost::system::error_code& error,
                                                        const tcp::resolver::results_type& results) {
      if (self->stale(attempt)) return;
      if (error) {
        self->failures_.push_back("cannot resolve " + self->target_.host + ": " + detail::describe_socket_error(error));
        self->finish_failed();
        return;
      }
      for (const auto& entry : results) self->endpoints_.push_back(entry.endpoint());
      self->try_next();
    };
    const std::string port = std::to_string(target_.port);
    const auto flags = tcp::resolver::numeric_service;
    if (target_.host_protocol == Protocol::dns4) {
      resolver_.async_resolve(tcp::v4(), target_.host, port, flags, std::move(handler));
    } else if (target_.host_protocol == Protocol::dns6) {
      resolver_.async_resolve(tcp::v6(), target_.host, port, flags, std::move(handler));
    } else {
      resolver_.async_resolve(target_.host, port, flags, std::move(handler));
    }
  }

  void try_next() {
    drop_sockets();
    if (next_endpoint_ == endpoints_.size()) {
      if (endpoints_.empty()) failures_.push_back("cannot resolve " + target_.host + ": no addresses");
      finish_failed();
      return;
    }
    endpoint_ = endpoints_[next_endpoint_++];
    const std::uint64_t attempt = ++attempt_;
    arm_timer(attempt, [this] {
      failures_.push_back(describe_endpoint() + "timed out after " + std::to_string(timeout_ms()) + " ms");
      try_next();
    });
    socket_.emplace(state_->context);
    socket_->async_connect(endpoint_, [self = shared_from_this(), attempt](const boost::system::error_code& error) {
      if (self->stale(attempt)) return;
      self->on_connected(attempt, error);
    });
  }

  void on_connected(std::uint64_t attempt, const boost::system::error_code& error) {
    if (error) {
      failures_.push_back(describe_endpoint() + detail::describe_socket_error(error));
      try_next();
      return;
    }
    boost::system::error_code ignored;
    socket_->set_option(tcp::no_delay(true), ignored);
    if (!target_.websocket) {
      succeed(detail::make_tcp_channel(std::move(*socket_)));
      return;
    }
    websocket_ = WebSocketChannel::make(std::move(*socket_), websocket_limits(state_->options));
    websocket_->async_handshake(target_.host_and_port(), [self = shared_from_this(),
                                                          attempt](const boost::system::error_code& handshake_error) {
      if (self->stale(attempt)) return;
      if (handshake_error) {
        self->failures_.push_back(self->describe_endpoint() +
                                  "websocket upgrade failed: " + self->websocket_->describe(handshake_error));
        self->try_next();
        return;
      }
      self->succeed(std::move(self->websocket_));
    });
  }

  template <class OnTimeout>
  void arm_timer(std::uint64_t attempt, OnTimeout on_timeout) {
    timer_.expires_after(milliseconds(timeout_ms()));
    timer_.async_wait([self = shared_from_this(), attempt, on_timeout](const boost::system::error_code& error) {
      if (error || self->stale(attempt)) return;
      ++self->attempt_;  // whatever is still pending for this attempt is now stale
      on_timeout();
    });
  }

  bool stale(std::uint64_t attempt) const { return done_ || attempt != attempt_ || state_->shut_down; }

  std::string describe_endpoint() const {
    if (endpoints_.size() <= 1 && target_.ip) return "";
    std::string text = endpoint_.address().to_string();
    if (endpoint_.address().is_v6()) text = "[" + text + "]";
    return text + ":" + std::to_string(endpoint_.port()) + ": ";
  }

  void drop_sockets() {
    if (websocket_) websocket_->close();
    boost::system::error_code ignored;
    if (socket_ && socket_->is_open()) socket_->close(ignored);
  }

  void succeed(std::unique_ptr<ByteChannel> channel) {
    const auto keep_alive = shared_from_this();
    done_ = true;
    timer_.cancel();
    state_->dials.erase(id_);
    auto connection =
        state_->adopt(std::move(channel), target_.websocket ? Transport::websocket : Transport::tcp, false);
    if (state_->callbacks.on_dialed) state_->callbacks.on_dialed(id_, connection->info());
    connection->start();
  }

  void finish_failed() {
    const auto keep_alive = shared_from_this();
    done_ = true;
    timer_.cancel();
    drop_sockets();
    state_->dials.erase(id_);
    ++state_->stats.dials_failed;
    const std::string message = address_.to_string() + ": " + join(failures_, "; ");
    spdlog::debug("transport: dial {} failed: {}", id_, message);
    if (state_->callbacks.on_dial_failed) state_->callbacks.on_dial_failed(id_, message);
  }

  std::shared_ptr<State> state_;
  const DialId id_;
  const Multiaddr address_;
  const StreamTarget target_;
  tcp::resolver resolver_;
  boost::asio::steady_timer timer_;
  std::vector<tcp::endpoint> endpoints_;
  std::size_t next_endpoint_ = 0;
  tcp::endpoint endpoint_;
  std::optional<tcp::socket> socket_;
  std::unique_ptr<WebSocketChannel> websocket_;
  std::uint64_t attempt_ = 0;  // handlers of earlier attempts are ignored
  bool done_ = false;
  std::vector<std::string> failures_;
};

// An accepted socket in its WebSocket upgrade, bounded by
// websocket_handshake_timeout_ms.
class InboundUpgrade : public std::enable_shared_from_this<InboundUpgrade> {
 public:
  InboundUpgrade(std::shared_ptr<State> state, std::uint64_t id, std::unique_ptr<WebSocketChannel> channel)
      : state_(std::move(state)), id_(id), channel_(std::move(channel)), timer_(state_->context) {}

  void start() {
    boost::system::error_code ignored;
    remote_ = channel_->socket().remote_endpoint(ignored);
    timer_.expires_after(milliseconds(state_->options.websocket_handshake_timeout_ms));
    timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
      if (error || self->done_) return;
      self->give_up("timed out after " + std::to_string(self->state_->options.websocket_handshake_timeout_ms) + " ms");
    });
    channel_->async_accept([self = shared_from_this()](const boost::system::error_code& error) {
      if (self->done_) return;
      if (error) {
        self->give_up(self->channel_->describe(error));
        return;
      }
      self->done_ = true;
      self->timer_.cancel();
      self->state_->upgrades.erase(self->id_);
      auto connection = self->state_->adopt(std::move(self->channel_), Transport::websocket, true);
      if (self->state_->callbacks.on_open) self->state_->callbacks.on_open(connection->info());
      connection->start();
    });
  }

  // Closes the socket; `reason` is logged (empty when the transport is going away).
  void give_up(const std::string& reason) {
    if (done_) return;
    const auto keep_alive = shared_from_this();
    done_ = true;
    timer_.cancel();
    channel_->close();
    state_->upgrades.erase(id_);
    if (!reason.empty()) {
      ++state_->stats.upgrades_failed;
      spdlog::debug("transport: websocket upgrade from {} failed: {}", remote_.address().to_string(), reason);
    }
  }

 private:
  std::shared_ptr<State> state_;
  const std::uint64_t id_;
  std::unique_ptr<WebSocketChannel> channel_;
  boost::asio::steady_timer timer_;
  tcp::endpoint remote_;
  bool done_ = false;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(std::shared_ptr<State> state, tcp::acceptor acceptor, bool websocket, Multiaddr bound)
      : state_(std::move(state)),
        acceptor_(std::move(acceptor)),
        retry_timer_(state_->context),
        websocket_(websocket),
        bound_(std::move(bound)) {}

  const Multiaddr& bound() const { return bound_; }

  void accept_next() {
    acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& error, tcp::socket socket) {
      if (self->stopped_ || self->state_->shut_down) return;
      if (error) {
        spdlog::warn("transport: accept on {} failed: {}; retrying", self->bound_.to_string(), error.message());
        self->retry_timer_.expires_after(kAcceptRetryDelay);
        self->retry_timer_.async_wait([self](const boost::system::error_code& wait_error) {
          if (!wait_error && !self->stopped_) self->accept_next();
        });
        return;
      }
      self->accept_next();
      self->state_->accepted(std::move(socket), self->websocket_);
    });
  }

  void stop() {
    stopped_ = true;
    retry_timer_.cancel();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }

 private:
  std::shared_ptr<State> state_;
  tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  const bool websocket_;
  const Multiaddr bound_;
  bool stopped_ = false;
};

}  // namespace

std::shared_ptr<Connection> StreamTransport::State::adopt(std::unique_ptr<ByteChannel> channel, Transport transport,
                                                          bool inbound) {
  ConnectionInfo info;
  info.id = next_connection_id++;
  info.transport = transport;
  info.inbound = inbound;
  boost::system::error_code error;
  const bool websocket = transport == Transport::websocket;
  const auto local = channel->socket().local_endpoint(error);
  if (!error) info.local = endpoint_multiaddr(local, websocket);
  const auto remote = channel->socket().remote_endpoint(error);
  if (!error) info.remote = endpoint_multiaddr(remote, websocket);
  ++stats.connections_opened;
  spdlog::debug("transport: connection {} {} {}", info.id, inbound ? "from" : "to", info.remote.to_string());
  auto connection = std::make_shared<Connection>(shared_from_this(), std::move(info), std::move(channel));
  connections.emplace(connection->info().id, connection);
  return connection;
}

void StreamTransport::State::accepted(tcp::socket socket, bool websocket) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  if (!websocket) {
    auto connection = adopt(detail::make_tcp_channel(std::move(socket)), Transport::tcp, true);
    if (callbacks.on_open) callbacks.on_open(connection->info());
    connection->start();
    return;
  }
  if (upgrades.size() >= options.pending_inbound_max) {
    ++stats.inbound_refused;
    spdlog::warn("transport: refusing a websocket connection: {} upgrades pending (pending_inbound_max)",
                 upgrades.size());
    socket.close(ignored);
    return;
  }
  const std::uint64_t id = next_upgrade_id++;
  auto upgrade = std::make_shared<InboundUpgrade>(shared_from_this(), id,
                                                  WebSocketChannel::make(std::move(socket), websocket_limits(options)));
  upgrades.emplace(id, upgrade);
  upgrade->start();
}

void StreamTransport::State::post_closed(ConnectionId id, std::string reason) {
  boost::asio::post(context, [state = shared_from_this(), id, reason = std::move(reason)] {
    if (!state->shut_down && state->callbacks.on_closed) state->callbacks.on_closed(id, reason);
  });
}

void StreamTransport::State::shutdown() {
  shut_down = true;
  for (auto& listener : listeners) listener->stop();
  listeners.clear();
  // Each of these erases itself from its map: iterate over moved-out copies.
  auto closing_dials = std::move(dials);
  for (auto& [id, dialer] : closing_dials) dialer->abort();
  auto closing_upgrades = std::move(upgrades);
  for (auto& [id, upgrade] : closing_upgrades) upgrade->give_up({});
  auto closing_connections = std::move(connections);
  for (auto& [id, connection] : closing_connections) connection->terminate("transport destroyed", false);
  dials.clear();
  upgrades.clear();
  connections.clear();
}

StreamTransport::StreamTransport(EventLoop& loop, StreamTransportOptions options, StreamTransportCallbacks callbacks)
    : state_(std::make_shared<State>(loop.context(), std::move(options), std::move(callbacks))) {}

StreamTransport::~StreamTransport() { state_->shutdown(); }

Result<Multiaddr> StreamTransport::listen(const Multiaddr& address) {
  auto target = parse_target(address, false);
  if (!target) return fail(target.error().text);
  const tcp::endpoint endpoint(*target->ip, target->port);
  tcp::acceptor acceptor(state_->context);
  boost::system::error_code error;
  acceptor.open(endpoint.protocol(), error);
  if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  // An /ip6/ listener serves IPv6 only, so /ip4/0.0.0.0 can listen beside it.
  if (!error && endpoint.address().is_v6()) acceptor.set_option(boost::asio::ip::v6_only(true), error);
  if (!error) acceptor.bind(endpoint, error);
  if (!error) acceptor.listen(boost::asio::socket_base::max_listen_connections, error);
  if (error) return fail("cannot listen on " + address.to_string() + ": " + detail::describe_socket_error(error));
  const auto local = acceptor.local_endpoint(error);
  if (error) return fail("cannot listen on " + address.to_string() + ": " + detail::describe_socket_error(error));
  auto bound = endpoint_multiaddr(local, target->websocket);
  auto listener = std::make_shared<Listener>(state_, std::move(acceptor), target->websocket, bound);
  state_->listeners.push_back(listener);
  listener->accept_next();
  spdlog::debug("transport: listening on {}", bound.to_string());
  return bound;
}

DialId StreamTransport::dial(const Multiaddr& address) {
  const DialId id = state_->next_dial_id++;
  auto target = parse_target(address, true);
  if (!target) {
    ++state_->stats.dials_failed;
    boost::asio::post(state_->context, [state = state_, id, message = target.error().text] {
      if (!state->shut_down && state->callbacks.on_dial_failed) state->callbacks.on_dial_failed(id, message);
    });
    return id;
  }
  auto dialer = std::make_shared<Dialer>(state_, id, address, std::move(*target));
  state_->dials.emplace(id, dialer);
  // Started from the loop so that no result can arrive inside this call.
  boost::asio::post(state_->context, [dialer, state = state_] {
    if (!state->shut_down) dialer->start();
  });
  return id;
}

void StreamTransport::send(ConnectionId id, Bytes data) {
  if (auto found = state_->connections.find(id); found != state_->connections.end()) {
    found->second->send(std::move(data));
  }
}

void StreamTransport::close(ConnectionId id) {
  if (auto found = state_->connections.find(id); found != state_->connections.end()) found->second->close();
}

void StreamTransport::pause_reading(ConnectionId id, bool paused) {
  if (auto found = state_->connections.find(id); found != state_->connections.end()) found->second->pause(paused);
}

std::size_t StreamTransport::queued_bytes(ConnectionId id) const {
  const auto found = state_->connections.find(id);
  return found == state_->connections.end() ? 0 : found->second->queued_bytes();
}

std::optional<ConnectionInfo> StreamTransport::connection_info(ConnectionId id) const {
  const auto found = state_->connections.find(id);
  if (found == state_->connections.end()) return std::nullopt;
  return found->second->info();
}

std::size_t StreamTransport::connection_count() const { return state_->connections.size(); }

std::vector<Multiaddr> StreamTransport::listen_addresses() const {
  std::vector<Multiaddr> out;
  for (const auto& listener : state_->listeners) out.push_back(listener->bound());
  return out;
}

StreamTransportStats StreamTransport::stats() const { return state_->stats; }

}  // namespace taho::runtime::asio
