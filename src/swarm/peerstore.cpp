#include "swarm/peerstore.hpp"

namespace taho::swarm {

PeerInfo& Peerstore::touch(const PeerId& peer, Instant now) {
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    if (peers_.size() >= kPeersMax) evict_one();
    found = peers_.emplace(peer, PeerInfo{}).first;
  }
  found->second.last_seen = std::max(found->second.last_seen, now);
  return found->second;
}

const PeerInfo* Peerstore::find(const PeerId& peer) const {
  auto found = peers_.find(peer);
  return found == peers_.end() ? nullptr : &found->second;
}

PeerInfo* Peerstore::find(const PeerId& peer) {
  auto found = peers_.find(peer);
  return found == peers_.end() ? nullptr : &found->second;
}

void Peerstore::add_addr(const PeerId& peer, const Multiaddr& addr, Instant now) {
  auto& info = touch(peer, now);
  auto plain = addr.without_peer_id();
  if (info.addrs.size() >= kAddrsPerPeerMax && !info.addrs.contains(plain)) return;
  info.addrs.insert(std::move(plain));
}

void Peerstore::evict_one() {
  auto victim = peers_.end();
  for (auto it = peers_.begin(); it != peers_.end(); ++it) {
    if (it->second.connections > 0) continue;
    if (victim == peers_.end() || it->second.last_seen < victim->second.last_seen) victim = it;
  }
  if (victim != peers_.end()) {
    peers_.erase(victim);
    ++evictions_;
  }
}

}  // namespace taho::swarm
