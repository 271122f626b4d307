#include "api/event_routes.hpp"

#include <gtest/gtest.h>

#include <array>
#include <nlohmann/json.hpp>

#include "runtime/asio/sse_parser.hpp"

namespace taho::api {
namespace {

host::GossipMessage message_with(Bytes data, std::uint64_t seqno) {
  std::array<std::uint8_t, 32> key{};
  key[0] = 7;
  const PeerId author = PeerId::from_ed25519(key);
  return host::GossipMessage{"taho/demo", author, author, seqno, std::move(data), Bytes{0xab, 0x01}};
}

TEST(EventJson, SeqnoIsADecimalStringThatKeepsAll64Bits) {
  // 2^63 + 1 has no exact double: as a JSON number JavaScript would read 2^63.
  const std::uint64_t seqno = (std::uint64_t{1} << 63) + 1;
  const auto event = nlohmann::json::parse(event_json(message_with(to_bytes("hello"), seqno)));
  ASSERT_TRUE(event["seqno"].is_string());
  EXPECT_EQ(event["seqno"], "9223372036854775809");
  const auto zero = nlohmann::json::parse(event_json(message_with(to_bytes("x"), 0)));
  EXPECT_EQ(zero["seqno"], "0");
}

TEST(EventJson, CarriesTopicAuthorIdAndData) {
  const auto message = message_with(to_bytes("h\xc3\xa9llo"), 42);
  const auto event = nlohmann::json::parse(event_json(message));
  EXPECT_EQ(event["topic"], "taho/demo");
  EXPECT_EQ(event["from"], message.author.to_string());
  EXPECT_EQ(event["id"], "ab01");
  EXPECT_EQ(event["data"], "h\xc3\xa9llo");
  EXPECT_EQ(event["data_base64"], "aMOpbGxv");
}

TEST(EventJson, BinaryDataIsNullWithBase64) {
  const auto event = nlohmann::json::parse(event_json(message_with(Bytes{0xff, 0x00, 0xc3}, 1)));
  EXPECT_TRUE(event["data"].is_null());
  EXPECT_EQ(event["data_base64"], "/wDD");
  // Cut short in a multi-byte sequence: not text either.
  const auto cut = nlohmann::json::parse(event_json(message_with(Bytes{'a', 0xc3}, 1)));
  EXPECT_TRUE(cut["data"].is_null());
}

TEST(EventJson, Base64PadsEveryLength) {
  const std::pair<std::string, std::string> cases[] = {{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
                                                       {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}};
  for (const auto& [data, expected] : cases) {
    const auto event = nlohmann::json::parse(event_json(message_with(to_bytes(data), 1)));
    EXPECT_EQ(event["data_base64"], expected) << data;
    EXPECT_EQ(event["data"], data);
  }
}

TEST(EventJson, EscapesWhatJsonNeedsEscaped) {
  auto message = message_with(to_bytes("quote \" backslash \\ line\nbreak tab\t bell\x07"), 3);
  message.topic = "t\"\x01";
  const auto text = event_json(message);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  const auto event = nlohmann::json::parse(text);
  EXPECT_EQ(event["data"], "quote \" backslash \\ line\nbreak tab\t bell\x07");
  EXPECT_EQ(event["topic"], "t\"\x01");
}

TEST(EventJson, OnlyWellFormedUtf8IsText) {
  // Overlong NUL, a UTF-16 surrogate, past U+10FFFF: JSON readers refuse them.
  for (const Bytes& bad : {Bytes{0xc0, 0x80}, Bytes{0xed, 0xa0, 0x80}, Bytes{0xf4, 0x90, 0x80, 0x80}}) {
    const auto event = nlohmann::json::parse(event_json(message_with(bad, 1)));
    EXPECT_TRUE(event["data"].is_null());
  }
  const auto emoji = nlohmann::json::parse(event_json(message_with(Bytes{0xf0, 0x9f, 0x99, 0x82}, 1)));
  EXPECT_EQ(emoji["data"], "\xf0\x9f\x99\x82");
}

TEST(EventJson, ATopicThatIsNotUtf8StillMakesValidJson) {
  auto message = message_with(to_bytes("x"), 1);
  message.topic = std::string("a\xff") + "b";
  const auto event = nlohmann::json::parse(event_json(message));
  EXPECT_EQ(event["topic"], "a\xef\xbf\xbd" "b");  // U+FFFD in place of the bad byte
}

TEST(EventStreamBytes, IsOneServerSentEventWithTheSeqnoAsId) {
  const auto message = message_with(to_bytes("line one\nline two"), 77);
  runtime::SseParser parser;
  ASSERT_TRUE(parser.feed(event_stream_bytes(message, "author-text")));
  const auto event = parser.poll_event();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "message");
  EXPECT_EQ(event->id, "77");
  const auto body = nlohmann::json::parse(event->data);
  EXPECT_EQ(body["from"], "author-text");
  EXPECT_EQ(body["data"], "line one\nline two");
  EXPECT_EQ(body["seqno"], "77");
  EXPECT_FALSE(parser.poll_event().has_value());
}

TEST(PercentDecode, DecodesEscapesAndRefusesBadOnes) {
  EXPECT_EQ(percent_decode("taho%2Fcontent%2f1"), "taho/content/1");
  EXPECT_EQ(percent_decode("plain"), "plain");
  EXPECT_EQ(percent_decode("a%2"), std::nullopt);
  EXPECT_EQ(percent_decode("a%zz"), std::nullopt);
  EXPECT_EQ(percent_decode("%"), std::nullopt);
}

}  // namespace
}  // namespace taho::api
