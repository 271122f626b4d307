#include "crypto/x25519.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

namespace taho::crypto {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* context) const { EVP_PKEY_CTX_free(context); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;

bool all_zero(const X25519SharedSecret& secret) {
  std::uint8_t accumulated = 0;  // constant time: no early exit on secret bytes
  for (const std::uint8_t byte : secret) accumulated |= byte;
  return accumulated == 0;
}

}  // namespace

Result<X25519PublicKey> x25519_public_key(const X25519PrivateKey& private_key) {
  const Pkey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
  if (!key) return fail("x25519: cannot load private key");
  X25519PublicKey public_key{};
  std::size_t length = public_key.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), public_key.data(), &length) != 1 || length != public_key.size()) {
    return fail("x25519: cannot derive public key");
  }
  return public_key;
}

Result<X25519SharedSecret> x25519(const X25519PrivateKey& private_key, const X25519PublicKey& remote) {
  const Pkey local(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, private_key.data(), private_key.size()));
  const Pkey peer(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, remote.data(), remote.size()));
  if (!local || !peer) return fail("x25519: cannot load keys");
  const PkeyCtx context(EVP_PKEY_CTX_new(local.get(), nullptr));
  if (!context || EVP_PKEY_derive_init(context.get()) != 1 ||
      EVP_PKEY_derive_set_peer(context.get(), peer.get()) != 1) {
    return fail("x25519: cannot set up the key exchange");
  }
  X25519SharedSecret secret{};
  std::size_t length = secret.size();
  // OpenSSL itself refuses an all-zero result; the explicit check below keeps
  // that guarantee independent of the library version.
  if (EVP_PKEY_derive(context.get(), secret.data(), &length) != 1 || length != secret.size()) {
    return fail("x25519: the remote public key has low order");
  }
  if (all_zero(secret)) return fail("x25519: the remote public key has low order");
  return secret;
}

}  // namespace taho::crypto
