// libp2p signed envelopes (libp2p/specs RFC 0002): a payload, its type and a
// signature by the sender's key over a domain-separated buffer, so a record
// signed for one purpose can never be replayed as another. Identify carries
// one (the signed peer record); rendezvous and others reuse the same format.
//
//   Envelope { 1: bytes public_key (a PublicKey message)
//              2: bytes payload_type
//              3: bytes payload
//              5: bytes signature }
//   signed buffer: uvarint(len) domain ‖ uvarint(len) payload_type ‖ uvarint(len) payload
#pragma once

#include <cstddef>
#include <string_view>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"
#include "proto/identify/errors.hpp"

namespace taho::identify {

// Envelopes travel inside identify messages, so none can be larger.
inline constexpr std::size_t envelope_bytes_max = 8192;

struct Envelope {
  PublicKey public_key;
  Bytes payload_type;
  Bytes payload;
  Bytes signature;

  bool operator==(const Envelope&) const = default;
};

Bytes encode_envelope(const Envelope& envelope);
// Parses without verifying; every field but the payload must be present.
Expected<Envelope, IdentifyError> decode_envelope(ByteView bytes);

// The buffer the signature covers.
Bytes envelope_signed_data(std::string_view domain, ByteView payload_type, ByteView payload);

// Signs `payload` with our Ed25519 key.
Envelope seal_envelope(const crypto::Ed25519KeyPair& key, std::string_view domain, ByteView payload_type,
                       ByteView payload);

// Accepts a decoded envelope only if its payload type is the expected one
// and its signature verifies under its own key for `domain`. Only Ed25519
// keys can be verified (unsupported_key_type for others).
Expected<void, IdentifyError> verify_envelope(const Envelope& envelope, std::string_view domain,
                                              ByteView expected_payload_type);
// decode_envelope, then verify_envelope.
Expected<Envelope, IdentifyError> open_envelope(ByteView bytes, std::string_view domain,
                                                ByteView expected_payload_type);

}  // namespace taho::identify
