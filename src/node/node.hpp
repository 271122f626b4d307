// The node's own state that every front end reports: who it is and where it
// listens. Protocol behaviour is composed around it as the features land.
#pragma once

#include <string>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"

namespace taho::node {

inline constexpr const char* kAgentPrefix = "taho/";

class Node {
 public:
  Node(crypto::Ed25519KeyPair identity, std::string version);

  const crypto::Ed25519KeyPair& identity() const { return identity_; }
  const PeerId& peer_id() const { return peer_id_; }
  const std::string& version() const { return version_; }
  std::string agent_version() const { return kAgentPrefix + version_; }

  // Addresses we actually listen on, each ending in /p2p/<our id>.
  const std::vector<Multiaddr>& listen_addrs() const { return listen_addrs_; }
  void set_listen_addrs(std::vector<Multiaddr> addrs) { listen_addrs_ = std::move(addrs); }

 private:
  crypto::Ed25519KeyPair identity_;
  PeerId peer_id_;
  std::string version_;
  std::vector<Multiaddr> listen_addrs_;
};

// The peer id of an Ed25519 identity (identity multihash of the protobuf key).
PeerId peer_id_of(const crypto::Ed25519KeyPair& identity);

}  // namespace taho::node
