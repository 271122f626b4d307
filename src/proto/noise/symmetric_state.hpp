// Noise SymmetricState (Noise rev 34 §5.2) for SHA-256 and ChaChaPoly: the
// chaining key, the handshake hash and the handshake's CipherState.
#pragma once

#include <string_view>
#include <utility>

#include "base/bytes.hpp"
#include "crypto/crypto_suite.hpp"
#include "proto/noise/cipher_state.hpp"
#include "proto/noise/errors.hpp"

namespace taho::noise {

class SymmetricState {
 public:
  SymmetricState(crypto::CryptoSuite& suite, std::string_view protocol_name);
  ~SymmetricState();
  SymmetricState(SymmetricState&&) noexcept = default;
  SymmetricState& operator=(SymmetricState&&) noexcept = default;

  void mix_key(ByteView input_key_material);
  void mix_hash(ByteView data);
  // Appends the (encrypted, once a key is mixed in) `plaintext` to `out` and
  // hashes what was appended.
  Expected<void, NoiseError> encrypt_and_hash(ByteView plaintext, Bytes& out);
  Expected<void, NoiseError> decrypt_and_hash(ByteView ciphertext, Bytes& out);
  // The two transport CipherStates: first initiator→responder, second back.
  std::pair<CipherState, CipherState> split();

  const crypto::Sha256Digest& handshake_hash() const { return hash_; }
  bool has_key() const { return cipher_.has_key(); }

 private:
  crypto::CryptoSuite* suite_;  // never null; a pointer so the state stays movable
  crypto::Sha256Digest chaining_key_{};
  crypto::Sha256Digest hash_{};
  CipherState cipher_;
};

}  // namespace taho::noise
