// The text/event-stream parser against the standard's line and field rules,
// fed whole and one byte at a time, and its formatter round trip.
#include "runtime/asio/sse_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace taho::runtime {
namespace {

std::vector<SseEvent> drain(SseParser& parser) {
  std::vector<SseEvent> events;
  while (auto event = parser.poll_event()) events.push_back(std::move(*event));
  return events;
}

std::vector<SseEvent> parse_whole(std::string_view stream) {
  SseParser parser;
  EXPECT_TRUE(parser.feed(stream).has_value());
  return drain(parser);
}

std::vector<SseEvent> parse_bytewise(std::string_view stream) {
  SseParser parser;
  for (const char c : stream) EXPECT_TRUE(parser.feed(std::string_view(&c, 1)).has_value());
  return drain(parser);
}

// Parsing must not depend on where the network split the bytes.
std::vector<SseEvent> parse_both_ways(std::string_view stream) {
  auto whole = parse_whole(stream);
  auto bytewise = parse_bytewise(stream);
  EXPECT_EQ(whole.size(), bytewise.size());
  for (std::size_t i = 0; i < std::min(whole.size(), bytewise.size()); ++i) {
    EXPECT_EQ(whole[i].event, bytewise[i].event);
    EXPECT_EQ(whole[i].data, bytewise[i].data);
    EXPECT_EQ(whole[i].id, bytewise[i].id);
  }
  return whole;
}

TEST(SseParser, OneEventWithDefaults) {
  const auto events = parse_both_ways("data: hello\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message");
  EXPECT_EQ(events[0].data, "hello");
  EXPECT_EQ(events[0].id, "");
}

TEST(SseParser, CrLfCrAndLfLineEndsAllWork) {
  for (const std::string_view stream : {"event: a\r\ndata: x\r\n\r\n", "event: a\rdata: x\r\r", "event: a\ndata: x\n\n",
                                        "event: a\r\ndata: x\r\n\n", "event: a\rdata: x\n\r\n"}) {
    const auto events = parse_both_ways(stream);
    ASSERT_EQ(events.size(), 1u) << stream;
    EXPECT_EQ(events[0].event, "a");
    EXPECT_EQ(events[0].data, "x");
  }
}

TEST(SseParser, CrAtTheEndOfOnePieceAndLfAtTheStartOfTheNextAreOneLineEnd) {
  SseParser parser;
  ASSERT_TRUE(parser.feed("data: one\r").has_value());
  ASSERT_TRUE(parser.feed("\ndata: two\r").has_value());
  ASSERT_TRUE(parser.feed("\n\r").has_value());
  ASSERT_TRUE(parser.feed("\n").has_value());
  const auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "one\ntwo");
}

TEST(SseParser, MultiLineDataIsJoinedWithLineFeeds) {
  const auto events = parse_both_ways("data: first\ndata:second\ndata:  third\ndata\n\n");
  ASSERT_EQ(events.size(), 1u);
  // One space after the colon is dropped, no more; "data" alone adds an empty line.
  EXPECT_EQ(events[0].data, "first\nsecond\n third\n");
}

TEST(SseParser, CommentsAndUnknownFieldsAreSkipped) {
  const auto events = parse_both_ways(": keep-alive\n\n:\ndata: a\n: in between\nretry: 10\nfoo: bar\ndata: b\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "a\nb");
}

TEST(SseParser, BlankLineWithoutDataDispatchesNothingAndForgetsTheType) {
  const auto events = parse_both_ways("event: lost\n\ndata: x\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "message");
}

TEST(SseParser, EmptyDataLineDispatchesAnEmptyEvent) {
  const auto events = parse_both_ways("data\n\ndata:\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].data, "");
  EXPECT_EQ(events[1].data, "");
}

TEST(SseParser, LastEventIdCarriesOverUntilChanged) {
  using namespace std::string_view_literals;
  const auto events = parse_both_ways("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\nid: 9\ndata: d\n\nid: x\0y\ndata: e\n\n"sv);
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].id, "7");
  EXPECT_EQ(events[1].id, "7");
  EXPECT_EQ(events[2].id, "");  // "id" with no value resets it
  EXPECT_EQ(events[3].id, "9");
  EXPECT_EQ(events[4].id, "9");  // an id holding NUL is ignored
}

TEST(SseParser, FieldNamesAreExactAndColonsInValuesStay) {
  const auto events = parse_both_ways("Data: no\ndata :no\nevent:a:b\ndata: http://x:1/\n\n");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "a:b");
  EXPECT_EQ(events[0].data, "http://x:1/");
}

