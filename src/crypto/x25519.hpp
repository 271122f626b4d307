// X25519 Diffie-Hellman (RFC 7748): Noise's "25519" DH functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::crypto {

inline constexpr std::size_t kX25519KeyBytes = 32;
using X25519PrivateKey = std::array<std::uint8_t, kX25519KeyBytes>;
using X25519PublicKey = std::array<std::uint8_t, kX25519KeyBytes>;
using X25519SharedSecret = std::array<std::uint8_t, kX25519KeyBytes>;

struct X25519KeyPair {
  X25519PrivateKey private_key{};
  X25519PublicKey public_key{};
};

// The public key of a private key (any 32 bytes; clamping is part of X25519).
Result<X25519PublicKey> x25519_public_key(const X25519PrivateKey& private_key);

// X25519(private_key, remote). Fails when the result is all zeros, which
// happens exactly for low-order remote keys (RFC 7748 §6.1): a peer sending
// one would make the "secret" public.
Result<X25519SharedSecret> x25519(const X25519PrivateKey& private_key, const X25519PublicKey& remote);

}  // namespace taho::crypto
