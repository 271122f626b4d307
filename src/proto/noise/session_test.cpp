#include "proto/noise/session.hpp"

#include <gtest/gtest.h>

#include <random>

#include "crypto/crypto_suite.hpp"

namespace taho::noise {
namespace {

// Two sessions wired to each other with fixed keys, as after a handshake.
struct SessionPair {
  crypto::OpenSslCryptoSuite suite;
  Session alice;
  Session bob;

  SessionPair() : alice(ciphers(suite, 1, 2)), bob(ciphers(suite, 2, 1)) {}

  static TransportCiphers ciphers(crypto::CryptoSuite& suite, std::uint8_t send_key, std::uint8_t receive_key) {
    crypto::AeadKey send{}, receive{};
    send.fill(send_key);
    receive.fill(receive_key);
    return {CipherState(suite.chacha20_poly1305(send)), CipherState(suite.chacha20_poly1305(receive))};
  }
};

Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 generator(seed);
  Bytes bytes(size);
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(generator());
  return bytes;
}

std::size_t frame_length_at(const Bytes& wire, std::size_t offset) {
  return std::size_t{wire[offset]} << 8 | wire[offset + 1];
}

TEST(Session, SeveralMebibytesRoundTripInMaximalFramesWithRandomFragmentation) {
  SessionPair pair;
  const Bytes data = random_bytes(5 * 1024 * 1024 + 123, 7);
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(data, wire));

  // Every frame but the last carries exactly frame_plaintext_bytes_max bytes.
  const std::size_t frames = (data.size() + frame_plaintext_bytes_max - 1) / frame_plaintext_bytes_max;
  EXPECT_EQ(wire.size(), data.size() + frames * (frame_header_bytes + tag_bytes));
  EXPECT_EQ(frame_length_at(wire, 0), frame_bytes_max);
  EXPECT_EQ(pair.alice.frames_sent(), frames);

  std::mt19937 generator(11);
  Bytes received;
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t piece = std::min<std::size_t>(wire.size() - offset, 1 + generator() % 100000);
    ASSERT_TRUE(pair.bob.decrypt(ByteView(wire).subspan(offset, piece), received));
    EXPECT_LE(pair.bob.buffered_bytes(), frame_header_bytes + frame_bytes_max);
    offset += piece;
  }
  EXPECT_EQ(pair.bob.buffered_bytes(), 0u);
  EXPECT_EQ(received, data);
  EXPECT_EQ(pair.bob.frames_received(), frames);
}

// The receive path the swarm uses: one reused buffer, never cleared between
// reads, sized by decrypt_room.
TEST(Session, DecryptIntoAReusedBufferMatchesDecryptUnderRandomFragmentation) {
  SessionPair pair;
  const Bytes data = random_bytes(3 * 1024 * 1024 + 77, 9);
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(data, wire));
  std::mt19937 generator(5);
  Bytes scratch;
  Bytes received;
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t piece = std::min<std::size_t>(wire.size() - offset, 1 + generator() % 300000);
    const std::size_t room = pair.bob.decrypt_room(piece);
    if (scratch.size() < room) scratch.resize(room, 0xee);  // stale bytes must never leak out
    auto written = pair.bob.decrypt_into(ByteView(wire).subspan(offset, piece), scratch);
    ASSERT_TRUE(written);
    ASSERT_LE(*written, room);
    append(received, ByteView(scratch).first(*written));
    offset += piece;
  }
  EXPECT_EQ(pair.bob.buffered_bytes(), 0u);
  EXPECT_TRUE(received == data);
}

TEST(Session, DecryptIntoFailsForGoodOnATamperedFrame) {
  SessionPair pair;
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(random_bytes(1000, 1), wire));
  ASSERT_TRUE(pair.alice.encrypt(random_bytes(1000, 2), wire));
  wire[frame_header_bytes + 1000 + tag_bytes + frame_header_bytes + 10] ^= 1;  // inside the second frame
  Bytes scratch(pair.bob.decrypt_room(wire.size()));
  auto written = pair.bob.decrypt_into(wire, scratch);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, Errc::decrypt_failed);
  // The session is dead: even a well-formed continuation fails the same way.
  Bytes more;
  ASSERT_TRUE(pair.alice.encrypt(random_bytes(10, 3), more));
  Bytes room(pair.bob.decrypt_room(more.size()));
  auto again = pair.bob.decrypt_into(more, room);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::decrypt_failed);
}

TEST(Session, OneByteAtATimeBothWays) {
  SessionPair pair;
  const Bytes from_alice = random_bytes(70000, 1);
  const Bytes from_bob = random_bytes(300, 2);
  Bytes wire_to_bob, wire_to_alice;
  ASSERT_TRUE(pair.alice.encrypt(from_alice, wire_to_bob));
  ASSERT_TRUE(pair.bob.encrypt(from_bob, wire_to_alice));
  Bytes at_bob, at_alice;
  for (const std::uint8_t byte : wire_to_bob) ASSERT_TRUE(pair.bob.decrypt(ByteView(&byte, 1), at_bob));
  for (const std::uint8_t byte : wire_to_alice) ASSERT_TRUE(pair.alice.decrypt(ByteView(&byte, 1), at_alice));
  EXPECT_EQ(at_bob, from_alice);
  EXPECT_EQ(at_alice, from_bob);
}

