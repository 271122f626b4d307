#include "proto/noise/handshake.hpp"

#include <utility>

namespace taho::noise {
namespace {

NoiseError error(Errc code, std::string detail) { return NoiseError{code, std::move(detail)}; }

// libp2p uses an empty prologue (INTEROP-NOTES.md).
constexpr ByteView kPrologue{};

}  // namespace

Handshake::Handshake(Role role, HandshakeOptions options, crypto::CryptoSuite& suite, const HandshakeKeys& keys)
    : suite_(&suite), options_(std::move(options)), state_(suite, role, keys, kPrologue) {
  HandshakePayload payload;
  payload.identity_key = PublicKey::ed25519(options_.identity.public_key()).encode();
  const auto signature = options_.identity.sign(static_key_signature_message(keys.static_key.public_key));
  payload.identity_sig.assign(signature.begin(), signature.end());
  payload.extensions.stream_muxers = options_.stream_muxers;
  payload.extensions.webtransport_certhashes = options_.webtransport_certhashes;
  payload.has_extensions = !payload.extensions.stream_muxers.empty() ||
                           !payload.extensions.webtransport_certhashes.empty();
  local_payload_ = encode_payload(payload);
}

Expected<Handshake, NoiseError> Handshake::start(Role role, HandshakeOptions options, crypto::CryptoSuite& suite,
                                                 Rng& rng) {
  HandshakeKeys keys;
  if (options.static_key) {
    keys.static_key = *options.static_key;
  } else {
    auto generated = suite.generate_x25519(rng);
    if (!generated) return unexpected(error(Errc::crypto_failure, generated.error().text));
    keys.static_key = *generated;
  }
  auto ephemeral = suite.generate_x25519(rng);
  if (!ephemeral) return unexpected(error(Errc::crypto_failure, ephemeral.error().text));
  keys.ephemeral_key = *ephemeral;
  return start_with_keys(role, std::move(options), suite, keys);
}

Expected<Handshake, NoiseError> Handshake::start_with_keys(Role role, HandshakeOptions options,
                                                           crypto::CryptoSuite& suite, const HandshakeKeys& keys) {
  Handshake handshake(role, std::move(options), suite, keys);
  // Our payload goes in message 2 or 3; message 2 has the larger overhead.
  if (HandshakeState::message_overhead_bytes(1) + handshake.local_payload_.size() > frame_bytes_max) {
    return unexpected(error(Errc::payload_too_large, "our extensions do not fit in one handshake message"));
  }
  if (role == Role::initiator) {
    if (auto written = handshake.write_next_message(); !written) return unexpected(std::move(written).error());
  }
  return handshake;
}

Expected<void, NoiseError> Handshake::write_next_message() {
  // The initiator's first message carries no payload: nothing in it is
  // encrypted yet, and the spec forbids extensions there.
  const ByteView payload = state_.next_message() == 0 ? ByteView{} : ByteView(local_payload_);
  Bytes message;
  message.reserve(HandshakeState::message_overhead_bytes(state_.next_message()) + payload.size());
  if (auto written = state_.write_message(payload, message); !written) return written;
  append_frame_header(outbox_, message.size());
  append(outbox_, message);
  return {};
}

Expected<std::size_t, NoiseError> Handshake::handle_data(ByteView received) {
  if (failure_) return unexpected(*failure_);
  std::size_t used = 0;
  while (!state_.is_finished() && used < received.size()) {
    std::size_t consumed = 0;
    const std::optional<ByteView> frame = frames_.next(received.subspan(used), consumed);
    used += consumed;
    if (!frame) break;
    if (auto handled = read_message(*frame); !handled) {
      failure_ = handled.error();
      // Whatever we queued must not go out after a failure.
      outbox_.clear();
      return unexpected(std::move(handled).error());
    }
  }
  return used;
}

Expected<void, NoiseError> Handshake::read_message(ByteView message) {
  const std::size_t index = state_.next_message();
  Bytes payload;
  if (auto read = state_.read_message(message, payload); !read) return read;
  // Message 1's payload is unauthenticated and, in libp2p, empty: ignore it.
  if (index > 0) {
    if (auto authenticated = authenticate_remote(payload); !authenticated) return authenticated;
  }
  if (!state_.is_finished()) return write_next_message();
  return {};
}

Expected<void, NoiseError> Handshake::authenticate_remote(ByteView payload_bytes) {
  auto payload = decode_payload(payload_bytes);
  if (!payload) return unexpected(std::move(payload).error());
  auto key = decode_ed25519_identity(payload->identity_key);
  if (!key) return unexpected(std::move(key).error());
  const Bytes signed_message = static_key_signature_message(state_.remote_static());
  if (!suite_->ed25519_verify(*key, signed_message, payload->identity_sig)) {
    return unexpected(error(Errc::bad_signature, "identity_sig does not sign the remote static key"));
  }
  PeerId peer_id = PeerId::from_ed25519(*key);
  if (options_.expected_remote_peer && *options_.expected_remote_peer != peer_id) {
    return unexpected(error(Errc::peer_id_mismatch, "remote is " + peer_id.to_string() + ", expected " +
                                                        options_.expected_remote_peer->to_string()));
  }
  remote_.emplace(RemoteIdentity{std::move(peer_id), std::move(payload->identity_key), *key, state_.remote_static()});
  remote_extensions_ = std::move(payload->extensions);
  remote_sent_extensions_ = payload->has_extensions;
  return {};
}

Bytes Handshake::poll_transmit() { return std::exchange(outbox_, Bytes{}); }

Expected<HandshakeOutcome, NoiseError> Handshake::finish() {
  if (failure_) return unexpected(*failure_);
  if (!state_.is_finished() || !remote_) {
    return unexpected(error(Errc::unexpected_message, "the handshake has not completed"));
  }
  if (finished_) return unexpected(error(Errc::unexpected_message, "the handshake result was already taken"));
  finished_ = true;
  return HandshakeOutcome{Session(state_.split()), std::move(*remote_), std::move(remote_extensions_),
                          remote_sent_extensions_, state_.handshake_hash()};
}

}  // namespace taho::noise
