// The peer id a libp2p PublicKey stands for, as identify and signed records
// need it: inlined for short keys (Ed25519), sha2-256 for long ones (RSA).
#pragma once

#include "base/peer_id.hpp"
#include "proto/identify/errors.hpp"

namespace taho::identify {

Expected<PeerId, IdentifyError> peer_id_of(const PublicKey& key);

}  // namespace taho::identify
