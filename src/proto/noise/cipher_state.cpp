#include "proto/noise/cipher_state.hpp"

#include <algorithm>

#include "proto/noise/framing.hpp"

namespace taho::noise {

Expected<void, NoiseError> CipherState::encrypt_with_ad(ByteView associated_data, ByteView plaintext, Bytes& out) {
  if (!aead_) {
    append(out, plaintext);
    return {};
  }
  if (nonce_ == nonce_max) {
    return unexpected(NoiseError{Errc::nonce_exhausted, "2^64-1 messages sent with one key"});
  }
  const std::size_t start = out.size();
  out.resize(start + plaintext.size() + tag_bytes);
  const MutableByteView ciphertext = MutableByteView(out).subspan(start, plaintext.size());
  const crypto::AeadTag tag = aead_->seal(crypto::noise_nonce(nonce_), associated_data, plaintext, ciphertext);
  std::copy(tag.begin(), tag.end(), out.begin() + static_cast<std::ptrdiff_t>(start + plaintext.size()));
  ++nonce_;
  return {};
}

Expected<void, NoiseError> CipherState::encrypt_in_place(ByteView associated_data, MutableByteView message) {
  if (!aead_ || message.size() < tag_bytes) __builtin_trap();  // our bug, never input
  if (nonce_ == nonce_max) {
    return unexpected(NoiseError{Errc::nonce_exhausted, "2^64-1 messages sent with one key"});
  }
  const MutableByteView body = message.first(message.size() - tag_bytes);
  const crypto::AeadTag tag = aead_->seal(crypto::noise_nonce(nonce_), associated_data, body, body);
  std::copy(tag.begin(), tag.end(), message.begin() + static_cast<std::ptrdiff_t>(body.size()));
  ++nonce_;
  return {};
}

Expected<void, NoiseError> CipherState::decrypt_with_ad(ByteView associated_data, ByteView ciphertext, Bytes& out) {
  if (!aead_) {
    append(out, ciphertext);
    return {};
  }
  if (ciphertext.size() < tag_bytes) {
    return unexpected(NoiseError{Errc::bad_length, "encrypted message shorter than its 16-byte tag"});
  }
  if (nonce_ == nonce_max) {
    return unexpected(NoiseError{Errc::nonce_exhausted, "2^64-1 messages received with one key"});
  }
  const std::size_t body_bytes = ciphertext.size() - tag_bytes;
  crypto::AeadTag tag{};
  std::copy(ciphertext.begin() + static_cast<std::ptrdiff_t>(body_bytes), ciphertext.end(), tag.begin());
  const std::size_t start = out.size();
  out.resize(start + body_bytes);
  const MutableByteView plaintext = MutableByteView(out).subspan(start);
  if (!aead_->open(crypto::noise_nonce(nonce_), associated_data, ciphertext.first(body_bytes), tag, plaintext)) {
    out.resize(start);
    return unexpected(NoiseError{Errc::decrypt_failed, "message failed authentication"});
  }
  ++nonce_;
  return {};
}

Expected<std::size_t, NoiseError> CipherState::decrypt_into(ByteView associated_data, ByteView ciphertext,
                                                            MutableByteView out) {
  if (!aead_) __builtin_trap();  // our bug: transport messages always have a key
  if (ciphertext.size() < tag_bytes) {
    return unexpected(NoiseError{Errc::bad_length, "encrypted message shorter than its 16-byte tag"});
  }
  if (nonce_ == nonce_max) {
    return unexpected(NoiseError{Errc::nonce_exhausted, "2^64-1 messages received with one key"});
  }
  const std::size_t body_bytes = ciphertext.size() - tag_bytes;
  if (out.size() < body_bytes) __builtin_trap();  // our bug: the caller sizes `out`
  crypto::AeadTag tag{};
  std::copy(ciphertext.begin() + static_cast<std::ptrdiff_t>(body_bytes), ciphertext.end(), tag.begin());
  if (!aead_->open(crypto::noise_nonce(nonce_), associated_data, ciphertext.first(body_bytes), tag,
                   out.first(body_bytes))) {
    return unexpected(NoiseError{Errc::decrypt_failed, "message failed authentication"});
  }
  ++nonce_;
  return body_bytes;
}

}  // namespace taho::noise
