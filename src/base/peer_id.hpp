// libp2p public keys and peer ids (libp2p/specs peer-ids/peer-ids.md).
//
// A peer id is the multihash of the key's protobuf encoding: the identity
// multihash when that encoding is at most 42 bytes (every Ed25519 key), else
// its sha2-256. src/base links no crypto library, so the sha2-256 case takes
// the hash function as an argument (taho_crypto provides one).
#pragma once

#include <array>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/multibase.hpp"
#include "base/multihash.hpp"

namespace taho {

// The protobuf enum `KeyType` of the spec.
enum class KeyType : std::uint8_t { rsa = 0, ed25519 = 1, secp256k1 = 2, ecdsa = 3 };

std::string_view name(KeyType type);

namespace public_key {

enum class Errc {
  too_long,       // encoding over kEncodedBytesMax
  bad_protobuf,   // not a well-formed protobuf message
  missing_field,  // Type or Data absent
  unknown_field,  // a field other than 1 (Type) and 2 (Data), or one repeated
  bad_wire_type,  // Type not a varint or Data not bytes
  unknown_type,   // Type not one of KeyType
  bad_key,        // Data empty, or not 32 bytes for Ed25519
  non_canonical,  // valid protobuf, but not the one deterministic encoding
                  // the spec requires (field order, minimal varints)
};

// An 8192-bit RSA key (the largest libp2p implementations accept) encodes
// to about 1.1 KB.
inline constexpr std::size_t kEncodedBytesMax = 2048;
inline constexpr std::size_t kEd25519KeyBytes = 32;

}  // namespace public_key

using PublicKeyError = Error<public_key::Errc>;

// The `PublicKey` message {1: Type, 2: Data}. `data` is the key in the
// type's own format (Ed25519: the raw 32 bytes; RSA: DER PKIX; ...).
struct PublicKey {
  KeyType type = KeyType::ed25519;
  Bytes data;

  static PublicKey ed25519(std::span<const std::uint8_t, public_key::kEd25519KeyBytes> key);

  // Strict: only the spec's deterministic encoding is accepted, so one key
  // has exactly one encoding and one peer id.
  static Expected<PublicKey, PublicKeyError> decode(ByteView protobuf);
  Bytes encode() const;

  bool operator==(const PublicKey& other) const = default;
};

namespace peer_id {

enum class Errc {
  empty,            // no text or bytes
  bad_text,         // neither base58btc multihash nor multibase CID text
  bad_cid,          // a CID that does not decode
  wrong_codec,      // a CID whose codec is not libp2p-key
  bad_multihash,    // the bytes are not a multihash
  unsupported_hash, // a multihash other than identity or sha2-256
  bad_public_key,   // an identity multihash that does not hold a valid key
                    // (or holds one longer than kIdentityKeyBytesMax)
};

// Keys whose encoding is at most this long are inlined (identity multihash).
inline constexpr std::size_t kIdentityKeyBytesMax = 42;
// The largest multihash a peer id can be: identity code, length, 42 bytes.
inline constexpr std::size_t kBytesMax = 2 + kIdentityKeyBytesMax;

using Sha256Digest = std::array<std::uint8_t, 32>;
// How the caller computes SHA-256 (e.g. a lambda over taho_crypto's).
using Sha256Function = std::function<Sha256Digest(ByteView)>;

}  // namespace peer_id

using PeerIdError = Error<peer_id::Errc>;

class PeerId {
 public:
  // Identity-hashed ids only; fails (unsupported_hash) for keys whose
  // encoding is over 42 bytes: use the overload with a hash function. Both
  // fail (bad_public_key) for a key PublicKey::decode would refuse.
  static Expected<PeerId, PeerIdError> from_public_key(const PublicKey& key);
  static Expected<PeerId, PeerIdError> from_public_key(const PublicKey& key, const peer_id::Sha256Function& sha256);
  // The common case: every taho node has an Ed25519 key.
  static PeerId from_ed25519(std::span<const std::uint8_t, public_key::kEd25519KeyBytes> key);

  // The multihash bytes (as in multiaddr /p2p, identify, kad, gossipsub `from`).
  static Expected<PeerId, PeerIdError> from_bytes(ByteView multihash);
  static Expected<PeerId, PeerIdError> from_multihash(const Multihash& multihash);
  // "12D3KooW...", "Qm..." (bare base58btc) or a CIDv1 with codec libp2p-key
  // in any supported multibase ("bafz...", "z...").
  static Expected<PeerId, PeerIdError> parse(std::string_view text);

  const Bytes& bytes() const { return multihash_.bytes(); }
  const Multihash& multihash() const { return multihash_; }
  // Canonical text: bare base58btc of the multihash.
  std::string to_string() const;
  // CIDv1 libp2p-key text, base32 unless told otherwise.
  std::string to_cid_string(multibase::Base base = multibase::Base::base32) const;
  // The key, when the id inlines it (identity multihash); nullopt for hashed ids.
  std::optional<PublicKey> public_key() const;

  bool operator==(const PeerId& other) const = default;
  std::strong_ordering operator<=>(const PeerId& other) const { return multihash_ <=> other.multihash_; }

 private:
  explicit PeerId(Multihash multihash) : multihash_(std::move(multihash)) {}
  Multihash multihash_;
};

}  // namespace taho

template <>
struct std::hash<taho::PeerId> {
  std::size_t operator()(const taho::PeerId& id) const noexcept {
    return std::hash<std::string_view>{}(taho::as_text(id.bytes()));
  }
};
