// The libp2p Noise handshake payload (libp2p noise spec, "The libp2p
// Handshake Payload"):
//
//   NoiseHandshakePayload { 1: bytes identity_key  (a PublicKey, base/peer_id.hpp)
//                           2: bytes identity_sig
//                           4: NoiseExtensions extensions }
//   NoiseExtensions       { 1: repeated bytes  webtransport_certhashes
//                           2: repeated string stream_muxers }
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/x25519.hpp"
#include "proto/noise/errors.hpp"

namespace taho::noise {

// Each repeated extension field holds at most this many entries; a payload
// has room for thousands of empty ones, which would only cost us memory.
inline constexpr std::size_t extension_entries_max = 64;

// What identity_sig signs: this prefix followed by the static X25519 key.
inline constexpr std::string_view static_key_signature_prefix = "noise-libp2p-static-key:";

struct Extensions {
  std::vector<Bytes> webtransport_certhashes;
  std::vector<std::string> stream_muxers;
  bool operator==(const Extensions&) const = default;
};

struct HandshakePayload {
  Bytes identity_key;   // a serialized PublicKey
  Bytes identity_sig;
  Extensions extensions;
  bool has_extensions = false;
};

Bytes encode_payload(const HandshakePayload& payload);
// Unknown fields are skipped; repeated `extensions` fields merge, as protobuf
// does for embedded messages.
Expected<HandshakePayload, NoiseError> decode_payload(ByteView message);

// The Ed25519 key inside a PublicKey protobuf. Only the spec's canonical
// encoding is accepted (one key, one peer id); other key types are
// unsupported_key_type, anything malformed bad_payload.
Expected<crypto::Ed25519PublicKey, NoiseError> decode_ed25519_identity(ByteView public_key_protobuf);

// "noise-libp2p-static-key:" ‖ static key.
Bytes static_key_signature_message(const crypto::X25519PublicKey& static_key);

}  // namespace taho::noise
