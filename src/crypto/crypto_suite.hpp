// The crypto the protocol cores need, behind one injected interface
// (DESIGN.md §1): OpenSSL natively, libsodium compiled to wasm in the browser.
// A core receives a CryptoSuite& and never names a library.
#pragma once

#include <memory>
#include <span>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/time.hpp"
#include "crypto/aead.hpp"
#include "crypto/ed25519.hpp"
#include "crypto/sha256.hpp"
#include "crypto/x25519.hpp"

namespace taho::crypto {

class CryptoSuite {
 public:
  virtual ~CryptoSuite() = default;

  virtual Result<X25519PublicKey> x25519_public_key(const X25519PrivateKey& private_key) = 0;
  // Fails on a low-order remote key (all-zero result).
  virtual Result<X25519SharedSecret> x25519(const X25519PrivateKey& private_key, const X25519PublicKey& remote) = 0;
  // SHA-256 of the concatenation of `parts` (saves callers a copy).
  virtual Sha256Digest sha256(std::span<const ByteView> parts) = 0;
  // A ChaCha20-Poly1305 instance bound to `key`.
  virtual std::unique_ptr<Aead> chacha20_poly1305(const AeadKey& key) = 0;
  virtual bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) = 0;

  // A fresh X25519 key pair from `rng` (the private key is 32 random bytes;
  // X25519 clamps it).
  Result<X25519KeyPair> generate_x25519(Rng& rng);
};

// The native implementation: OpenSSL 3 EVP for everything.
class OpenSslCryptoSuite final : public CryptoSuite {
 public:
  Result<X25519PublicKey> x25519_public_key(const X25519PrivateKey& private_key) override;
  Result<X25519SharedSecret> x25519(const X25519PrivateKey& private_key, const X25519PublicKey& remote) override;
  Sha256Digest sha256(std::span<const ByteView> parts) override;
  std::unique_ptr<Aead> chacha20_poly1305(const AeadKey& key) override;
  bool ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) override;

 private:
  Sha256 hasher_;  // reused: a handshake hashes dozens of short inputs
};

}  // namespace taho::crypto
