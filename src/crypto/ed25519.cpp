#include "crypto/ed25519.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <memory>

namespace taho::crypto {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

Pkey private_key(const Ed25519Seed& seed) {
  return Pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
}

}  // namespace

Result<Ed25519KeyPair> Ed25519KeyPair::from_seed(const Ed25519Seed& seed) {
  Pkey key = private_key(seed);
  if (!key) return fail("ed25519: cannot load private key");
  Ed25519KeyPair pair;
  pair.seed_ = seed;
  std::size_t length = pair.public_key_.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), pair.public_key_.data(), &length) != 1 ||
      length != pair.public_key_.size()) {
    return fail("ed25519: cannot derive public key");
  }
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
  Ed25519Signature signature{};
  Pkey key = private_key(seed_);
  MdCtx ctx(EVP_MD_CTX_new());
  std::size_t length = signature.size();
  // Signing with a key we already loaded once cannot fail short of memory
  // exhaustion; treat that as fatal rather than return an unsigned message.
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size()) != 1) {
    __builtin_trap();
  }
  return signature;
}

bool ed25519_verify(const Ed25519PublicKey& key_bytes, ByteView message, ByteView signature) {
  if (signature.size() != 64) return false;
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key_bytes.data(), key_bytes.size()));
  MdCtx ctx(EVP_MD_CTX_new());
  if (!key || !ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()) == 1;
}

void os_random(MutableByteView out) {
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) __builtin_trap();
}

}  // namespace taho::crypto