TEST(SseParser, ByteOrderMarkAtTheStartIsSkippedOnlyThere) {
  const auto events = parse_both_ways("\xEF\xBB\xBF" "data: a\n\n\xEF\xBB\xBF" "data: b\n\n");
  ASSERT_EQ(events.size(), 1u);  // the second BOM makes an unknown field name
  EXPECT_EQ(events[0].data, "a");
}

TEST(SseParser, AnUnfinishedEventIsNotDispatched) {
  EXPECT_TRUE(parse_both_ways("data: a\n\ndata: b\n").size() == 1u);
  EXPECT_TRUE(parse_both_ways("data: a").empty());
}

TEST(SseParser, EventsSurvivePiecesSplitAnywhere) {
  const std::string stream = "event: t\r\nid: 1\r\ndata: {\"k\": 1}\r\ndata: more\r\n\r\n: ping\r\ndata: z\r\n\r\n";
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    SseParser parser;
    ASSERT_TRUE(parser.feed(std::string_view(stream).substr(0, split)).has_value());
    ASSERT_TRUE(parser.feed(std::string_view(stream).substr(split)).has_value());
    const auto events = drain(parser);
    ASSERT_EQ(events.size(), 2u) << "split at " << split;
    EXPECT_EQ(events[0].event, "t");
    EXPECT_EQ(events[0].id, "1");
    EXPECT_EQ(events[0].data, "{\"k\": 1}\nmore");
    EXPECT_EQ(events[1].data, "z");
    EXPECT_EQ(events[1].id, "1");
  }
}

TEST(SseParser, OverlongLineIsAnErrorAndStaysOne) {
  SseParser parser(SseParserOptions{.line_bytes_max = 16, .event_bytes_max = 1024});
  ASSERT_TRUE(parser.feed("data: fits\n\n").has_value());
  ASSERT_TRUE(parser.feed("data: 0123456789").has_value());  // exactly 16 bytes so far
  const auto overflow = parser.feed("x");
  ASSERT_FALSE(overflow.has_value());
  EXPECT_EQ(overflow.error().code, SseErrc::line_too_long);
  const auto after = parser.feed("\n\ndata: ok\n\n");
  ASSERT_FALSE(after.has_value());
  EXPECT_EQ(after.error().code, SseErrc::line_too_long);
  // Events completed before the error are still handed out.
  const auto events = drain(parser);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "fits");
}

TEST(SseParser, CommentLinesAreBoundedToo) {
  SseParser parser(SseParserOptions{.line_bytes_max = 8, .event_bytes_max = 1024});
  const auto result = parser.feed(": a long comment\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, SseErrc::line_too_long);
}

TEST(SseParser, TooMuchDataInOneEventIsAnError) {
  SseParser parser(SseParserOptions{.line_bytes_max = 64, .event_bytes_max = 20});
  ASSERT_TRUE(parser.feed("data: 0123456789\n").has_value());  // 11 bytes of data buffer
  const auto result = parser.feed("data: 0123456789\n");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, SseErrc::event_too_large);
  EXPECT_FALSE(parser.poll_event().has_value());
}

TEST(SseFormat, RoundTripsThroughTheParser) {
  const std::vector<SseEvent> originals = {
      {"message", "plain", ""},
      {"update", "line one\nline two\r\nline three\rline four", "42"},
      {"message", "", "43"},
      {"x", " leading space and trailing newline\n", "44"},
      {"message", "data: looks like a field\n\n: and a comment", "45"},
  };
  std::string stream;
  for (const auto& event : originals) {
    auto text = format_sse_event(event);
    ASSERT_TRUE(text.has_value());
    stream += *text;
  }
  const auto events = parse_both_ways(stream);
  ASSERT_EQ(events.size(), originals.size());
  const std::vector<std::string> expected_data = {"plain", "line one\nline two\nline three\nline four", "",
                                                  " leading space and trailing newline\n",
                                                  "data: looks like a field\n\n: and a comment"};
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].event, originals[i].event);
    EXPECT_EQ(events[i].data, expected_data[i]);
    EXPECT_EQ(events[i].id, originals[i].id);
  }
}

TEST(SseFormat, RefusesLineBreaksInTypeOrId) {
  EXPECT_EQ(format_sse_event({"a\nb", "x", ""}).error().code, SseErrc::bad_field);
  EXPECT_EQ(format_sse_event({"a", "x", "1\r2"}).error().code, SseErrc::bad_field);
  EXPECT_EQ(format_sse_event({"a", "x", std::string("1\0" "2", 3)}).error().code, SseErrc::bad_field);
  EXPECT_EQ(*format_sse_event({"tick", "1", "7"}), "event: tick\nid: 7\ndata: 1\n\n");
}

}  // namespace
}  // namespace taho::runtime
