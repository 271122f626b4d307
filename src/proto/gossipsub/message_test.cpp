#include "proto/gossipsub/message.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace taho::gossipsub {
namespace {

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

TEST(GossipsubMessage, SignsWithEveryStrictSignField) {
  const auto key = key_from(1);
  const Message message = sign_message(key, "topic", to_bytes("data"), 0x0102030405060708ull);
  EXPECT_EQ(message.from, PeerId::from_ed25519(key.public_key()).bytes());
  EXPECT_EQ(to_hex(*message.seqno), "0102030405060708");
  EXPECT_EQ(message.key, PublicKey::ed25519(key.public_key()).encode());
  ASSERT_TRUE(message.signature.has_value());
  EXPECT_EQ(message.signature->size(), 64u);
  const auto author = validate_strict(message);
  ASSERT_TRUE(author.has_value()) << author.error().detail;
  EXPECT_EQ(*author, PeerId::from_ed25519(key.public_key()));
}

TEST(GossipsubMessage, SigningBytesArePrefixPlusUnsignedProtobuf) {
  const auto key = key_from(2);
  const Message message = sign_message(key, "t", Bytes{0xee}, 1);
  // "libp2p-pubsub:" then from (1), data (2), seqno (3), topic (4); no signature, no key.
  std::string expected = to_hex(to_bytes("libp2p-pubsub:"));
  expected += "0a26" + to_hex(*message.from);
  expected += "1201ee";
  expected += "1a080000000000000001";
  expected += "220174";
  EXPECT_EQ(to_hex(signing_bytes(message)), expected);
  // The signature verifies over exactly those bytes.
  crypto::Ed25519PublicKey public_key = key.public_key();
  EXPECT_TRUE(crypto::ed25519_verify(public_key, signing_bytes(message), *message.signature));
}

TEST(GossipsubMessage, IdIsProtobufKeyThenSeqno) {
  const auto key = key_from(3);
  const Message message = sign_message(key, "t", Bytes{}, 0xff);
  const std::string id = to_hex(message_id(message));
  EXPECT_EQ(id, "08011220" + to_hex(key.public_key()) + "00000000000000ff");
}

TEST(GossipsubMessage, RejectsMissingFields) {
  const Message good = sign_message(key_from(4), "t", to_bytes("x"), 9);
  struct Case {
    void (*strip)(Message&);
    validation::Errc code;
  };
  const Case cases[] = {
      {[](Message& m) { m.from.reset(); }, validation::Errc::missing_from},
      {[](Message& m) { m.seqno.reset(); }, validation::Errc::missing_seqno},
      {[](Message& m) { m.signature.reset(); }, validation::Errc::missing_signature},
      {[](Message& m) { m.key.reset(); }, validation::Errc::missing_key},
  };
  for (const auto& c : cases) {
    Message message = good;
    c.strip(message);
    const auto result = validate_strict(message);
    ASSERT_FALSE(result.has_value());
    EXPECT_EQ(result.error().code, c.code) << to_string(c.code);
  }
}

TEST(GossipsubMessage, RejectsEveryTamperedField) {
  const auto key = key_from(5);
  const Message good = sign_message(key, "topic", to_bytes("payload"), 42);
  const auto other = key_from(6);
  const Message foreign = sign_message(other, "topic", to_bytes("payload"), 42);
  struct Case {
    const char* what;
    Message message;
    validation::Errc code;
  };
  std::vector<Case> cases;
  auto tampered = [&](const char* what, auto change, validation::Errc code) {
    Message message = good;
    change(message);
    cases.push_back({what, std::move(message), code});
  };
  tampered("data", [](Message& m) { m.data[0] ^= 1; }, validation::Errc::bad_signature);
  tampered("empty data", [](Message& m) { m.data.clear(); }, validation::Errc::bad_signature);
  tampered("topic", [](Message& m) { m.topic = "other"; }, validation::Errc::bad_signature);
  tampered("seqno value", [](Message& m) { (*m.seqno)[7] ^= 1; }, validation::Errc::bad_signature);
  tampered("seqno length", [](Message& m) { m.seqno->push_back(0); }, validation::Errc::bad_seqno);
  tampered("short seqno", [](Message& m) { m.seqno->pop_back(); }, validation::Errc::bad_seqno);
  tampered("signature", [](Message& m) { (*m.signature)[0] ^= 1; }, validation::Errc::bad_signature);
  tampered("short signature", [](Message& m) { m.signature->pop_back(); }, validation::Errc::bad_signature);
  tampered("from garbage", [](Message& m) { m.from = Bytes{0xff, 0xff}; }, validation::Errc::bad_from);
  tampered("from other peer", [&](Message& m) { m.from = foreign.from; }, validation::Errc::key_mismatch);
  tampered("key other peer", [&](Message& m) { m.key = foreign.key; }, validation::Errc::key_mismatch);
  tampered("key garbage", [](Message& m) { m.key = Bytes{0x08, 0x01}; }, validation::Errc::bad_key);
  tampered("key rsa", [](Message& m) { m.key = Bytes{0x08, 0x00, 0x12, 0x01, 0x01}; }, validation::Errc::unsupported_key);
  // Re-signing by another key with our `from` still fails: key and from disagree.
  tampered("signature by other", [&](Message& m) { m.signature = foreign.signature; }, validation::Errc::bad_signature);
  for (const auto& c : cases) {
    const auto result = validate_strict(c.message);
    ASSERT_FALSE(result.has_value()) << c.what;
    EXPECT_EQ(result.error().code, c.code) << c.what << ": " << to_string(result.error().code);
  }
  EXPECT_TRUE(validate_strict(good).has_value());
  EXPECT_TRUE(validate_strict(foreign).has_value());
}

TEST(GossipsubMessage, SurvivesTheWire) {
  const Message message = sign_message(key_from(7), "t", Bytes(600, 0x5a), 1);
  Rpc rpc;
  rpc.publish.push_back(message);
  const auto decoded = decode_rpc(encode_rpc(rpc));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->publish.size(), 1u);
  EXPECT_TRUE(validate_strict(decoded->publish[0]).has_value());
  EXPECT_EQ(message_id(decoded->publish[0]), message_id(message));
}

