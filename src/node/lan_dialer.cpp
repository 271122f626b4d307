#include "node/lan_dialer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace taho::node {
namespace {

using multiaddr::Protocol;

bool is_plain_tcp(const Multiaddr& address) {
  const auto& components = address.components();
  if (components.size() < 2) return false;
  const auto family = components[0].protocol();
  if (family != Protocol::ip4 && family != Protocol::ip6) return false;
  if (components[1].protocol() != Protocol::tcp) return false;
  return components.size() == 2 || (components.size() == 3 && components[2].protocol() == Protocol::p2p);
}

bool is_loopback(const Multiaddr& address) {
  const auto& first = address.components().front();
  const auto ip = first.value();
  if (first.protocol() == Protocol::ip4) return ip.size() == 4 && ip[0] == 127;
  return ip.size() == 16 && std::all_of(ip.begin(), ip.end() - 1, [](std::uint8_t b) { return b == 0; }) && ip[15] == 1;
}

}  // namespace

std::optional<Multiaddr> lan_dial_address(const std::vector<Multiaddr>& addrs) {
  std::optional<Multiaddr> loopback;
  for (const auto& address : addrs) {
    if (!is_plain_tcp(address)) continue;
    if (!is_loopback(address)) return address;
    if (!loopback) loopback = address;
  }
  return loopback;
}

LanDialer::LanDialer(runtime::asio::EventLoop& loop, Network& network, PeerId local_peer, LanDialerOptions options)
    : loop_(loop), network_(network), local_peer_(std::move(local_peer)), options_(options) {}

LanDialer::~LanDialer() { *alive_ = false; }

void LanDialer::on_peer(const PeerId& peer, const std::vector<Multiaddr>& addrs) {
  if (peer == local_peer_) return;
  // The connection manager learns where the peer came from (`taho peers`
  // says mDNS), but no address yet: the dialing order (smaller peer id
  // first) is ours to keep. Identify gives it the addresses later, for
  // re-dials after drops.
  network_.add_discovered(peer, {}, host::Source::mdns);
  if (dialing_.count(peer) > 0 || waiting_.count(peer) > 0 || connected(peer)) return;
  auto address = lan_dial_address(addrs);
  if (!address) {
    spdlog::debug("mDNS: {} has no TCP address to dial", peer.to_string());
    return;
  }
  if (local_peer_.bytes() < peer.bytes()) {
    dial(peer, *address, 1);
  } else {
    dial_later(peer, *address, options_.grace, 1);
  }
}

void LanDialer::dial_later(const PeerId& peer, const Multiaddr& address, Duration delay, std::size_t attempt) {
  if (waiting_.size() >= options_.waiting_max) return;  // mDNS reports it again next interval
  auto timer = std::make_unique<runtime::asio::Timer>(loop_);
  timer->arm_at(loop_.now() + delay, [this, peer, address, attempt] {
    // Copies first: erasing destroys the timer that holds this closure.
    const PeerId who = peer;
    const Multiaddr where = address;
    waiting_.erase(who);
    if (!connected(who)) dial(who, where, attempt);
  });
  waiting_.emplace(peer, std::move(timer));
}

bool LanDialer::connected(const PeerId& peer) const {
  const auto rows = network_.peers();
  return std::any_of(rows.begin(), rows.end(), [&](const PeerRow& row) { return row.peer == peer; });
}

void LanDialer::dial(const PeerId& peer, const Multiaddr& address, std::size_t attempt) {
  dialing_.insert(peer);
  network_.connect(address, [this, alive = std::weak_ptr<bool>(alive_), peer, address, attempt](Result<PeerId> result) {
    if (alive.expired()) return;
    dialing_.erase(peer);
    if (result) {
      spdlog::info("mDNS: connected to {}", result->to_string());
      return;
    }
    spdlog::debug("mDNS: cannot connect to {} (attempt {}): {}", address.to_string(), attempt, result.error().text);
    if (attempt < options_.dial_attempts_max) {
      const auto delay = options_.retry_delay * static_cast<Duration::rep>(attempt);
      dial_later(peer, address, delay, attempt + 1);
    }
  });
}

}  // namespace taho::node
