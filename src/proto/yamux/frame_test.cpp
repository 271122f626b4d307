#include "proto/yamux/frame.hpp"

#include <gtest/gtest.h>

namespace taho::yamux {
namespace {

TEST(YamuxFrame, HeaderLayoutIsBigEndianPerSpec) {
  Bytes out;
  append_header(Header{kVersion, FrameType::window_update, flags::syn | flags::ack, 0x01020304, 0x0a0b0c0d}, out);
  // version | type | flags (2) | stream id (4) | length (4)
  EXPECT_EQ(to_hex(out), "0001000301020304""0a0b0c0d");
}

TEST(YamuxFrame, DecodesWhatItEncodes) {
  const Header original{kVersion, FrameType::go_away, flags::rst, 0xfffffffe, 2};
  Bytes out;
  append_header(original, out);
  ASSERT_EQ(out.size(), kHeaderBytes);
  const Header decoded = decode_header(std::span<const std::uint8_t, kHeaderBytes>(out.data(), kHeaderBytes));
  EXPECT_EQ(decoded.version, original.version);
  EXPECT_EQ(decoded.type, original.type);
  EXPECT_EQ(decoded.flags, original.flags);
  EXPECT_EQ(decoded.stream, original.stream);
  EXPECT_EQ(decoded.length, original.length);
}

TEST(YamuxFrame, DecodeKeepsUnknownVersionAndType) {
  Bytes raw;
  ASSERT_TRUE(from_hex("07090000000000010000000c", raw));
  const Header header = decode_header(std::span<const std::uint8_t, kHeaderBytes>(raw.data(), kHeaderBytes));
  EXPECT_EQ(header.version, 7);
  EXPECT_EQ(static_cast<int>(header.type), 9);
  EXPECT_EQ(header.stream, 1u);
  EXPECT_EQ(header.length, 12u);
}

}  // namespace
}  // namespace taho::yamux