TEST(Session, InPlaceFramesMatchTheCopyingPath) {
  SessionPair copying, in_place;
  const Bytes data = random_bytes(frame_plaintext_bytes_max, 5);
  Bytes expected;
  ASSERT_TRUE(copying.alice.encrypt(data, expected));
  ASSERT_TRUE(copying.alice.encrypt(to_bytes("x"), expected));

  Bytes frame(frame_header_bytes + data.size() + tag_bytes);
  std::copy(data.begin(), data.end(), frame.begin() + frame_header_bytes);
  ASSERT_TRUE(in_place.alice.encrypt_frame_in_place(frame));
  Bytes small = {0, 0, 'x'};
  small.resize(small.size() + tag_bytes);
  ASSERT_TRUE(in_place.alice.encrypt_frame_in_place(small));
  append(frame, small);
  EXPECT_EQ(frame, expected);

  Bytes too_big(frame_header_bytes + frame_plaintext_bytes_max + 1 + tag_bytes);
  auto refused = in_place.alice.encrypt_frame_in_place(too_big);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_length);
  Bytes too_small(frame_header_bytes + tag_bytes - 1);
  EXPECT_FALSE(in_place.alice.encrypt_frame_in_place(too_small));
  EXPECT_EQ(in_place.alice.frames_sent(), 2u);
}

TEST(Session, EmptyPlaintextWritesNothing) {
  SessionPair pair;
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt({}, wire));
  EXPECT_TRUE(wire.empty());
  EXPECT_EQ(pair.alice.frames_sent(), 0u);
}

TEST(Session, TagOnlyFrameDecryptsToNothing) {
  SessionPair pair;
  crypto::AeadKey key{};
  key.fill(1);  // alice's send key
  CipherState sender(pair.suite.chacha20_poly1305(key));
  Bytes body;
  ASSERT_TRUE(sender.encrypt_with_ad({}, {}, body));
  Bytes wire;
  append_frame_header(wire, body.size());
  append(wire, body);
  Bytes plaintext;
  ASSERT_TRUE(pair.bob.decrypt(wire, plaintext));
  EXPECT_TRUE(plaintext.empty());
  EXPECT_EQ(pair.bob.frames_received(), 1u);
}

TEST(Session, TamperingFailsForGood) {
  SessionPair pair;
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("first"), wire));
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("second"), wire));
  wire[5] ^= 0x20;  // inside the first frame's ciphertext
  Bytes plaintext;
  auto result = pair.bob.decrypt(wire, plaintext);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::decrypt_failed);
  EXPECT_TRUE(plaintext.empty());
  // Even a genuine frame is refused afterwards.
  Bytes more;
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("third"), more));
  auto again = pair.bob.decrypt(more, plaintext);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::decrypt_failed);
}

TEST(Session, ReorderedFramesFail) {
  SessionPair pair;
  Bytes first, second;
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("first"), first));
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("second"), second));
  Bytes plaintext;
  auto result = pair.bob.decrypt(second, plaintext);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::decrypt_failed);
}

TEST(Session, FramesShorterThanTheTagAreBadLength) {
  for (const std::size_t length : {0u, 1u, 15u}) {
    SessionPair pair;
    Bytes wire;
    append_frame_header(wire, length);
    wire.insert(wire.end(), length, 0);
    Bytes plaintext;
    auto result = pair.bob.decrypt(wire, plaintext);
    ASSERT_FALSE(result) << length;
    EXPECT_EQ(result.error().code, Errc::bad_length);
  }
}

TEST(Session, FramesDecryptedBeforeAFailureAreDelivered) {
  SessionPair pair;
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("good"), wire));
  append_frame_header(wire, 3);
  wire.insert(wire.end(), 3, 0);
  Bytes plaintext;
  EXPECT_FALSE(pair.bob.decrypt(wire, plaintext));
  EXPECT_EQ(as_text(plaintext), "good");
}

// Noise §5.1: nonce 2^64-1 is reserved, so 2^64-1 messages is the end; no rekey.
TEST(Session, NonceExhaustionIsAnError) {
  SessionPair pair;
  pair.alice.set_nonces_for_test(CipherState::nonce_max - 1, 0);
  pair.bob.set_nonces_for_test(0, CipherState::nonce_max - 1);
  Bytes wire;
  ASSERT_TRUE(pair.alice.encrypt(to_bytes("last"), wire));
  Bytes plaintext;
  ASSERT_TRUE(pair.bob.decrypt(wire, plaintext));
  EXPECT_EQ(as_text(plaintext), "last");

  Bytes more;
  auto sent = pair.alice.encrypt(to_bytes("one too many"), more);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, Errc::nonce_exhausted);
  EXPECT_TRUE(more.empty());
  // The receiver refuses too, whatever arrives.
  Bytes forged;
  append_frame_header(forged, 20);
  forged.insert(forged.end(), 20, 0);
  auto received = pair.bob.decrypt(forged, plaintext);
  ASSERT_FALSE(received);
  EXPECT_EQ(received.error().code, Errc::nonce_exhausted);
}

}  // namespace
}  // namespace taho::noise
