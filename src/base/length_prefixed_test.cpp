#include "base/length_prefixed.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace taho
