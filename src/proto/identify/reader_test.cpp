#include "proto/identify/reader.hpp"

#include <gtest/gtest.h>

#include "base/varint.hpp"
#include "proto/identify/test_support.hpp"

namespace taho::identify {
namespace {

using testing::address;
using testing::hex;

Bytes framed(const Info& info) {
  auto message = encode_message(info);
  EXPECT_TRUE(message);
  return message ? *message : Bytes{};
}

// Three messages as a sender that splits its identify might send them.
Bytes three_messages() {
  Info first;
  first.protocol_version = "ipfs/0.1.0";
  first.agent_version = "js-libp2p/3.3.11";
  first.listen_addrs = {address("/ip4/127.0.0.1/tcp/4001")};
  first.protocols = {"/ipfs/id/1.0.0"};
  Info second;
  second.listen_addrs = {address("/ip4/127.0.0.1/tcp/4002/ws")};
  second.protocols = {"/ipfs/ping/1.0.0", "/ipfs/id/1.0.0"};
  Info third;
  third.agent_version = "js-libp2p/3.3.12";
  third.observed_addr = address("/ip4/127.0.0.1/tcp/50000");
  Bytes stream = framed(first);
  append(stream, framed(second));
  append(stream, framed(third));
  return stream;
}

Info three_messages_merged() {
  Info info;
  info.protocol_version = "ipfs/0.1.0";
  info.agent_version = "js-libp2p/3.3.12";
  info.listen_addrs = {address("/ip4/127.0.0.1/tcp/4001"), address("/ip4/127.0.0.1/tcp/4002/ws")};
  info.observed_addr = address("/ip4/127.0.0.1/tcp/50000");
  info.protocols = {"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"};
  return info;
}

TEST(IdentifyReader, MergesConcatenatedMessages) {
  Reader reader;
  ASSERT_TRUE(reader.handle_data(three_messages()));
  EXPECT_EQ(reader.messages_read(), 3u);
  const auto info = reader.handle_end();
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_EQ(*info, three_messages_merged());
}

TEST(IdentifyReader, AcceptsOneByteAtATime) {
  const Bytes stream = three_messages();
  Reader reader;
  for (const std::uint8_t byte : stream) ASSERT_TRUE(reader.handle_data(ByteView(&byte, 1)));
  const auto info = reader.handle_end();
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_EQ(*info, three_messages_merged());
}

TEST(IdentifyReader, AcceptsAnEmptyMessage) {
  const auto info = read_messages(hex("00"));
  ASSERT_TRUE(info);
  EXPECT_EQ(*info, Info{});
}

TEST(IdentifyReader, RefusesAnOversizeMessageFromItsPrefix) {
  Reader reader(Limits{.message_bytes_max = 100});
  Bytes prefix;
  varint::encode(101, prefix);
  const auto fed = reader.handle_data(prefix);  // no body needed to refuse it
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, Errc::too_large);
  // The error sticks.
  const auto again = reader.handle_data(hex("00"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::too_large);
  const auto end = reader.handle_end();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, Errc::too_large);
}

TEST(IdentifyReader, RefusesTheDefaultLimitPlusOne) {
  Bytes stream;
  varint::encode(Limits{}.message_bytes_max + 1, stream);
  stream.resize(stream.size() + Limits{}.message_bytes_max + 1, 0);
  const auto info = read_messages(stream);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::too_large);
}

TEST(IdentifyReader, RefusesMoreThanTheMaximumNumberOfMessages) {
  const Limits limits;
  Bytes stream;
  for (std::size_t i = 0; i < limits.messages_max; ++i) stream.push_back(0x00);
  ASSERT_TRUE(read_messages(stream, limits));
  stream.push_back(0x00);
  const auto info = read_messages(stream, limits);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::too_many_messages);
}

TEST(IdentifyReader, RefusesAStreamThatEndsEarly) {
  const Bytes whole = framed(three_messages_merged());
  const Bytes cut_in_body(whole.begin(), whole.end() - 1);
  for (const Bytes& stream : {Bytes{}, cut_in_body, hex("80")}) {  // nothing, inside a body, inside a prefix
    const auto info = read_messages(stream);
    ASSERT_FALSE(info) << to_hex(stream);
    EXPECT_EQ(info.error().code, Errc::truncated) << to_hex(stream);
  }
}

TEST(IdentifyReader, RefusesBadLengthPrefixes) {
  for (const std::string_view text : {"8000", "ffffffffffffffffff7f"}) {  // not minimal, overlong
    Reader reader;
    const auto fed = reader.handle_data(hex(text));
    ASSERT_FALSE(fed) << text;
    EXPECT_EQ(fed.error().code, Errc::bad_length_prefix) << text;
  }
}

TEST(IdentifyReader, RefusesAMalformedMessageAsSoonAsItIsComplete) {
  Reader reader;
  ASSERT_TRUE(reader.handle_data(framed(three_messages_merged())));
  const auto fed = reader.handle_data(hex("020801"));  // field 1 as a varint
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, Errc::bad_protobuf);
}

TEST(IdentifyReader, EnforcesLimitsAcrossMergedMessages) {
  const Limits limits{.protocols_max = 2};
  Info one;
  one.protocols = {"/a", "/b"};
  Info other;
  other.protocols = {"/c"};
  Bytes stream = framed(one);
  append(stream, framed(other));
  const auto info = read_messages(stream, limits);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, Errc::too_many_entries);
}

TEST(IdentifyReader, RefusesUseAfterTheEnd) {
  Reader reader;
  ASSERT_TRUE(reader.handle_data(hex("00")));
  ASSERT_TRUE(reader.handle_end());
  const auto fed = reader.handle_data(hex("00"));
  ASSERT_FALSE(fed);
  EXPECT_EQ(fed.error().code, Errc::finished);
  const auto end = reader.handle_end();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, Errc::finished);
}

}  // namespace
}  // namespace taho::identify
