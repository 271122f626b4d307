#include "base/length_prefixed.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace taho {
namespace {

std::vector<Bytes> split_all(FrameSplitter& splitter, ByteView input, std::size_t piece) {
  std::vector<Bytes> bodies;
  while (!input.empty()) {
    ByteView chunk = input.first(std::min(piece, input.size()));
    input = input.subspan(chunk.size());
    while (true) {
      auto body = splitter.next(chunk);
      EXPECT_TRUE(body);
      if (!body || !*body) break;
      bodies.emplace_back((*body)->begin(), (*body)->end());
    }
  }
  return bodies;
}

TEST(LengthPrefixed, SplitsAnyFragmentation) {
  Bytes stream;
  const std::vector<Bytes> bodies{{}, {1}, Bytes(300, 7), {9, 8, 7}};
  for (const auto& body : bodies) append(stream, length_prefixed(body));
  for (std::size_t piece : {1u, 2u, 3u, 7u, 1000u}) {
    FrameSplitter splitter(1024);
    EXPECT_EQ(split_all(splitter, stream, piece), bodies) << "piece " << piece;
    EXPECT_FALSE(splitter.mid_frame());
  }
}

TEST(LengthPrefixed, TruncatedFrameIsMidFrame) {
  FrameSplitter splitter(1024);
  Bytes frame = length_prefixed(Bytes(10, 1));
  ByteView part = ByteView(frame).first(5);
  auto body = splitter.next(part);
  ASSERT_TRUE(body);
  EXPECT_FALSE(*body);
  EXPECT_TRUE(splitter.mid_frame());
}

TEST(LengthPrefixed, RefusesOversizeAndBadPrefixes) {
  FrameSplitter small(4);
  Bytes big = length_prefixed(Bytes(5, 0));
  ByteView view = big;
  auto refused = small.next(view);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, frame::Errc::too_large);

  FrameSplitter any(1024);
  const Bytes overlong{0x80, 0x00};  // a non-minimal uvarint
  ByteView bad = overlong;
  auto broken = any.next(bad);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, frame::Errc::bad_length_prefix);
}

// A toy codec for FramedMessageReader: a message is its body as text, and a
// body that starts with '!' does not decode.
enum class ToyErrc { too_large, bad_length_prefix, truncated, bad_body };
using ToyError = Error<ToyErrc>;
using ToyReader = FramedMessageReader<std::string, ToyErrc>;

Expected<std::string, ToyError> decode_toy(ByteView body) {
  const std::string text(as_text(body));
  if (!text.empty() && text.front() == '!') return unexpected(ToyError{ToyErrc::bad_body, "refused " + text});
  return text;
}

Expected<void, ToyError> feed(ToyReader& reader, ByteView bytes) { return reader.handle_data(bytes, decode_toy); }

std::vector<std::string> drain(ToyReader& reader) {
  std::vector<std::string> messages;
  while (auto message = reader.poll_message()) messages.push_back(std::move(*message));
  return messages;
}

Bytes toy_stream(const std::vector<std::string>& messages) {
  Bytes stream;
  for (const auto& message : messages) append(stream, length_prefixed(as_bytes(message)));
  return stream;
}

TEST(FramedMessageReader, DecodesMessagesInOrderInAnyFragmentation) {
  const std::vector<std::string> messages{"one", "", std::string(300, 'x'), "four"};
  const Bytes stream = toy_stream(messages);
  for (std::size_t piece : {1u, 2u, 5u, 1000u}) {
    ToyReader reader(1024);
    std::vector<std::string> read;
    for (ByteView rest = stream; !rest.empty();) {
      const ByteView chunk = rest.first(std::min(piece, rest.size()));
      rest = rest.subspan(chunk.size());
      ASSERT_TRUE(feed(reader, chunk)) << "piece " << piece;
      for (auto& message : drain(reader)) read.push_back(std::move(message));
    }
    EXPECT_EQ(read, messages) << "piece " << piece;
    EXPECT_TRUE(reader.handle_end());
  }
}

TEST(FramedMessageReader, QueuesUntilPolled) {
  ToyReader reader(1024);
  EXPECT_FALSE(reader.poll_message());
  ASSERT_TRUE(feed(reader, toy_stream({"a", "b"})));
  ASSERT_TRUE(feed(reader, toy_stream({"c"})));
  EXPECT_EQ(reader.poll_message(), "a");
  ASSERT_TRUE(feed(reader, toy_stream({"d"})));
  EXPECT_EQ(drain(reader), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_FALSE(reader.poll_message());
}

TEST(FramedMessageReader, EndInsideAFrameIsTruncated) {
  ToyReader reader(1024);
  const Bytes stream = toy_stream({"whole", "cut"});
  ASSERT_TRUE(feed(reader, ByteView(stream).first(stream.size() - 1)));
  EXPECT_EQ(drain(reader), std::vector<std::string>{"whole"});
  const auto end = reader.handle_end();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ToyErrc::truncated);
  EXPECT_EQ(end.error().detail, "stream ended inside a message");
}

TEST(FramedMessageReader, FramingErrorsUseTheCodecsCodesAndStick) {
  ToyReader small(4);
  const auto refused = feed(small, toy_stream({"too long"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ToyErrc::too_large);
  // Sticky: even valid input and the end of the stream report it again.
  const auto again = feed(small, toy_stream({"ok"}));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ToyErrc::too_large);
  EXPECT_EQ(again.error().detail, refused.error().detail);
  const auto end = small.handle_end();
  ASSERT_FALSE(end);
  EXPECT_EQ(end.error().code, ToyErrc::too_large);

  ToyReader any(1024);
  const Bytes overlong{0x80, 0x00};  // a non-minimal uvarint
  const auto broken = feed(any, overlong);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code, ToyErrc::bad_length_prefix);
}

TEST(FramedMessageReader, DecodeErrorsFailTheReaderAndStick) {
  ToyReader reader(1024);
  const auto failed = feed(reader, toy_stream({"fine", "!bad", "never"}));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ToyErrc::bad_body);
  EXPECT_EQ(failed.error().detail, "refused !bad");
  // What decoded before the error is still handed out; nothing after it.
  EXPECT_EQ(drain(reader), std::vector<std::string>{"fine"});
  const auto again = feed(reader, toy_stream({"more"}));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ToyErrc::bad_body);
  EXPECT_FALSE(reader.poll_message());
}

}  // namespace
}  // namespace taho
