// What the node knows about other peers: addresses, protocols, agent,
// measured RTT. Bounded: disconnected peers seen least recently go first.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::swarm {

struct PeerInfo {
  std::set<Multiaddr> addrs;          // where it can be reached (identify, signed record, dials)
  std::vector<std::string> protocols; // from identify
  std::string agent_version;
  std::string protocol_version;
  std::optional<Duration> rtt;        // latest ping or muxer RTT
  Instant last_seen;
  std::size_t connections = 0;        // open connections right now
};

class Peerstore {
 public:
  static constexpr std::size_t kPeersMax = 10'000;
  static constexpr std::size_t kAddrsPerPeerMax = 32;

  PeerInfo& touch(const PeerId& peer, Instant now);
  const PeerInfo* find(const PeerId& peer) const;
  PeerInfo* find(const PeerId& peer);
  void add_addr(const PeerId& peer, const Multiaddr& addr, Instant now);
  const std::map<PeerId, PeerInfo>& peers() const { return peers_; }
  std::uint64_t evictions() const { return evictions_; }

 private:
  void evict_one();
  std::map<PeerId, PeerInfo> peers_;
  std::uint64_t evictions_ = 0;
};

}  // namespace taho::swarm
