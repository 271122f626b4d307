// Ed25519 keys and signatures (the node identity and libp2p signatures).
#pragma once

#include <array>
#include <cstdint>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::crypto {

using Ed25519PublicKey = std::array<std::uint8_t, 32>;
using Ed25519Seed = std::array<std::uint8_t, 32>;
using Ed25519Signature = std::array<std::uint8_t, 64>;

// An Ed25519 key pair held as its 32-byte seed plus the derived public key.
class Ed25519KeyPair {
 public:
  // Derives the public key from a seed; fails only if the library does.
  static Result<Ed25519KeyPair> from_seed(const Ed25519Seed& seed);
  // A fresh key from the OS's entropy.
  static Result<Ed25519KeyPair> generate();

  const Ed25519Seed& seed() const { return seed_; }
  const Ed25519PublicKey& public_key() const { return public_key_; }
  Ed25519Signature sign(ByteView message) const;

 private:
  Ed25519Seed seed_{};
  Ed25519PublicKey public_key_{};
};

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature);

// Fills `out` from the OS's cryptographic random generator.
void os_random(MutableByteView out);

}  // namespace taho::crypto
