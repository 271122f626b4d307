// The StrictSign message policy (libp2p/specs pubsub/README.md "Message
// signing"), the one js-libp2p and go-libp2p use by default: every message
// carries `from`, an 8-byte big-endian `seqno`, `key` and a `signature` over
// "libp2p-pubsub:" ‖ protobuf(message without signature and key). Messages
// lacking any of these are rejected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"
#include "proto/gossipsub/rpc.hpp"

namespace taho::gossipsub {

inline constexpr std::string_view signing_prefix = "libp2p-pubsub:";
inline constexpr std::size_t seqno_bytes = 8;

namespace validation {
enum class Errc {
  missing_from,       // no `from`
  missing_seqno,      // no `seqno`
  bad_seqno,          // `seqno` not exactly 8 bytes
  missing_signature,  // no `signature`
  missing_key,        // no `key` (StrictSign always wants it, even for Ed25519)
  bad_from,           // `from` is not a peer id
  bad_key,            // `key` is not a valid protobuf PublicKey
  unsupported_key,    // a key type we cannot verify (only Ed25519 for now)
  key_mismatch,       // `key` does not hash to `from`
  bad_signature,      // the signature does not verify
  unexpected_field,   // StrictNoSign: `from`, `seqno`, `signature` or `key` present
};
}  // namespace validation
using ValidationError = Error<validation::Errc>;
std::string_view to_string(validation::Errc code);

// The bytes the signature covers.
Bytes signing_bytes(const Message& message);

// A message signed by `key` with the given sequence number.
Message sign_message(const crypto::Ed25519KeyPair& key, std::string_view topic, ByteView data, std::uint64_t seqno);

// Checks a received message against StrictSign; returns its author.
Expected<PeerId, ValidationError> validate_strict(const Message& message);

// The StrictNoSign policy (same spec section, js `StrictNoSign`): messages
// carry only data and topic; any of from/seqno/signature/key is rejected.
// For closed networks that authenticate at another layer, and for large
// simulations where per-message signature checks dominate the run time.
enum class SignaturePolicy : std::uint8_t { strict_sign, strict_no_sign };
Expected<void, ValidationError> validate_strict_no_sign(const Message& message);

// js-libp2p's default message id: protobuf(public key) ‖ seqno. Use on
// validated messages (both fields then exist); absent fields count as empty.
Bytes message_id(const Message& message);
// js-libp2p's message id under StrictNoSign: SHA-256 of the data, so the
// same data published twice is one message.
Bytes content_message_id(const Message& message);

}  // namespace taho::gossipsub
