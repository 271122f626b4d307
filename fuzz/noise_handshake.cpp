// Fuzzes what a remote controls in libp2p Noise: a responder's handshake, an
// initiator's handshake after message 1, the transport decryptor, and the
// handshake payload decoder (which the others only reach after decryption,
// so it gets bytes directly). Never crashes, never buffers past its bounds.
//
// Input: byte 0 picks the target, byte 1 the fragment size, the rest is the
// stream (or payload) from the remote.
#include <algorithm>
#include <cstdlib>

#include "crypto/crypto_suite.hpp"
#include "proto/noise/handshake.hpp"
#include "proto/noise/payload.hpp"
#include "proto/noise/session.hpp"

namespace {

using namespace taho;

// Deterministic, so a crash reproduces from its input alone.
class CountingRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = static_cast<std::uint8_t>(++counter_ * 167);
  }

 private:
  std::uint32_t counter_ = 0;
};

void check(bool condition) {
  if (!condition) std::abort();
}

noise::HandshakeOptions options() {
  crypto::Ed25519Seed seed{};
  seed.fill(7);
  noise::HandshakeOptions result;
  result.identity = *crypto::Ed25519KeyPair::from_seed(seed);
  result.stream_muxers = {"/yamux/1.0.0"};
  return result;
}

// Feeds `stream` in pieces of `piece_bytes`, as a socket might deliver it.
void feed_handshake(noise::Handshake& handshake, ByteView stream, std::size_t piece_bytes) {
  while (!stream.empty()) {
    const ByteView piece = stream.first(std::min(piece_bytes, stream.size()));
    auto used = handshake.handle_data(piece);
    if (!used) {
      check(handshake.has_failed() && handshake.poll_transmit().empty());
      check(!handshake.handle_data(piece));  // failures are final
      return;
    }
    check(*used <= piece.size());
    (void)handshake.poll_transmit();
    if (*used < piece.size() || handshake.is_complete()) {
      // Only a completed handshake stops consuming (and completing needs a
      // forged signature, but if it ever happens the result must be sound).
      check(handshake.is_complete() && handshake.finish().has_value());
      return;
    }
    stream = stream.subspan(piece.size());
  }
}

void fuzz_handshake(noise::Role role, ByteView stream, std::size_t piece_bytes) {
  crypto::OpenSslCryptoSuite suite;
  CountingRng rng;
  auto handshake = noise::Handshake::start(role, options(), suite, rng);
  check(handshake.has_value());
  (void)handshake->poll_transmit();
  feed_handshake(*handshake, stream, piece_bytes);
}

void fuzz_transport(ByteView stream, std::size_t piece_bytes) {
  crypto::OpenSslCryptoSuite suite;
  crypto::AeadKey key{};
  key.fill(3);
  noise::Session session(noise::TransportCiphers{noise::CipherState(suite.chacha20_poly1305(key)),
                                                 noise::CipherState(suite.chacha20_poly1305(key))});
  Bytes plaintext;
  while (!stream.empty()) {
    const ByteView piece = stream.first(std::min(piece_bytes, stream.size()));
    if (!session.decrypt(piece, plaintext)) return;
    check(session.buffered_bytes() <= noise::frame_header_bytes + noise::frame_bytes_max);
    stream = stream.subspan(piece.size());
  }
}

void fuzz_payload(ByteView payload) {
  auto decoded = noise::decode_payload(payload);
  if (!decoded) return;
  check(decoded->extensions.stream_muxers.size() <= noise::extension_entries_max);
  check(decoded->extensions.webtransport_certhashes.size() <= noise::extension_entries_max);
  (void)noise::decode_ed25519_identity(decoded->identity_key);
  // What we decode we can encode again, and that decodes to the same thing.
  auto again = noise::decode_payload(noise::encode_payload(*decoded));
  check(again.has_value() && again->identity_key == decoded->identity_key &&
        again->identity_sig == decoded->identity_sig && again->extensions == decoded->extensions);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t piece_bytes = 1 + std::size_t{data[1]} * 4;
  const ByteView stream(data + 2, size - 2);
  switch (data[0] % 4) {
    case 0: fuzz_handshake(noise::Role::responder, stream, piece_bytes); break;
    case 1: fuzz_handshake(noise::Role::initiator, stream, piece_bytes); break;
    case 2: fuzz_transport(stream, piece_bytes); break;
    default: fuzz_payload(stream); break;
  }
  return 0;
}
