// libp2p's Noise handshake (libp2p noise spec): Noise_XX_25519_ChaChaPoly_SHA256
// with an empty prologue, each message framed by a 2-byte length, and a
// NoiseHandshakePayload in messages 2 (responder) and 3 (initiator) that
// binds the sender's static key to its libp2p identity with an Ed25519
// signature and carries its extensions.
//
// Sans-IO: feed received bytes to handle_data(), send what poll_transmit()
// returns, and once is_complete() take the Session and the authenticated
// remote identity with finish(). Timeouts belong to the driver.
//
//   auto hs = noise::Handshake::start(noise::Role::initiator, options, suite, rng);
//   send(hs->poll_transmit());
//   on bytes: auto used = hs->handle_data(bytes);  // error → close
//             send(hs->poll_transmit());
//             if (hs->is_complete()) { auto done = hs->finish();
//                                      done->session.decrypt(bytes.subspan(*used), ...); }
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "crypto/crypto_suite.hpp"
#include "crypto/ed25519.hpp"
#include "proto/noise/errors.hpp"
#include "proto/noise/framing.hpp"
#include "proto/noise/handshake_state.hpp"
#include "proto/noise/payload.hpp"
#include "proto/noise/session.hpp"

namespace taho::noise {

struct HandshakeOptions {
  // Our libp2p identity; it signs our static Noise key.
  crypto::Ed25519KeyPair identity;
  // NoiseExtensions.stream_muxers we offer, in preference order; empty sends
  // none and leaves muxer choice to multistream-select (INTEROP-NOTES.md).
  std::vector<std::string> stream_muxers;
  // NoiseExtensions.webtransport_certhashes (multihashes); for WebTransport only.
  std::vector<Bytes> webtransport_certhashes;
  // The peer we dialed, if known (e.g. from the multiaddr's /p2p). The
  // initiator checks it before sending its own identity; a responder may
  // set it too.
  std::optional<PeerId> expected_remote_peer;
  // Our static Noise key; by default a fresh one per handshake from the Rng
  // (the spec advises against persisting it).
  std::optional<crypto::X25519KeyPair> static_key;
};

// The remote's identity, authenticated by the handshake.
struct RemoteIdentity {
  PeerId peer_id;
  Bytes public_key;  // the libp2p PublicKey protobuf, as sent (canonical)
  crypto::Ed25519PublicKey ed25519_key{};
  crypto::X25519PublicKey noise_static_key{};
};

struct HandshakeOutcome {
  Session session;
  RemoteIdentity remote;
  Extensions remote_extensions;  // empty lists when the remote sent none
  bool remote_sent_extensions = false;
  crypto::Sha256Digest handshake_hash{};  // channel binding
};

class Handshake {
 public:
  // Draws the ephemeral (and, unless given, static) key from `rng`. For the
  // initiator, message 1 is ready in poll_transmit() on return. `suite` must
  // outlive the Handshake; the Session it yields does not need it.
  static Expected<Handshake, NoiseError> start(Role role, HandshakeOptions options, crypto::CryptoSuite& suite,
                                               Rng& rng);
  // The same with every key given: for test vectors and replayable harnesses.
  static Expected<Handshake, NoiseError> start_with_keys(Role role, HandshakeOptions options,
                                                         crypto::CryptoSuite& suite, const HandshakeKeys& keys);

  // Feeds bytes from the remote, in any fragmentation. Returns how many were
  // used: once the handshake completes it stops, and the rest belongs to the
  // transport (Session::decrypt). A partial message is buffered (at most one
  // frame). The first error is final and is returned again on later calls.
  Expected<std::size_t, NoiseError> handle_data(ByteView received);

  // Framed handshake bytes to send now; empty when there are none.
  Bytes poll_transmit();

  Role role() const { return state_.role(); }
  bool is_complete() const { return state_.is_finished() && !failure_; }
  bool has_failed() const { return failure_.has_value(); }

  // Once complete: the transport session and what we learned about the
  // remote. Callable once; drain poll_transmit() too (the initiator's last
  // message is queued when it completes).
  Expected<HandshakeOutcome, NoiseError> finish();

 private:
  Handshake(Role role, HandshakeOptions options, crypto::CryptoSuite& suite, const HandshakeKeys& keys);
  Expected<void, NoiseError> write_next_message();
  Expected<void, NoiseError> read_message(ByteView message);
  Expected<void, NoiseError> authenticate_remote(ByteView payload);

  crypto::CryptoSuite* suite_;  // never null; a pointer so the Handshake stays movable
  HandshakeOptions options_;
  HandshakeState state_;
  Bytes local_payload_;  // sent in our encrypted message (2 or 3)
  Bytes outbox_;
  FrameDecoder frames_;
  std::optional<NoiseError> failure_;
  std::optional<RemoteIdentity> remote_;
  Extensions remote_extensions_;
  bool remote_sent_extensions_ = false;
  bool finished_ = false;
};

}  // namespace taho::noise
