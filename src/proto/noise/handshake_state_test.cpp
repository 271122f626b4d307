#include "proto/noise/handshake_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace taho::noise {
namespace {

Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes));
  return bytes;
}

crypto::X25519KeyPair key_pair(crypto::CryptoSuite& suite, std::string_view private_hex) {
  crypto::X25519KeyPair pair;
  const Bytes bytes = hex(private_hex);
  std::copy_n(bytes.begin(), std::min(bytes.size(), pair.private_key.size()), pair.private_key.begin());
  auto public_key = suite.x25519_public_key(pair.private_key);
  EXPECT_TRUE(public_key);
  if (public_key) pair.public_key = *public_key;
  return pair;
}

// The Noise_XX_25519_ChaChaPoly_SHA256 vector of the cacophony test suite
// (as shipped in snow's tests/vectors/cacophony.txt): fixed keys, prologue
// "John Galt", three handshake messages then three transport messages.
struct VectorMessage {
  std::string_view payload;
  std::string_view ciphertext;
};
constexpr std::string_view kPrologue = "4a6f686e2047616c74";
constexpr std::string_view kInitStatic = "e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1";
constexpr std::string_view kInitEphemeral = "893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a";
constexpr std::string_view kRespStatic = "4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893";
constexpr std::string_view kRespEphemeral = "bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b";
constexpr std::string_view kHandshakeHash = "c8e5f64e846193be2a834104c2a009868d6c9f3bd3c186299888b488b2f1f58e";
constexpr VectorMessage kMessages[] = {
    {"4c756477696720766f6e204d69736573",
     "ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79444c756477696720766f6e204d69736573"},
    {"4d757272617920526f746862617264",
     "95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f14480884381cbad1f276e038c48378ffce2b65285e08d6b68aaa3"
     "629a5a8639392490e5b9bd5269c2f1e4f488ed8831161f19b7815528f8982ffe09be9b5c412f8a0db50f8814c7194e83f23dbd8d1"
     "62c9326ad"},
    {"462e20412e20486179656b",
     "c7195ffacac1307ff99046f219750fc47693e23c3cb08b89c2af808b444850a80ae475b9df0f169ae80a89be0865b57f58c9fea0d4"
     "ec82a286427402f113e4b6ae769a1d95941d49b25030"},
    {"4361726c204d656e676572", "96763ed773f8e47bb3712f0e29b3060ffc956ffc146cee53d5e1df"},
    {"4a65616e2d426170746973746520536179", "3e40f15f6f3a46ae446b253bf8b1d9ffb6ed9b174d272328ff91a7e2e5c79c07f5"},
    {"457567656e2042f6686d20766f6e2042617765726b",
     "eb3f3515110702e047a6c9da4478b6ead94873c11c0f2d710ddb3f09fce024b3a58502ae3f"},
};

