#include "crypto/sha256.hpp"

#include <openssl/evp.h>

namespace taho::crypto {

void Sha256::ContextFree::operator()(evp_md_ctx_st* context) const { EVP_MD_CTX_free(context); }

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  // Out of memory is not a peer's doing and leaves nothing sane to continue with.
  if (!context_) __builtin_trap();
  restart();
}

void Sha256::restart() {
  if (EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) __builtin_trap();
}

void Sha256::update(ByteView data) {
  if (data.empty()) return;
  if (EVP_DigestUpdate(context_.get(), data.data(), data.size()) != 1) __builtin_trap();
}

Sha256Digest Sha256::finish() {
  Sha256Digest digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), digest.data(), &length) != 1 || length != digest.size()) {
    __builtin_trap();
  }
  restart();
  return digest;
}

Sha256Digest sha256(ByteView data) {
  Sha256 hasher;
  hasher.update(data);
  return hasher.finish();
}

}  // namespace taho::crypto