// The fuzz seed `signed_message` was built and signed by Python's
// `cryptography` package from the spec, independently of this code: one
// steering byte, then an RPC with one subscription and one message.
TEST(GossipsubMessage, ValidatesAMessageSignedElsewhere) {
  std::ifstream file(std::string(TAHO_SOURCE_DIR) + "/fuzz/corpus/gossipsub_rpc/signed_message", std::ios::binary);
  ASSERT_TRUE(file.good());
  const Bytes seed{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  ASSERT_GT(seed.size(), 1u);
  const auto rpc = decode_rpc(ByteView(seed).subspan(1));
  ASSERT_TRUE(rpc.has_value()) << rpc.error().detail;
  ASSERT_EQ(rpc->publish.size(), 1u);
  const Message& message = rpc->publish[0];
  const auto author = validate_strict(message);
  ASSERT_TRUE(author.has_value()) << author.error().detail;
  crypto::Ed25519Seed key_seed{};
  key_seed.fill(7);
  const auto key = *crypto::Ed25519KeyPair::from_seed(key_seed);
  EXPECT_EQ(*author, PeerId::from_ed25519(key.public_key()));
  EXPECT_EQ(as_text(message.data), "hello gossip");
  EXPECT_EQ(to_hex(message_id(message)), "08011220" + to_hex(key.public_key()) + "0000000000000005");
  // Our signer produces the same message, byte for byte (Ed25519 is deterministic).
  EXPECT_EQ(sign_message(key, "t", to_bytes("hello gossip"), 5), message);
}

TEST(GossipsubMessage, StrictNoSignAcceptsOnlyDataAndTopic) {
  Message plain;
  plain.data = to_bytes("data");
  plain.topic = "t";
  EXPECT_TRUE(validate_strict_no_sign(plain).has_value());
  const Message signed_message = sign_message(key_from(3), "t", to_bytes("data"), 1);
  for (int field = 0; field < 4; ++field) {
    Message carrying = plain;
    if (field == 0) carrying.from = signed_message.from;
    if (field == 1) carrying.seqno = signed_message.seqno;
    if (field == 2) carrying.signature = signed_message.signature;
    if (field == 3) carrying.key = Bytes{};  // present, even empty, is refused
    const auto result = validate_strict_no_sign(carrying);
    ASSERT_FALSE(result.has_value()) << field;
    EXPECT_EQ(result.error().code, validation::Errc::unexpected_field);
  }
}

TEST(GossipsubMessage, ContentIdIsSha256OfTheData) {
  Message message;
  message.data = to_bytes("abc");
  message.topic = "ignored";
  EXPECT_EQ(to_hex(content_message_id(message)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  message.topic = "other";
  EXPECT_EQ(to_hex(content_message_id(message)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace taho::gossipsub
