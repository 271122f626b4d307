#include "proto/noise/symmetric_state.hpp"

#include <algorithm>
#include <array>

#include "crypto/hkdf.hpp"

namespace taho::noise {
namespace {

// Volatile stores so the compiler cannot drop the wipe of dead key material.
void wipe(MutableByteView secret) {
  volatile std::uint8_t* bytes = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) bytes[i] = 0;
}

crypto::AeadKey as_key(const crypto::Sha256Digest& digest) {
  crypto::AeadKey key{};  // HASHLEN = 32 = key length, so no truncation
  std::copy(digest.begin(), digest.end(), key.begin());
  return key;
}

}  // namespace

SymmetricState::SymmetricState(crypto::CryptoSuite& suite, std::string_view protocol_name) : suite_(&suite) {
  // Names up to HASHLEN bytes are zero-padded, longer ones hashed (§5.2).
  const ByteView name = as_bytes(protocol_name);
  if (name.size() <= hash_.size()) {
    std::copy(name.begin(), name.end(), hash_.begin());
  } else {
    const std::array<ByteView, 1> parts{name};
    hash_ = suite.sha256(parts);
  }
  chaining_key_ = hash_;
}

SymmetricState::~SymmetricState() { wipe(chaining_key_); }

void SymmetricState::mix_key(ByteView input_key_material) {
  auto [chaining_key, temp_key] = crypto::noise_hkdf2(*suite_, chaining_key_, input_key_material);
  chaining_key_ = chaining_key;
  cipher_ = CipherState(suite_->chacha20_poly1305(as_key(temp_key)));
  wipe(temp_key);
  wipe(chaining_key);
}

void SymmetricState::mix_hash(ByteView data) {
  const std::array<ByteView, 2> parts{ByteView(hash_), data};
  hash_ = suite_->sha256(parts);
}

Expected<void, NoiseError> SymmetricState::encrypt_and_hash(ByteView plaintext, Bytes& out) {
  const std::size_t start = out.size();
  if (auto sealed = cipher_.encrypt_with_ad(hash_, plaintext, out); !sealed) return sealed;
  mix_hash(ByteView(out).subspan(start));
  return {};
}

Expected<void, NoiseError> SymmetricState::decrypt_and_hash(ByteView ciphertext, Bytes& out) {
  if (auto opened = cipher_.decrypt_with_ad(hash_, ciphertext, out); !opened) return opened;
  mix_hash(ciphertext);
  return {};
}

std::pair<CipherState, CipherState> SymmetricState::split() {
  auto [initiator_key, responder_key] = crypto::noise_hkdf2(*suite_, chaining_key_, {});
  std::pair<CipherState, CipherState> ciphers{CipherState(suite_->chacha20_poly1305(as_key(initiator_key))),
                                              CipherState(suite_->chacha20_poly1305(as_key(responder_key)))};
  wipe(initiator_key);
  wipe(responder_key);
  return ciphers;
}

}  // namespace taho::noise
