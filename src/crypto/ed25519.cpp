#include "crypto/ed25519.hpp"

#include <openssl/rand.h>
#include <sodium.h>

#include <algorithm>

namespace taho::crypto {
namespace {

// Ed25519 runs on libsodium: bench/crypto/ed25519_bench measured its verify
// at 2.3x and its sign at 5x OpenSSL 3's EVP (ref10 vs OpenSSL's generic
// code), and verify is most of a gossip node's CPU (StrictSign). It is also
// the library the browser build uses. sodium_init() is idempotent and
// thread-safe; the first call picks the CPU-specific implementations.
bool sodium_ready() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

}  // namespace

Result<Ed25519KeyPair> Ed25519KeyPair::from_seed(const Ed25519Seed& seed) {
  if (!sodium_ready()) return fail("ed25519: libsodium failed to initialise");
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
  Ed25519KeyPair pair;
  pair.seed_ = seed;
  const int derived = crypto_sign_seed_keypair(pair.public_key_.data(), secret.data(), seed.data());
  sodium_memzero(secret.data(), secret.size());
  if (derived != 0) return fail("ed25519: cannot derive public key");
  return pair;
}

Result<Ed25519KeyPair> Ed25519KeyPair::generate() {
  Ed25519Seed seed;
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1) {
    return fail("ed25519: the OS random generator failed");
  }
  return from_seed(seed);
}

Ed25519Signature Ed25519KeyPair::sign(ByteView message) const {
  static_assert(crypto_sign_SECRETKEYBYTES == 64 && crypto_sign_BYTES == 64);
  // libsodium's secret key is seed ‖ public key: both are at hand, so no
  // scalar multiplication is spent re-deriving the public key per message.
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
  std::copy(seed_.begin(), seed_.end(), secret.begin());
  std::copy(public_key_.begin(), public_key_.end(), secret.begin() + 32);
  Ed25519Signature signature{};
  // The key pair exists, so libsodium initialised; signing has no failure
  // mode short of a library bug: treat that as fatal rather than return an
  // unsigned message.
  if (!sodium_ready() ||
      crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret.data()) != 0) {
    __builtin_trap();
  }
  sodium_memzero(secret.data(), secret.size());
  return signature;
}

bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
  if (signature.size() != crypto_sign_BYTES || !sodium_ready()) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), key.data()) == 0;
}

void os_random(MutableByteView out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) __builtin_trap();
}

}  // namespace taho::crypto
