#include "node/quic_transport.hpp"

#include <spdlog/spdlog.h>

#include "runtime/asio/event_loop.hpp"

namespace taho::node {

QuicTransport::QuicTransport(runtime::asio::EventLoop& loop, host::Host& host, const crypto::Ed25519KeyPair& identity,
                             Rng& rng, runtime::asio::QuicSocketOptions options, QuicTransportCallbacks callbacks)
    : loop_(loop), host_(host), identity_(identity), rng_(rng), options_(std::move(options)),
      callbacks_(std::move(callbacks)), bridge_(host, id_base) {}

QuicTransport::~QuicTransport() = default;

bool QuicTransport::handles(const Multiaddr& address) {
  return address.has(multiaddr::Protocol::quic_v1) && !address.has(multiaddr::Protocol::p2p_circuit) &&
         quic::UdpAddress::from_multiaddr(address).has_value();
}

Result<std::size_t> QuicTransport::open_socket(const Multiaddr& address) {
  const std::size_t index = sockets_.size();
  auto socket = runtime::asio::QuicSocket::open(loop_, address.without_peer_id(), identity_, rng_, options_,
                                                [this, index](const quic::Event& event) { on_event(index, event); });
  if (!socket) return unexpected(std::move(socket).error());
  bridge_.add_endpoint((*socket)->endpoint(), (*socket)->listen_address());
  sockets_.push_back(std::move(*socket));
  return index;
}

Result<Multiaddr> QuicTransport::listen(const Multiaddr& address) {
  auto index = open_socket(address);
  if (!index) return unexpected(std::move(index).error());
  return sockets_[*index]->listen_address();
}

Result<QuicDialId> QuicTransport::dial(const Multiaddr& address) {
  const auto remote = quic::UdpAddress::from_multiaddr(address);
  if (!remote || !handles(address)) return fail("not a QUIC address: " + address.to_string());
  if (!address.peer_id()) return fail("a QUIC dial needs /p2p/<peer id>: " + address.to_string());
  std::optional<std::size_t> chosen;
  for (std::size_t i = 0; i < sockets_.size(); ++i) {
    const auto local = quic::UdpAddress::from_multiaddr(sockets_[i]->listen_address());
    if (local && local->is_ipv6 == remote->is_ipv6) {
      chosen = i;
      break;
    }
  }
  if (!chosen) {
    // No listener of that family: dial from an ephemeral port.
    auto ephemeral = Multiaddr::parse(remote->is_ipv6 ? "/ip6/::/udp/0/quic-v1" : "/ip4/0.0.0.0/udp/0/quic-v1");
    if (!ephemeral) return fail("internal: bad ephemeral address");
    auto index = open_socket(*ephemeral);
    if (!index) return fail("cannot open a UDP socket to dial: " + index.error().text);
    chosen = *index;
  }
  auto handle = sockets_[*chosen]->dial(address);
  if (!handle) return unexpected(std::move(handle).error());
  const QuicDialId id = next_dial_++;
  dials_[{*chosen, *handle}] = id;
  return id;
}

void QuicTransport::on_event(std::size_t index, const quic::Event& event) {
  const auto link = bridge_.handle_event(loop_.now(), index, event);
  if (link) {
    if (const auto* up = std::get_if<quic_link::Up>(&*link)) {
      std::optional<QuicDialId> dial;
      if (auto found = dials_.find(std::pair{index, up->handle}); found != dials_.end()) {
        dial = found->second;
        dials_.erase(found);
      }
      if (callbacks_.on_connected && callbacks_.on_connected(*up, dial)) {
        bridge_.connection_added(loop_.now(), up->id);
      } else {
        bridge_.close(up->id, "refused");
      }
    } else if (const auto* down = std::get_if<quic_link::Down>(&*link)) {
      if (auto found = dials_.find(std::pair{index, down->handle}); found != dials_.end()) {
        const QuicDialId dial = found->second;
        dials_.erase(found);
        if (callbacks_.on_dial_failed) callbacks_.on_dial_failed(dial, down->reason);
      } else if (down->id) {
        if (callbacks_.on_closed) callbacks_.on_closed(*down->id, down->reason);
      } else {
        spdlog::debug("inbound QUIC handshake failed: {}", down->reason);
      }
    }
  }
  if (callbacks_.on_activity) callbacks_.on_activity();
}

bool QuicTransport::handle_output(const host::HostOutput& output) {
  return bridge_.handle_output(loop_.now(), output);
}

void QuicTransport::flush() {
  for (auto& socket : sockets_) socket->flush();
}

}  // namespace taho::node
