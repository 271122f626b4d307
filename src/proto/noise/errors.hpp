// Why a Noise handshake or transport failed. Every one of them ends the
// connection; callers branch on the code for logging, peer scoring and retry
// decisions (e.g. peer_id_mismatch means "wrong peer at that address").
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::noise {

enum class Errc {
  bad_length,            // a frame or handshake message is too short or too long for its place
  decrypt_failed,        // authentication failed: tampering, wrong keys, or bytes out of order
  bad_key,               // the remote X25519 key is unusable (low order: the DH result is all zeros)
  bad_payload,           // the handshake payload or its PublicKey is not valid protobuf of the right shape
  unsupported_key_type,  // the remote identity key is not Ed25519 (the only type we accept)
  bad_signature,         // identity_sig does not sign the remote's static key with its identity key
  peer_id_mismatch,      // the authenticated remote identity is not the expected one
  unexpected_message,    // out of turn: a result asked for before the handshake finished, or twice
  nonce_exhausted,       // 2^64-1 messages sent or received with one key; Noise forbids more (no rekey)
  payload_too_large,     // our own handshake payload (extensions) does not fit in one message
  crypto_failure,        // the crypto backend failed; not caused by the peer
};
using NoiseError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::noise
