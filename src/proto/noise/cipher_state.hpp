// Noise CipherState (Noise rev 34 §5.1): a key, or none, and the 64-bit
// nonce counter of one direction.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>

#include "base/bytes.hpp"
#include "crypto/aead.hpp"
#include "proto/noise/errors.hpp"

namespace taho::noise {

class CipherState {
 public:
  // 2^64-1 is reserved (Noise §5.1): a state whose nonce reached it is spent.
  static constexpr std::uint64_t nonce_max = std::numeric_limits<std::uint64_t>::max();

  CipherState() = default;
  explicit CipherState(std::unique_ptr<crypto::Aead> aead) : aead_(std::move(aead)) {}

  bool has_key() const { return aead_ != nullptr; }
  std::uint64_t nonce() const { return nonce_; }
  // For tests of nonce exhaustion (Noise's SetNonce).
  void set_nonce(std::uint64_t nonce) { nonce_ = nonce; }

  // Appends ENCRYPT(k, n++, ad, plaintext) — ciphertext then tag — to `out`,
  // or the plaintext itself while there is no key.
  Expected<void, NoiseError> encrypt_with_ad(ByteView associated_data, ByteView plaintext, Bytes& out);

  // Encrypts in place: `message` holds the plaintext followed by tag_bytes
  // of room, which receive the tag. Needs a key.
  Expected<void, NoiseError> encrypt_in_place(ByteView associated_data, MutableByteView message);

  // Appends the plaintext of `ciphertext` (which ends in the tag) to `out`.
  // On failure `out` is left as it was.
  Expected<void, NoiseError> decrypt_with_ad(ByteView associated_data, ByteView ciphertext, Bytes& out);

  // Writes the plaintext of `ciphertext` to the front of `out` (which must
  // hold ciphertext.size() - tag_bytes bytes) and returns its length. Needs
  // a key. On failure the bytes written are zeroed.
  Expected<std::size_t, NoiseError> decrypt_into(ByteView associated_data, ByteView ciphertext, MutableByteView out);

 private:
  std::unique_ptr<crypto::Aead> aead_;
  std::uint64_t nonce_ = 0;
};

}  // namespace taho::noise
