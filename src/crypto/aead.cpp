#include "crypto/aead.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace taho::crypto {
namespace {

// EVP takes int lengths; longer inputs go through in pieces of this size.
constexpr std::size_t kEvpChunkBytesMax = std::size_t{1} << 30;

// A failing EVP call on an initialised context means memory exhaustion or a
// broken library, not bad input; continuing could send unencrypted bytes.
void require(int evp_result) {
  if (evp_result != 1) __builtin_trap();
}

int as_int(std::size_t length) { return static_cast<int>(length); }

}  // namespace

AeadNonce noise_nonce(std::uint64_t counter) {
  AeadNonce nonce{};
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

void OpenSslChaCha20Poly1305::ContextFree::operator()(evp_cipher_ctx_st* context) const {
  EVP_CIPHER_CTX_free(context);
}

OpenSslChaCha20Poly1305::OpenSslChaCha20Poly1305(const AeadKey& key)
    : encrypt_(EVP_CIPHER_CTX_new()), decrypt_(EVP_CIPHER_CTX_new()) {
  if (!encrypt_ || !decrypt_) __builtin_trap();
  const EVP_CIPHER* cipher = EVP_chacha20_poly1305();
  require(EVP_EncryptInit_ex(encrypt_.get(), cipher, nullptr, key.data(), nullptr));
  require(EVP_DecryptInit_ex(decrypt_.get(), cipher, nullptr, key.data(), nullptr));
}

AeadTag OpenSslChaCha20Poly1305::seal(const AeadNonce& nonce, ByteView associated_data, ByteView plaintext,
                                      MutableByteView ciphertext) {
  if (ciphertext.size() != plaintext.size()) __builtin_trap();  // our bug, never input
  EVP_CIPHER_CTX* context = encrypt_.get();
  require(EVP_EncryptInit_ex(context, nullptr, nullptr, nullptr, nonce.data()));
  int written = 0;
  for (std::size_t offset = 0; offset < associated_data.size(); offset += kEvpChunkBytesMax) {
    const std::size_t length = std::min(kEvpChunkBytesMax, associated_data.size() - offset);
    require(EVP_EncryptUpdate(context, nullptr, &written, associated_data.data() + offset, as_int(length)));
  }
  for (std::size_t offset = 0; offset < plaintext.size(); offset += kEvpChunkBytesMax) {
    const std::size_t length = std::min(kEvpChunkBytesMax, plaintext.size() - offset);
    require(EVP_EncryptUpdate(context, ciphertext.data() + offset, &written, plaintext.data() + offset,
                              as_int(length)));
  }
  std::uint8_t no_output[kAeadTagBytes];  // a stream cipher's final step writes nothing
  require(EVP_EncryptFinal_ex(context, no_output, &written));
  AeadTag tag{};
  require(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, as_int(tag.size()), tag.data()));
  return tag;
}

bool OpenSslChaCha20Poly1305::open(const AeadNonce& nonce, ByteView associated_data, ByteView ciphertext,
                                   const AeadTag& tag, MutableByteView plaintext) {
  if (ciphertext.size() != plaintext.size()) __builtin_trap();  // our bug, never input
  EVP_CIPHER_CTX* context = decrypt_.get();
  require(EVP_DecryptInit_ex(context, nullptr, nullptr, nullptr, nonce.data()));
  int written = 0;
  for (std::size_t offset = 0; offset < associated_data.size(); offset += kEvpChunkBytesMax) {
    const std::size_t length = std::min(kEvpChunkBytesMax, associated_data.size() - offset);
    require(EVP_DecryptUpdate(context, nullptr, &written, associated_data.data() + offset, as_int(length)));
  }
  for (std::size_t offset = 0; offset < ciphertext.size(); offset += kEvpChunkBytesMax) {
    const std::size_t length = std::min(kEvpChunkBytesMax, ciphertext.size() - offset);
    require(EVP_DecryptUpdate(context, plaintext.data() + offset, &written, ciphertext.data() + offset,
                              as_int(length)));
  }
  // EVP wants a mutable pointer for the expected tag; it only reads it.
  AeadTag expected = tag;
  require(EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, as_int(expected.size()), expected.data()));
  std::uint8_t no_output[kAeadTagBytes];
  if (EVP_DecryptFinal_ex(context, no_output, &written) != 1) {
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return false;
  }
  return true;
}

}  // namespace taho::crypto
