// SHA-256 (FIPS 180-4): the hash of Noise_*_SHA256 and of HMAC/HKDF.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/bytes.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace taho::crypto {

inline constexpr std::size_t kSha256DigestBytes = 32;
inline constexpr std::size_t kSha256BlockBytes = 64;
using Sha256Digest = std::array<std::uint8_t, kSha256DigestBytes>;

// Incremental SHA-256 over OpenSSL's EVP. One object keeps its context for
// every digest it computes, so hashing many small messages allocates nothing.
class Sha256 {
 public:
  Sha256();

  void update(ByteView data);
  // Returns the digest of everything given since the last finish() and
  // starts over.
  Sha256Digest finish();

 private:
  struct ContextFree {
    void operator()(evp_md_ctx_st* context) const;
  };
  void restart();
  std::unique_ptr<evp_md_ctx_st, ContextFree> context_;
};

Sha256Digest sha256(ByteView data);

}  // namespace taho::crypto
