#include "node/mdns_service.hpp"

#include <spdlog/spdlog.h>

namespace taho::node {
namespace {

MdnsServiceOptions with_loopback_choice(MdnsServiceOptions options) {
  options.discovery.announce_loopback = options.include_loopback;
  options.socket.include_loopback = options.include_loopback;
  return options;
}

}  // namespace

MdnsService::MdnsService(runtime::asio::EventLoop& loop, PeerId local_peer, Rng& rng, MdnsServiceOptions options,
                         OnPeer on_peer)
    : loop_(loop),
      options_(with_loopback_choice(std::move(options))),
      on_peer_(std::move(on_peer)),
      discovery_(loop.now(), std::move(local_peer), rng, options_.discovery),
      timer_(loop) {}

MdnsService::~MdnsService() {
  *alive_ = false;
  timer_.cancel();
  socket_.reset();  // closes without calling back
}

void MdnsService::set_listen_addrs(std::vector<Multiaddr> addrs) { discovery_.set_listen_addrs(addrs); }

Result<void> MdnsService::start() {
  if (socket_) return {};
  runtime::asio::MulticastSocketCallbacks callbacks;
  callbacks.on_datagram = [this](ByteView datagram, std::uint32_t interface_index) {
    on_datagram(datagram, interface_index);
  };
  callbacks.on_interfaces_changed = [this](const std::vector<runtime::asio::MulticastInterface>& joined) {
    std::string names;
    for (const auto& interface : joined) names += (names.empty() ? "" : ", ") + interface.name;
    spdlog::debug("mDNS: on interfaces {}", names.empty() ? "(none)" : names);
    note_loopback_interfaces(joined);
    // A new network may hold peers we have not met: ask it now.
    discovery_.query_now(loop_.now());
    process();
  };
  auto socket = runtime::asio::MulticastSocket::open(loop_, options_.socket, std::move(callbacks));
  if (!socket) return fail(socket.error().text);
  socket_ = std::move(*socket);
  note_loopback_interfaces(socket_->interfaces());
  spdlog::info("mDNS: discovering peers on {} interface(s) as {}", socket_->interfaces().size(),
               discovery_.peer_name());
  process();
  return {};
}

std::vector<runtime::asio::MulticastInterface> MdnsService::interfaces() const {
  return socket_ ? socket_->interfaces() : std::vector<runtime::asio::MulticastInterface>{};
}

void MdnsService::note_loopback_interfaces(const std::vector<runtime::asio::MulticastInterface>& interfaces) {
  std::vector<mdns::InterfaceIndex> loopback;
  for (const auto& interface : interfaces) {
    if (interface.loopback) loopback.push_back(interface.index);
  }
  discovery_.set_loopback_interfaces(loopback);
}

void MdnsService::on_datagram(ByteView datagram, std::uint32_t interface_index) {
  discovery_.handle_datagram(loop_.now(), datagram, interface_index);
  process();
}

void MdnsService::process() {
  if (!socket_) return;
  while (auto transmit = discovery_.poll_transmit()) socket_->send(transmit->datagram, transmit->interface_index);
  while (auto event = discovery_.poll_event()) {
    spdlog::debug("mDNS: found {} ({} addresses)", event->peer.to_string(), event->addrs.size());
    if (!on_peer_) continue;
    // Posted, so the callback never runs inside one of our own calls.
    loop_.post([this, alive = std::weak_ptr<bool>(alive_), event = std::move(*event)]() mutable {
      const auto guard = alive.lock();
      if (!guard || !*guard) return;
      on_peer_(std::move(event.peer), std::move(event.addrs));
    });
  }
  if (auto next = discovery_.next_timeout()) {
    timer_.arm_at(*next, [this] {
      discovery_.handle_timeout(loop_.now());
      process();
    });
  }
}

}  // namespace taho::node
