#include "proto/kad/address_book.hpp"

#include <algorithm>

namespace taho::kad {

bool AddressBook::add(const PeerId& peer, const std::vector<Multiaddr>& addrs) {
  auto found = addrs_.find(peer);
  if (found == addrs_.end()) {
    if (addrs_.size() >= peers_max_) return false;
    found = addrs_.emplace(peer, std::vector<Multiaddr>{}).first;
  }
  auto& known = found->second;
  for (const Multiaddr& address : addrs) {
    if (known.size() >= addrs_per_peer_max) break;
    if (std::find(known.begin(), known.end(), address) == known.end()) known.push_back(address);
  }
  return true;
}

std::vector<Multiaddr> AddressBook::addresses(const PeerId& peer) const {
  const auto found = addrs_.find(peer);
  return found == addrs_.end() ? std::vector<Multiaddr>{} : found->second;
}

}  // namespace taho::kad
