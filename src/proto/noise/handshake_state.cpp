#include "proto/noise/handshake_state.hpp"

#include <algorithm>

#include "proto/noise/framing.hpp"

namespace taho::noise {
namespace {

constexpr std::size_t kKeyBytes = crypto::kX25519KeyBytes;
constexpr std::size_t kEncryptedKeyBytes = kKeyBytes + tag_bytes;

void wipe(MutableByteView secret) {
  volatile std::uint8_t* bytes = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) bytes[i] = 0;
}

NoiseError error(Errc code, std::string detail) { return NoiseError{code, std::move(detail)}; }

crypto::X25519PublicKey take_key(ByteView& rest) {
  crypto::X25519PublicKey key{};
  std::copy_n(rest.begin(), key.size(), key.begin());
  rest = rest.subspan(key.size());
  return key;
}

}  // namespace

HandshakeState::HandshakeState(crypto::CryptoSuite& suite, Role role, const HandshakeKeys& keys, ByteView prologue)
    : suite_(&suite), role_(role), keys_(keys), symmetric_(suite, protocol_name) {
  symmetric_.mix_hash(prologue);
}

HandshakeState::~HandshakeState() {
  wipe(keys_.static_key.private_key);
  wipe(keys_.ephemeral_key.private_key);
}

bool HandshakeState::is_our_turn() const {
  if (is_finished()) return false;
  // The initiator writes messages 0 and 2, the responder message 1.
  const bool initiator_writes = next_message_ % 2 == 0;
  return initiator_writes == (role_ == Role::initiator);
}

std::size_t HandshakeState::message_overhead_bytes(std::size_t message_index) {
  switch (message_index) {
    case 0: return kKeyBytes;                                  // e, payload in clear
    case 1: return kKeyBytes + kEncryptedKeyBytes + tag_bytes;  // e, encrypted s, payload tag
    default: return kEncryptedKeyBytes + tag_bytes;             // encrypted s, payload tag
  }
}

Expected<void, NoiseError> HandshakeState::mix_dh(const crypto::X25519PrivateKey& local,
                                                  const crypto::X25519PublicKey& remote) {
  auto shared = suite_->x25519(local, remote);
  if (!shared) return unexpected(error(Errc::bad_key, shared.error().text));
  symmetric_.mix_key(*shared);
  wipe(*shared);
  return {};
}

Expected<void, NoiseError> HandshakeState::read_remote_static(ByteView& rest) {
  Bytes key;
  key.reserve(kKeyBytes);
  if (auto opened = symmetric_.decrypt_and_hash(rest.first(kEncryptedKeyBytes), key); !opened) return opened;
  std::copy(key.begin(), key.end(), remote_static_.begin());
  has_remote_static_ = true;
  rest = rest.subspan(kEncryptedKeyBytes);
  return {};
}

Expected<void, NoiseError> HandshakeState::write_message(ByteView payload, Bytes& out) {
  if (!is_our_turn()) return unexpected(error(Errc::unexpected_message, "not our turn to write"));
  if (message_overhead_bytes(next_message_) + payload.size() > frame_bytes_max) {
    return unexpected(error(Errc::payload_too_large, "handshake payload does not fit in one message"));
  }
  const auto& ephemeral = keys_.ephemeral_key;
  const auto& static_key = keys_.static_key;
  switch (next_message_) {
    case 0:  // -> e
      append(out, ephemeral.public_key);
      symmetric_.mix_hash(ephemeral.public_key);
      break;
    case 1:  // <- e, ee, s, es
      append(out, ephemeral.public_key);
      symmetric_.mix_hash(ephemeral.public_key);
      if (auto mixed = mix_dh(ephemeral.private_key, remote_ephemeral_); !mixed) return mixed;
      if (auto sealed = symmetric_.encrypt_and_hash(static_key.public_key, out); !sealed) return sealed;
      if (auto mixed = mix_dh(static_key.private_key, remote_ephemeral_); !mixed) return mixed;
      break;
    default:  // -> s, se
      if (auto sealed = symmetric_.encrypt_and_hash(static_key.public_key, out); !sealed) return sealed;
      if (auto mixed = mix_dh(static_key.private_key, remote_ephemeral_); !mixed) return mixed;
      break;
  }
  if (auto sealed = symmetric_.encrypt_and_hash(payload, out); !sealed) return sealed;
  ++next_message_;
  return {};
}

Expected<void, NoiseError> HandshakeState::read_message(ByteView message, Bytes& payload_out) {
  if (is_finished() || is_our_turn()) return unexpected(error(Errc::unexpected_message, "not the remote's turn"));
  if (message.size() < message_overhead_bytes(next_message_)) {
    return unexpected(error(Errc::bad_length, "handshake message " + std::to_string(next_message_ + 1) +
                                                  " is too short: " + std::to_string(message.size()) + " bytes"));
  }
  ByteView rest = message;
  const auto& ephemeral = keys_.ephemeral_key;
  switch (next_message_) {
    case 0:  // -> e
      remote_ephemeral_ = take_key(rest);
      symmetric_.mix_hash(remote_ephemeral_);
      break;
    case 1:  // <- e, ee, s, es
      remote_ephemeral_ = take_key(rest);
      symmetric_.mix_hash(remote_ephemeral_);
      if (auto mixed = mix_dh(ephemeral.private_key, remote_ephemeral_); !mixed) return mixed;
      if (auto opened = read_remote_static(rest); !opened) return opened;
      if (auto mixed = mix_dh(ephemeral.private_key, remote_static_); !mixed) return mixed;
      break;
    default:  // -> s, se
      if (auto opened = read_remote_static(rest); !opened) return opened;
      if (auto mixed = mix_dh(ephemeral.private_key, remote_static_); !mixed) return mixed;
      break;
  }
  if (auto opened = symmetric_.decrypt_and_hash(rest, payload_out); !opened) return opened;
  ++next_message_;
  return {};
}

TransportCiphers HandshakeState::split() {
  if (!is_finished()) __builtin_trap();  // our bug: callers check is_finished()
  auto [initiator_to_responder, responder_to_initiator] = symmetric_.split();
  if (role_ == Role::initiator) {
    return {std::move(initiator_to_responder), std::move(responder_to_initiator)};
  }
  return {std::move(responder_to_initiator), std::move(initiator_to_responder)};
}

}  // namespace taho::noise
