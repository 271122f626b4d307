#include "proto/yamux/receive_buffer.hpp"

#include <gtest/gtest.h>

namespace taho::yamux {
namespace {

Bytes pattern(std::size_t size, std::uint8_t seed) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

TEST(YamuxReceiveBuffer, HandsOutWholeChunks) {
  ReceiveBuffer buffer;
  const Bytes first = pattern(ReceiveBuffer::kCoalesceBytes, 1);
  const Bytes second = pattern(100, 2);
  buffer.push(first);
  buffer.push(second);  // the first chunk is full size: no coalescing
  EXPECT_EQ(buffer.size(), first.size() + second.size());
  EXPECT_EQ(buffer.pop(1 << 20), first);
  EXPECT_EQ(buffer.pop(1 << 20), second);
  EXPECT_TRUE(buffer.empty());
  EXPECT_TRUE(buffer.pop(10).empty());
}

TEST(YamuxReceiveBuffer, SplitsAChunkAcrossSmallReads) {
  ReceiveBuffer buffer;
  const Bytes data = pattern(1000, 3);
  buffer.push(data);
  Bytes joined;
  while (!buffer.empty()) {
    const Bytes part = buffer.pop(333);
    EXPECT_LE(part.size(), 333u);
    append(joined, part);
  }
  EXPECT_EQ(joined, data);
  EXPECT_TRUE(buffer.pop(0).empty());
}

TEST(YamuxReceiveBuffer, CoalescesTinyPieces) {
  ReceiveBuffer buffer;
  const Bytes data = pattern(50'000, 4);
  for (std::uint8_t byte : data) buffer.push(ByteView(&byte, 1));
  // 1-byte pieces are merged into chunks of about kCoalesceBytes.
  const Bytes first = buffer.pop(1 << 20);
  EXPECT_EQ(first.size(), ReceiveBuffer::kCoalesceBytes);
  Bytes joined = first;
  while (!buffer.empty()) append(joined, buffer.pop(1 << 20));
  EXPECT_EQ(joined, data);
}

TEST(YamuxReceiveBuffer, AppendsBehindAPartlyReadChunk) {
  ReceiveBuffer buffer;
  buffer.push(to_bytes("hello "));
  EXPECT_EQ(as_text(buffer.pop(2)), "he");
  buffer.push(to_bytes("world"));
  EXPECT_EQ(buffer.size(), 9u);
  EXPECT_EQ(as_text(buffer.pop(100)), "llo world");
  buffer.push(to_bytes("x"));
  buffer.clear();
  EXPECT_TRUE(buffer.empty());
}

}  // namespace
}  // namespace taho::yamux