TEST(HandshakeState, CacophonyVectorXX25519ChaChaPolySha256) {
  crypto::OpenSslCryptoSuite suite;
  const HandshakeKeys initiator_keys{key_pair(suite, kInitStatic), key_pair(suite, kInitEphemeral)};
  const HandshakeKeys responder_keys{key_pair(suite, kRespStatic), key_pair(suite, kRespEphemeral)};
  HandshakeState initiator(suite, Role::initiator, initiator_keys, hex(kPrologue));
  HandshakeState responder(suite, Role::responder, responder_keys, hex(kPrologue));

  for (std::size_t i = 0; i < HandshakeState::message_count; ++i) {
    HandshakeState& writer = i % 2 == 0 ? initiator : responder;
    HandshakeState& reader = i % 2 == 0 ? responder : initiator;
    ASSERT_TRUE(writer.is_our_turn());
    ASSERT_FALSE(reader.is_our_turn());
    Bytes message;
    ASSERT_TRUE(writer.write_message(hex(kMessages[i].payload), message)) << i;
    EXPECT_EQ(to_hex(message), kMessages[i].ciphertext) << "handshake message " << i;
    Bytes payload;
    ASSERT_TRUE(reader.read_message(message, payload)) << i;
    EXPECT_EQ(to_hex(payload), kMessages[i].payload);
  }
  ASSERT_TRUE(initiator.is_finished() && responder.is_finished());
  EXPECT_EQ(to_hex(initiator.handshake_hash()), kHandshakeHash);
  EXPECT_EQ(to_hex(responder.handshake_hash()), kHandshakeHash);
  EXPECT_EQ(initiator.remote_static(), responder_keys.static_key.public_key);
  EXPECT_EQ(responder.remote_static(), initiator_keys.static_key.public_key);

  // Transport messages continue the alternation: responder first.
  TransportCiphers initiator_ciphers = initiator.split();
  TransportCiphers responder_ciphers = responder.split();
  for (std::size_t i = HandshakeState::message_count; i < std::size(kMessages); ++i) {
    const bool from_responder = i % 2 == 1;
    CipherState& send = from_responder ? responder_ciphers.send : initiator_ciphers.send;
    CipherState& receive = from_responder ? initiator_ciphers.receive : responder_ciphers.receive;
    Bytes ciphertext;
    ASSERT_TRUE(send.encrypt_with_ad({}, hex(kMessages[i].payload), ciphertext));
    EXPECT_EQ(to_hex(ciphertext), kMessages[i].ciphertext) << "transport message " << i;
    Bytes plaintext;
    ASSERT_TRUE(receive.decrypt_with_ad({}, ciphertext, plaintext));
    EXPECT_EQ(to_hex(plaintext), kMessages[i].payload);
  }
}

TEST(HandshakeState, RejectsOutOfTurnAndShortMessages) {
  crypto::OpenSslCryptoSuite suite;
  const HandshakeKeys keys{key_pair(suite, kInitStatic), key_pair(suite, kInitEphemeral)};
  HandshakeState initiator(suite, Role::initiator, keys, {});
  HandshakeState responder(suite, Role::responder, keys, {});
  Bytes out;
  auto wrong_turn = responder.write_message({}, out);
  ASSERT_FALSE(wrong_turn);
  EXPECT_EQ(wrong_turn.error().code, Errc::unexpected_message);
  auto not_theirs = initiator.read_message(Bytes(32, 1), out);
  ASSERT_FALSE(not_theirs);
  EXPECT_EQ(not_theirs.error().code, Errc::unexpected_message);
  auto short_message = responder.read_message(Bytes(31, 1), out);
  ASSERT_FALSE(short_message);
  EXPECT_EQ(short_message.error().code, Errc::bad_length);
}

TEST(HandshakeState, LowOrderEphemeralKeyIsRejected) {
  crypto::OpenSslCryptoSuite suite;
  const HandshakeKeys keys{key_pair(suite, kRespStatic), key_pair(suite, kRespEphemeral)};
  HandshakeState responder(suite, Role::responder, keys, {});
  Bytes payload;
  ASSERT_TRUE(responder.read_message(Bytes(32, 0), payload));  // e = 0: a point of order 1
  Bytes message;
  auto written = responder.write_message({}, message);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, Errc::bad_key);
}

TEST(HandshakeState, OversizedPayloadIsRefused) {
  crypto::OpenSslCryptoSuite suite;
  const HandshakeKeys keys{key_pair(suite, kInitStatic), key_pair(suite, kInitEphemeral)};
  HandshakeState initiator(suite, Role::initiator, keys, {});
  Bytes message;
  auto written = initiator.write_message(Bytes(65535 - 31, 0), message);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().code, Errc::payload_too_large);
  EXPECT_TRUE(initiator.write_message(Bytes(65535 - 32, 0), message));
  EXPECT_EQ(message.size(), 65535u);
}

}  // namespace
}  // namespace taho::noise
