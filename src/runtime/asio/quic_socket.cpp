#include "runtime/asio/quic_socket.hpp"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <vector>

#include "runtime/asio/event_loop.hpp"

namespace taho::runtime::asio {

namespace ip = boost::asio::ip;

namespace {

std::optional<quic::UdpAddress> from_sockaddr(const sockaddr_storage& storage) {
  if (storage.ss_family == AF_INET) {
    const auto& in4 = reinterpret_cast<const sockaddr_in&>(storage);
    std::array<std::uint8_t, 4> octets{};
    std::memcpy(octets.data(), &in4.sin_addr, 4);
    return quic::UdpAddress::ipv4(octets, ntohs(in4.sin_port));
  }
  if (storage.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(storage);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6.sin6_addr, 16);
    return quic::UdpAddress::ipv6(bytes, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

socklen_t to_sockaddr(const quic::UdpAddress& address, sockaddr_storage& storage) {
  std::memset(&storage, 0, sizeof storage);
  if (address.is_ipv6) {
    auto& in6 = reinterpret_cast<sockaddr_in6&>(storage);
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(address.port);
    std::memcpy(&in6.sin6_addr, address.ip.data(), 16);
    return sizeof(sockaddr_in6);
  }
  auto& in4 = reinterpret_cast<sockaddr_in&>(storage);
  in4.sin_family = AF_INET;
  in4.sin_port = htons(address.port);
  std::memcpy(&in4.sin_addr, address.ip.data(), 4);
  return sizeof(sockaddr_in);
}

ip::udp::endpoint to_asio(const quic::UdpAddress& address) {
  if (address.is_ipv6) {
    ip::address_v6::bytes_type bytes{};
    std::copy(address.ip.begin(), address.ip.end(), bytes.begin());
    return {ip::address_v6(bytes), address.port};
  }
  return {ip::address_v4(ip::address_v4::bytes_type{address.ip[0], address.ip[1], address.ip[2], address.ip[3]}),
          address.port};
}

}  // namespace

struct QuicSocket::State : std::enable_shared_from_this<QuicSocket::State> {
  State(EventLoop& l, QuicSocketOptions o, EventHandler handler)
      : loop(l), options(std::move(o)), on_event(std::move(handler)), socket(l.context()), timer(l) {}

  EventLoop& loop;
  QuicSocketOptions options;
  EventHandler on_event;
  ip::udp::socket socket;
  Timer timer;
  std::unique_ptr<quic::Endpoint> endpoint;
  Multiaddr listen_address;
  QuicSocketStats stats;

  std::vector<std::uint8_t> receive_slots;  // batch_datagrams slots of receive_datagram_bytes_max
  std::deque<quic::Transmit> unsent;        // taken from the endpoint, waiting for a writable socket
  bool waiting_writable = false;
  bool flushing = false;
  bool flush_again = false;
  bool closed = false;

  void wait_readable() {
    if (closed) return;
    std::weak_ptr<State> weak = shared_from_this();
    socket.async_wait(ip::udp::socket::wait_read, [weak](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (!self || self->closed || error) return;
      self->receive();
    });
  }

  void receive() {
    const std::size_t batch = options.batch_datagrams;
    const std::size_t slot = options.receive_datagram_bytes_max;
    std::vector<mmsghdr> messages(batch);
    std::vector<iovec> vectors(batch);
    std::vector<sockaddr_storage> sources(batch);
    std::size_t handled = 0;
    while (handled < options.datagrams_per_wakeup_max) {
      for (std::size_t i = 0; i < batch; ++i) {
        vectors[i] = iovec{receive_slots.data() + i * slot, slot};
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &sources[i];
        messages[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
      const int count = ::recvmmsg(socket.native_handle(), messages.data(), static_cast<unsigned>(batch),
                                   MSG_DONTWAIT, nullptr);
      if (count <= 0) break;  // EAGAIN (drained) or an error the next wait reports again
      ++stats.receive_batches;
      const Instant now = loop.now();
      for (int i = 0; i < count; ++i) {
        const auto source = from_sockaddr(sources[static_cast<std::size_t>(i)]);
        if (!source) continue;
        ++stats.datagrams_received;
        endpoint->handle_datagram(
            now, ByteView(receive_slots.data() + static_cast<std::size_t>(i) * slot, messages[static_cast<std::size_t>(i)].msg_len),
            *source);
      }
      handled += static_cast<std::size_t>(count);
      if (static_cast<std::size_t>(count) < batch) break;
    }
    deliver_events();
    flush();
    if (handled >= options.datagrams_per_wakeup_max) {
      // More may wait: come back after other work on the loop had its turn.
      std::weak_ptr<State> weak = shared_from_this();
      boost::asio::post(loop.context(), [weak] {
        if (auto self = weak.lock(); self && !self->closed) self->receive();
      });
      return;
    }
    wait_readable();
  }

  // Returns whether any event was delivered (a handler may have queued
  // stream data that still needs sending).
  bool deliver_events() {
    bool delivered = false;
    while (auto event = endpoint->poll_event()) {
      delivered = true;
      if (on_event) on_event(*event);
      if (closed) break;
    }
    return delivered;
  }

  // Moves datagrams from the endpoint to the socket in sendmmsg batches
  // until the endpoint has nothing more or the socket would block.
  void flush() {
    if (closed) return;
    if (flushing) {  // called from an event handler inside a flush
      flush_again = true;
      return;
    }
    flushing = true;
    do {
      flush_again = false;
      send_pending();
      if (deliver_events()) flush_again = true;
    } while (flush_again && !closed);
    flushing = false;
    arm_timer();
  }

  void send_pending() {
    const std::size_t batch = options.batch_datagrams;
    std::vector<mmsghdr> messages(batch);
    std::vector<iovec> vectors(batch);
    std::vector<sockaddr_storage> destinations(batch);
    while (!waiting_writable) {
      const Instant now = loop.now();
      while (unsent.size() < batch) {
        auto transmit = endpoint->poll_transmit(now);
        if (!transmit) break;
        unsent.push_back(std::move(*transmit));
      }
      if (unsent.empty()) return;
      const std::size_t count = std::min(batch, unsent.size());
      for (std::size_t i = 0; i < count; ++i) {
        auto& transmit = unsent[i];
        vectors[i] = iovec{transmit.bytes.data(), transmit.bytes.size()};
        messages[i] = mmsghdr{};
        messages[i].msg_hdr.msg_iov = &vectors[i];
        messages[i].msg_hdr.msg_iovlen = 1;
        messages[i].msg_hdr.msg_name = &destinations[i];
        messages[i].msg_hdr.msg_namelen = to_sockaddr(transmit.remote, destinations[i]);
      }
      const int sent = ::sendmmsg(socket.native_handle(), messages.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
          wait_writable();
          return;
        }
        // Unreachable destination and the like: drop that datagram, QUIC recovers.
        ++stats.send_errors;
        unsent.pop_front();
        continue;
      }
      ++stats.send_batches;
      stats.datagrams_sent += static_cast<std::uint64_t>(sent);
      unsent.erase(unsent.begin(), unsent.begin() + sent);
    }
  }

  void wait_writable() {
    waiting_writable = true;
    std::weak_ptr<State> weak = shared_from_this();
    socket.async_wait(ip::udp::socket::wait_write, [weak](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (!self || self->closed) return;
      self->waiting_writable = false;
      if (!error) self->flush();
    });
  }

  void arm_timer() {
    const auto next = endpoint->next_timeout();
    if (!next) {
      timer.cancel();
      return;
    }
    std::weak_ptr<State> weak = shared_from_this();
    timer.arm_at(*next, [weak] {
      auto self = weak.lock();
      if (!self || self->closed) return;
      self->endpoint->handle_timeout(self->loop.now());
      self->deliver_events();
      self->flush();
    });
  }
};

Result<std::unique_ptr<QuicSocket>> QuicSocket::open(EventLoop& loop, const Multiaddr& listen,
                                                     const crypto::Ed25519KeyPair& host, Rng& rng,
                                                     QuicSocketOptions options, EventHandler on_event) {
  const auto address = quic::UdpAddress::from_multiaddr(listen);
  if (!address || !listen.has(multiaddr::Protocol::quic_v1)) {
    return fail("not a QUIC listen address (/ip4|ip6/<addr>/udp/<port>/quic-v1): " + listen.to_string());
  }
  if (options.batch_datagrams == 0 || options.receive_datagram_bytes_max < 1500) {
    return fail("QuicSocketOptions: batch_datagrams must be positive, receive slots at least 1500 bytes");
  }
  auto state = std::make_shared<State>(loop, std::move(options), std::move(on_event));
  boost::system::error_code error;
  const auto endpoint = to_asio(*address);
  state->socket.open(endpoint.protocol(), error);
  if (!error && address->is_ipv6) state->socket.set_option(ip::v6_only(true), error);
  if (!error) state->socket.bind(endpoint, error);
  if (error) return fail("cannot bind " + listen.to_string() + ": " + error.message());
  boost::system::error_code ignored;  // the kernel caps these at its maximum; smaller still works
  state->socket.set_option(boost::asio::socket_base::receive_buffer_size(state->options.socket_buffer_bytes), ignored);
  state->socket.set_option(boost::asio::socket_base::send_buffer_size(state->options.socket_buffer_bytes), ignored);
  state->socket.non_blocking(true, ignored);
  const auto bound = state->socket.local_endpoint(error);
  if (error) return fail("cannot read the bound address: " + error.message());
  quic::UdpAddress local = *address;
  local.port = bound.port();

  const auto unix_now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  auto created = quic::Endpoint::create(loop.now(), unix_now, local, host, rng, state->options.quic,
                                        state->options.certificate);
  if (!created) return unexpected(std::move(created).error());
  state->endpoint = std::move(*created);
  state->listen_address = local.to_quic_multiaddr();
  state->receive_slots.resize(state->options.batch_datagrams * state->options.receive_datagram_bytes_max);
  state->wait_readable();
  return std::unique_ptr<QuicSocket>(new QuicSocket(std::move(state)));
}

QuicSocket::QuicSocket(std::shared_ptr<State> state) : state_(std::move(state)) {}

QuicSocket::~QuicSocket() {
  state_->closed = true;
  state_->timer.cancel();
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

const Multiaddr& QuicSocket::listen_address() const { return state_->listen_address; }

Result<quic::ConnectionHandle> QuicSocket::dial(const Multiaddr& address) {
  const auto remote = quic::UdpAddress::from_multiaddr(address);
  const auto peer = address.peer_id();
  if (!remote || !address.has(multiaddr::Protocol::quic_v1)) return fail("not a QUIC address: " + address.to_string());
  if (!peer) return fail("a QUIC dial needs /p2p/<peer id>: " + address.to_string());
  auto handle = state_->endpoint->connect(state_->loop.now(), *remote, *peer);
  if (handle) flush();
  return handle;
}

quic::Endpoint& QuicSocket::endpoint() { return *state_->endpoint; }

void QuicSocket::flush() { state_->flush(); }

QuicSocketStats QuicSocket::stats() const { return state_->stats; }

}  // namespace taho::runtime::asio
