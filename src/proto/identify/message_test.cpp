#include "proto/identify/message.hpp"

#include <gtest/gtest.h>

#include "base/protobuf.hpp"
#include "base/varint.hpp"
#include "proto/identify/reader.hpp"
#include "proto/identify/test_support.hpp"

namespace taho::identify {
namespace {

using testing::address;
using testing::hex;

PublicKey key_of_ones() {
  std::array<std::uint8_t, 32> raw{};
  raw.fill(0x01);
  return PublicKey::ed25519(raw);
}

Info full_info() {
  Info info;
  info.protocol_version = "ipfs/0.1.0";
  info.agent_version = "taho/0.1.0";
  info.public_key = key_of_ones();
  info.listen_addrs = {address("/ip4/127.0.0.1/tcp/4001")};
  info.observed_addr = address("/ip4/1.2.3.4/tcp/5");
  info.protocols = {"/ipfs/ping/1.0.0"};
  info.signed_peer_record = to_bytes("abc");
  return info;
}

// Spelled out field by field from the spec's schema, in field-number order.
constexpr std::string_view kFullInfoHex =
    "0a24" "08011220" "0101010101010101010101010101010101010101010101010101010101010101"  // 1 publicKey
    "1208" "047f000001" "060fa1"                                                            // 2 /ip4/127.0.0.1/tcp/4001
    "1a10" "2f697066732f70696e672f312e302e30"                                                // 3 "/ipfs/ping/1.0.0"
    "2208" "0401020304" "060005"                                                            // 4 /ip4/1.2.3.4/tcp/5
    "2a0a" "697066732f302e312e30"                                                            // 5 "ipfs/0.1.0"
    "320a" "7461686f2f302e312e30"                                                            // 6 "taho/0.1.0"
    "4203" "616263";                                                                         // 8 "abc"

TEST(IdentifyMessage, EncodesKnownFieldsToFixedBytes) {
  EXPECT_EQ(to_hex(encode(full_info())), kFullInfoHex);
}

TEST(IdentifyMessage, DecodesFixedBytes) {
  const auto info = decode(hex(kFullInfoHex));
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_EQ(*info, full_info());
}

TEST(IdentifyMessage, EncodeMessageAddsTheLengthPrefix) {
  const auto message = encode_message(full_info());
  ASSERT_TRUE(message);
  const Bytes body = hex(kFullInfoHex);
  Bytes expected;
  varint::encode(body.size(), expected);
  append(expected, body);
  EXPECT_EQ(*message, expected);
}

TEST(IdentifyMessage, RoundTripsEmptyAndPartialInfo) {
  const Info empty;
  EXPECT_TRUE(encode(empty).empty());
  auto decoded = decode(encode(empty));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, empty);

  Info partial;  // as an identify-push might carry
  partial.protocols = {"/meshsub/1.1.0", "/ipfs/kad/1.0.0"};
  decoded = decode(encode(partial));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, partial);
  EXPECT_FALSE(decoded->agent_version);
  EXPECT_FALSE(decoded->public_key);
}

TEST(IdentifyMessage, AcceptsJsFieldOrderAndSkipsUnknownFields) {
  // js-libp2p writes fields in declaration order (5, 6, 1, 2, 4, 3, 8).
  const Info info = full_info();
  pb::Writer writer;
  writer.string(5, *info.protocol_version);
  writer.varint(7, 42);  // unknown varint field
  writer.string(6, *info.agent_version);
  writer.bytes(1, info.public_key->encode());
  writer.fixed64(9, 7);  // unknown fixed64 field
  writer.bytes(2, info.listen_addrs[0].bytes());
  writer.bytes(4, info.observed_addr->bytes());
  writer.string(3, info.protocols[0]);
  writer.bytes(100, to_bytes("future field"));
  writer.bytes(8, *info.signed_peer_record);
  const auto decoded = decode(writer.data());
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(*decoded, info);
}

TEST(IdentifyMessage, RepeatedSingularFieldsKeepTheLast) {
  pb::Writer writer;
  writer.string(6, "first");
  writer.string(6, "second");
  const auto decoded = decode(writer.data());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->agent_version, "second");
}

TEST(IdentifyMessage, RefusesKnownFieldsWithTheWrongWireType) {
  for (const std::uint32_t field : {1u, 2u, 3u, 4u, 5u, 6u, 8u}) {
    pb::Writer writer;
    writer.varint(field, 1);
    const auto decoded = decode(writer.data());
    ASSERT_FALSE(decoded) << field;
    EXPECT_EQ(decoded.error().code, Errc::bad_protobuf) << field;
  }
}

TEST(IdentifyMessage, RefusesMalformedProtobuf) {
  for (const std::string_view text : {"0a", "0a05ab", "12ffffffffffffffffffff01", "0b"}) {
    const auto decoded = decode(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::bad_protobuf) << text;
  }
}

TEST(IdentifyMessage, RefusesABadPublicKey) {
  pb::Writer writer;
  writer.bytes(1, hex("0801121f" + std::string(62, '1')));  // a 31-byte Ed25519 key
  const auto decoded = decode(writer.data());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::bad_public_key);
}

