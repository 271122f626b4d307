// Noise HandshakeState (Noise rev 34 §5.3) for the one pattern libp2p uses:
//
//   XX:  -> e
//        <- e, ee, s, es
//        -> s, se
//
// with 25519, ChaChaPoly and SHA256. It is plain Noise — any payload, any
// prologue, keys given by the caller — so it can be checked against the
// published Noise test vectors; handshake.hpp adds libp2p's payload,
// signatures and framing on top.
#pragma once

#include <cstddef>
#include <string_view>

#include "base/bytes.hpp"
#include "crypto/crypto_suite.hpp"
#include "proto/noise/cipher_state.hpp"
#include "proto/noise/errors.hpp"
#include "proto/noise/symmetric_state.hpp"

namespace taho::noise {

enum class Role { initiator, responder };

// The local keys of one handshake. The ephemeral key must be fresh for every
// handshake; the static one may be reused (libp2p signs it per payload).
struct HandshakeKeys {
  crypto::X25519KeyPair static_key;
  crypto::X25519KeyPair ephemeral_key;
};

// After the handshake: the cipher for what we send and for what we receive.
struct TransportCiphers {
  CipherState send;
  CipherState receive;
};

class HandshakeState {
 public:
  static constexpr std::string_view protocol_name = "Noise_XX_25519_ChaChaPoly_SHA256";
  static constexpr std::size_t message_count = 3;

  HandshakeState(crypto::CryptoSuite& suite, Role role, const HandshakeKeys& keys, ByteView prologue);
  ~HandshakeState();
  HandshakeState(HandshakeState&&) noexcept = default;
  HandshakeState& operator=(HandshakeState&&) noexcept = default;

  Role role() const { return role_; }
  // Index (0, 1, 2) of the next message, message_count once finished.
  std::size_t next_message() const { return next_message_; }
  bool is_finished() const { return next_message_ == message_count; }
  bool is_our_turn() const;

  // The bytes a message adds around its payload (keys, tags).
  static std::size_t message_overhead_bytes(std::size_t message_index);

  // Appends our next message, carrying `payload`, to `out`.
  Expected<void, NoiseError> write_message(ByteView payload, Bytes& out);
  // Reads the remote's next message and appends its payload to `payload_out`.
  Expected<void, NoiseError> read_message(ByteView message, Bytes& payload_out);

  // The remote static key, known once the message carrying it was read.
  bool has_remote_static() const { return has_remote_static_; }
  const crypto::X25519PublicKey& remote_static() const { return remote_static_; }
  const crypto::X25519PublicKey& local_static() const { return keys_.static_key.public_key; }
  // The handshake hash h: after the handshake, a unique id of the session
  // usable for channel binding.
  const crypto::Sha256Digest& handshake_hash() const { return symmetric_.handshake_hash(); }

  // Once finished: the transport ciphers, oriented for our role. Call once.
  TransportCiphers split();

 private:
  Expected<void, NoiseError> mix_dh(const crypto::X25519PrivateKey& local, const crypto::X25519PublicKey& remote);
  Expected<void, NoiseError> read_remote_static(ByteView& rest);

  crypto::CryptoSuite* suite_;  // never null; a pointer so the state stays movable
  Role role_;
  HandshakeKeys keys_;
  SymmetricState symmetric_;
  crypto::X25519PublicKey remote_ephemeral_{};
  crypto::X25519PublicKey remote_static_{};
  bool has_remote_static_ = false;
  std::size_t next_message_ = 0;
};

}  // namespace taho::noise
