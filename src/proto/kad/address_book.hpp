// Where peers can be dialed, as far as the DHT knows: handed out with the
// peers of FIND_NODE / GET_PROVIDERS answers. Bounded: the swarm's peer
// store is the authority, this is the kad core's small copy.
#pragma once

#include <cstddef>
#include <unordered_map>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"

namespace taho::kad {

class AddressBook {
 public:
  static constexpr std::size_t peers_max_default = 10'000;
  static constexpr std::size_t addrs_per_peer_max = 16;

  explicit AddressBook(std::size_t peers_max = peers_max_default) : peers_max_(peers_max) {}

  // Adds addresses (duplicates ignored, at most addrs_per_peer_max kept).
  // Refused (false) when the book is full and `peer` is new.
  bool add(const PeerId& peer, const std::vector<Multiaddr>& addrs);
  void remove(const PeerId& peer) { addrs_.erase(peer); }
  // Empty when unknown.
  std::vector<Multiaddr> addresses(const PeerId& peer) const;
  std::size_t size() const { return addrs_.size(); }

 private:
  std::size_t peers_max_;
  std::unordered_map<PeerId, std::vector<Multiaddr>> addrs_;
};

}  // namespace taho::kad
