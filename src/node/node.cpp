#include "node/node.hpp"

namespace taho::node {

PeerId peer_id_of(const crypto::Ed25519KeyPair& identity) {
  return PeerId::from_ed25519(identity.public_key());
}

Node::Node(crypto::Ed25519KeyPair identity, std::string version)
    : identity_(std::move(identity)), peer_id_(peer_id_of(identity_)), version_(std::move(version)) {}

}  // namespace taho::node
