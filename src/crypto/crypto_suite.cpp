#include "crypto/crypto_suite.hpp"

namespace taho::crypto {

Result<X25519KeyPair> CryptoSuite::generate_x25519(Rng& rng) {
  X25519KeyPair pair;
  rng.fill(pair.private_key);
  auto public_key = x25519_public_key(pair.private_key);
  if (!public_key) return unexpected(std::move(public_key).error());
  pair.public_key = *public_key;
  return pair;
}

Result<X25519PublicKey> OpenSslCryptoSuite::x25519_public_key(const X25519PrivateKey& private_key) {
  return crypto::x25519_public_key(private_key);
}

Result<X25519SharedSecret> OpenSslCryptoSuite::x25519(const X25519PrivateKey& private_key,
                                                      const X25519PublicKey& remote) {
  return crypto::x25519(private_key, remote);
}

Sha256Digest OpenSslCryptoSuite::sha256(std::span<const ByteView> parts) {
  for (const ByteView part : parts) hasher_.update(part);
  return hasher_.finish();
}

std::unique_ptr<Aead> OpenSslCryptoSuite::chacha20_poly1305(const AeadKey& key) {
  return std::make_unique<OpenSslChaCha20Poly1305>(key);
}

bool OpenSslCryptoSuite::ed25519_verify(const Ed25519PublicKey& key, ByteView message, ByteView signature) {
  return crypto::ed25519_verify(key, message, signature);
}

}  // namespace taho::crypto
