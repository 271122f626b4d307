#include "proto/noise/framing.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace taho::noise {
namespace {

Bytes framed(std::size_t length, std::uint8_t fill) {
  Bytes out;
  append_frame_header(out, length);
  out.insert(out.end(), length, fill);
  return out;
}

TEST(FrameDecoder, WholeFrameIsReturnedWithoutCopy) {
  const Bytes wire = framed(5, 0xab);
  FrameDecoder decoder;
  std::size_t consumed = 0;
  const auto frame = decoder.next(wire, consumed);
  ASSERT_TRUE(frame);
  EXPECT_EQ(consumed, wire.size());
  EXPECT_EQ(frame->data(), wire.data() + 2);  // a view into the input
  EXPECT_EQ(Bytes(frame->begin(), frame->end()), Bytes(5, 0xab));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameDecoder, HeaderIsBigEndian) {
  Bytes out;
  append_frame_header(out, 0x1234);
  EXPECT_EQ(to_hex(out), "1234");
  out.clear();
  append_frame_header(out, frame_bytes_max);
  EXPECT_EQ(to_hex(out), "ffff");
}

TEST(FrameDecoder, OneByteAtATime) {
  Bytes wire = framed(300, 1);
  append(wire, framed(0, 0));
  append(wire, framed(7, 3));
  FrameDecoder decoder;
  std::vector<Bytes> frames;
  for (const std::uint8_t byte : wire) {
    std::size_t consumed = 0;
    const auto frame = decoder.next(ByteView(&byte, 1), consumed);
    EXPECT_EQ(consumed, 1u);
    EXPECT_LE(decoder.buffered_bytes(), frame_header_bytes + 300);
    if (frame) frames.emplace_back(frame->begin(), frame->end());
  }
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0], Bytes(300, 1));
  EXPECT_TRUE(frames[1].empty());
  EXPECT_EQ(frames[2], Bytes(7, 3));
}

TEST(FrameDecoder, SeveralFramesInOneInputComeOneByOne) {
  Bytes wire = framed(3, 1);
  append(wire, framed(4, 2));
  wire.push_back(0x00);  // start of a third frame's header
  FrameDecoder decoder;
  ByteView rest = wire;
  std::size_t consumed = 0;
  auto first = decoder.next(rest, consumed);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->size(), 3u);
  rest = rest.subspan(consumed);
  auto second = decoder.next(rest, consumed);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->size(), 4u);
  rest = rest.subspan(consumed);
  EXPECT_FALSE(decoder.next(rest, consumed));
  EXPECT_EQ(consumed, 1u);
  EXPECT_EQ(decoder.buffered_bytes(), 1u);
}

TEST(FrameDecoder, LargestFrameSplitAcrossCallsStaysBounded) {
  Bytes wire = framed(frame_bytes_max, 9);
  std::iota(wire.begin() + 2, wire.end(), std::uint8_t{0});
  FrameDecoder decoder;
  std::size_t consumed = 0;
  EXPECT_FALSE(decoder.next(ByteView(wire).first(40000), consumed));
  EXPECT_EQ(consumed, 40000u);
  const auto frame = decoder.next(ByteView(wire).subspan(40000), consumed);
  ASSERT_TRUE(frame);
  EXPECT_EQ(consumed, wire.size() - 40000);
  EXPECT_EQ(decoder.buffered_bytes(), frame_header_bytes + frame_bytes_max);
  EXPECT_TRUE(std::equal(frame->begin(), frame->end(), wire.begin() + 2));
  // The buffer is released by the next call.
  EXPECT_FALSE(decoder.next({}, consumed));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

}  // namespace
}  // namespace taho::noise
