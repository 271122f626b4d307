// ChaCha20-Poly1305 AEAD, IETF variant (RFC 8439): Noise's "ChaChaPoly".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/bytes.hpp"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX, kept out of this header

namespace taho::crypto {

inline constexpr std::size_t kAeadKeyBytes = 32;
inline constexpr std::size_t kAeadNonceBytes = 12;
inline constexpr std::size_t kAeadTagBytes = 16;
using AeadKey = std::array<std::uint8_t, kAeadKeyBytes>;
using AeadNonce = std::array<std::uint8_t, kAeadNonceBytes>;
using AeadTag = std::array<std::uint8_t, kAeadTagBytes>;

// Noise's ChaChaPoly nonce (Noise rev 34 §12.3): 32 zero bits, then the
// 64-bit message counter little-endian.
AeadNonce noise_nonce(std::uint64_t counter);

// A ChaCha20-Poly1305 instance bound to one key. An interface because the
// cores must also run in the browser, where libsodium compiled to wasm sits
// behind it; natively it is OpenSslChaCha20Poly1305.
class Aead {
 public:
  virtual ~Aead() = default;

  // Encrypts `plaintext` into `ciphertext` (same size; the two may be the
  // same memory, but must not partly overlap) and returns the tag.
  virtual AeadTag seal(const AeadNonce& nonce, ByteView associated_data, ByteView plaintext,
                       MutableByteView ciphertext) = 0;

  // Decrypts and authenticates. On failure `plaintext` is zeroed and false
  // returned: unauthenticated bytes never reach the caller. Same aliasing
  // rule as seal().
  [[nodiscard]] virtual bool open(const AeadNonce& nonce, ByteView associated_data, ByteView ciphertext,
                                  const AeadTag& tag, MutableByteView plaintext) = 0;
};

// OpenSSL 3 EVP implementation. It initialises one encryption and one
// decryption context with the key once, and per message only sets the nonce,
// so a frame costs no allocation and no key schedule.
class OpenSslChaCha20Poly1305 final : public Aead {
 public:
  explicit OpenSslChaCha20Poly1305(const AeadKey& key);

  AeadTag seal(const AeadNonce& nonce, ByteView associated_data, ByteView plaintext,
               MutableByteView ciphertext) override;
  [[nodiscard]] bool open(const AeadNonce& nonce, ByteView associated_data, ByteView ciphertext, const AeadTag& tag,
                          MutableByteView plaintext) override;

 private:
  struct ContextFree {
    void operator()(evp_cipher_ctx_st* context) const;
  };
  std::unique_ptr<evp_cipher_ctx_st, ContextFree> encrypt_;
  std::unique_ptr<evp_cipher_ctx_st, ContextFree> decrypt_;
};

}  // namespace taho::crypto
