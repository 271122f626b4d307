// The transport phase of a libp2p Noise connection: framed ChaChaPoly in both
// directions, 64-bit counters as nonces, no rekey. Sans-IO: bytes in, bytes out.
#pragma once

#include <cstddef>
#include <optional>

#include "base/bytes.hpp"
#include "proto/noise/cipher_state.hpp"
#include "proto/noise/errors.hpp"
#include "proto/noise/framing.hpp"
#include "proto/noise/handshake_state.hpp"

namespace taho::noise {

class Session {
 public:
  explicit Session(TransportCiphers ciphers);

  // Appends `plaintext` to `wire_out` as frames of at most
  // frame_plaintext_bytes_max plaintext bytes each, encrypted straight into
  // `wire_out` (reserve it to avoid reallocation). Empty input writes nothing.
  // Fails only when the send nonce is exhausted; the session is then dead.
  Expected<void, NoiseError> encrypt(ByteView plaintext, Bytes& wire_out);

  // The copy-free path for a caller that builds frames itself: `frame` is
  // frame_header_bytes of room, the plaintext (at most
  // frame_plaintext_bytes_max), then tag_bytes of room. Writes the header,
  // encrypts in place and writes the tag; `frame` is then ready to send.
  Expected<void, NoiseError> encrypt_frame_in_place(MutableByteView frame);

  // Feeds bytes as they arrive (any fragmentation) and appends the plaintext
  // of every frame they complete to `plaintext_out`. A partial frame is kept
  // (at most frame_header_bytes + frame_bytes_max bytes). Any failure is
  // final: every later call returns it again.
  Expected<void, NoiseError> decrypt(ByteView wire, Bytes& plaintext_out);

  // The same into a caller's buffer, which is neither grown nor zeroed (a
  // receive path reuses one buffer for every read): returns how many
  // plaintext bytes were written to the front of `plaintext_out`. It must
  // hold at least decrypt_room(wire.size()) bytes. Failures as decrypt().
  Expected<std::size_t, NoiseError> decrypt_into(ByteView wire, MutableByteView plaintext_out);
  // Plaintext that `wire_bytes` more bytes can complete, at most: they and
  // the partial frame held back, less a tag.
  std::size_t decrypt_room(std::size_t wire_bytes) const { return wire_bytes + buffered_bytes(); }

  // Bytes of an incomplete incoming frame held back.
  std::size_t buffered_bytes() const { return frames_.buffered_bytes(); }
  std::uint64_t frames_sent() const { return send_.nonce(); }
  std::uint64_t frames_received() const { return receive_.nonce(); }

  // For tests of nonce exhaustion only.
  void set_nonces_for_test(std::uint64_t send, std::uint64_t receive);

 private:
  CipherState send_;
  CipherState receive_;
  FrameDecoder frames_;
  std::optional<NoiseError> send_failure_;
  std::optional<NoiseError> receive_failure_;
};

}  // namespace taho::noise