TEST(IdentifyMessage, SkipsAndCountsUnreadableAddresses) {
  pb::Writer writer;
  writer.bytes(2, hex("047f000001060fa1"));
  writer.bytes(2, hex("b60301"));        // protocol code 0x1b6 is not one taho knows
  writer.bytes(2, hex("047f00"));        // truncated ip4
  writer.bytes(4, hex("ffffffff0f00"));  // observed address we cannot read
  const auto decoded = decode(writer.data());
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(decoded->listen_addrs, std::vector<Multiaddr>{address("/ip4/127.0.0.1/tcp/4001")});
  EXPECT_FALSE(decoded->observed_addr);
  EXPECT_EQ(decoded->unreadable_addrs, 3u);
}

TEST(IdentifyMessage, EnforcesItsLimits) {
  const Limits limits{.message_bytes_max = 64, .messages_max = 2, .listen_addrs_max = 2, .protocols_max = 2,
                      .protocol_id_bytes_max = 8};
  const auto check = [&](const pb::Writer& writer, Errc code) {
    const auto decoded = decode(writer.data(), limits);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code, code);
  };
  pb::Writer big;
  big.bytes(6, Bytes(63, 'a'));
  check(big, Errc::too_large);

  pb::Writer long_protocol;
  long_protocol.string(3, "/123456789");
  check(long_protocol, Errc::bad_field);

  pb::Writer protocols;
  for (const char* p : {"/a", "/b", "/c"}) protocols.string(3, p);
  check(protocols, Errc::too_many_entries);

  pb::Writer addrs;
  for (const char* a : {"/ip4/1.1.1.1/tcp/1", "/ip4/1.1.1.1/tcp/2", "/ip4/1.1.1.1/tcp/3"}) {
    addrs.bytes(2, address(a).bytes());
  }
  check(addrs, Errc::too_many_entries);

  pb::Writer duplicates;  // entries already present do not count twice
  for (int i = 0; i < 5; ++i) duplicates.string(3, "/a");
  const auto decoded = decode(duplicates.data(), limits);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->protocols, std::vector<std::string>{"/a"});
}

TEST(IdentifyMerge, LaterSingularFieldsOverrideAndRepeatedOnesExtend) {
  Info into = full_info();
  Info update;
  update.agent_version = "taho/0.2.0";
  update.observed_addr = address("/ip4/5.6.7.8/tcp/9");
  update.listen_addrs = {address("/ip4/127.0.0.1/tcp/4001"), address("/ip4/127.0.0.1/tcp/4002/ws")};
  update.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
  ASSERT_TRUE(merge(into, update));

  Info expected = full_info();
  expected.agent_version = "taho/0.2.0";
  expected.observed_addr = address("/ip4/5.6.7.8/tcp/9");
  expected.listen_addrs.push_back(address("/ip4/127.0.0.1/tcp/4002/ws"));
  expected.protocols.push_back("/ipfs/id/1.0.0");
  EXPECT_EQ(into, expected);  // absent fields (protocol version, key, record) are kept
}

TEST(IdentifyMerge, FailsPastTheLimits) {
  const Limits limits{.protocols_max = 2};
  Info into;
  into.protocols = {"/a", "/b"};
  Info update;
  update.protocols = {"/c"};
  const auto merged = merge(into, update, limits);
  ASSERT_FALSE(merged);
  EXPECT_EQ(merged.error().code, Errc::too_many_entries);
}

TEST(IdentifyEncodeMessage, SplitsALargeInfoOverSeveralMessages) {
  Info info = full_info();
  for (int i = 0; i < 100; ++i) info.protocols.push_back("/taho/test/" + std::to_string(i) + std::string(80, 'x'));
  const Limits limits;
  ASSERT_GT(encode(info).size(), limits.message_bytes_max);
  const auto stream = encode_message(info, limits);
  ASSERT_TRUE(stream) << stream.error().detail;

  // Every framed message fits the limit, and reading them back merges to the same Info.
  ByteView rest = *stream;
  std::size_t messages = 0;
  while (!rest.empty()) {
    const auto length = varint::decode(rest);
    ASSERT_TRUE(length);
    ASSERT_LE(length->value, limits.message_bytes_max);
    rest = rest.subspan(length->length + length->value);
    ++messages;
  }
  EXPECT_GT(messages, 1u);
  const auto read = read_messages(*stream, limits);
  ASSERT_TRUE(read) << read.error().detail;
  EXPECT_EQ(*read, info);
}

TEST(IdentifyEncodeMessage, RefusesWhatCannotFit) {
  Info one_huge_field;
  one_huge_field.agent_version = std::string(9000, 'a');
  auto encoded = encode_message(one_huge_field);
  ASSERT_FALSE(encoded);
  EXPECT_EQ(encoded.error().code, Errc::too_large);

  Info too_many_messages;
  for (int i = 0; i < 4; ++i) too_many_messages.protocols.push_back("/" + std::string(50, char('a' + i)));
  encoded = encode_message(too_many_messages, Limits{.message_bytes_max = 60, .messages_max = 3});
  ASSERT_FALSE(encoded);
  EXPECT_EQ(encoded.error().code, Errc::too_large);
}

}  // namespace
}  // namespace taho::identify
