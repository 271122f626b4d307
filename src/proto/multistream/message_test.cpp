#include "proto/multistream/message.hpp"

#include <gtest/gtest.h>

namespace taho::multistream {
namespace {

Bytes bytes_of(std::string_view text) { return to_bytes(text); }

TEST(MultistreamMessage, EncodesWithLengthIncludingNewline) {
  Bytes out;
  append_message("na", out);
  EXPECT_EQ(to_hex(out), "036e610a");  // the spec's own example
  out.clear();
  append_message(kProtocolId, out);
  // 18 characters + newline = 19 = 0x13.
  EXPECT_EQ(out, bytes_of("\x13/multistream/1.0.0\n"));
}

TEST(MultistreamMessage, LongMessageUsesTwoByteLength) {
  Bytes out;
  const std::string name = "/" + std::string(199, 'a');  // 200 + newline = 201 = 0xc9 0x01
  append_message(name, out);
  ASSERT_EQ(out.size(), 203u);
  EXPECT_EQ(out[0], 0xc9);
  EXPECT_EQ(out[1], 0x01);
}

TEST(MultistreamMessage, ReaderReassemblesOneByteFragments) {
  Bytes wire;
  append_message("/a/1", wire);
  append_message("/bb/2", wire);
  wire.push_back(0x42);  // a following byte that belongs to the next layer
  MessageReader reader;
  std::vector<std::string> seen;
  for (std::size_t i = 0; i < wire.size(); ++i) {
    ByteView piece = ByteView(wire).subspan(i, 1);
    while (!piece.empty()) {
      auto message = reader.next(piece);
      ASSERT_TRUE(message) << message.error().detail;
      if (*message) {
        seen.emplace_back(**message);
        if (seen.size() == 2) {
          EXPECT_TRUE(piece.empty());
          EXPECT_EQ(i + 2, wire.size());
        }
      }
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"/a/1", "/bb/2"}));
}

TEST(MultistreamMessage, ReaderLeavesTrailingBytesInInput) {
  Bytes wire;
  append_message("/x", wire);
  append(wire, bytes_of("rest"));
  MessageReader reader;
  ByteView input(wire);
  auto message = reader.next(input);
  ASSERT_TRUE(message && *message);
  EXPECT_EQ(**message, "/x");
  EXPECT_EQ(as_text(input), "rest");
}

Errc read_error(Bytes wire, std::size_t limit = kMessageBytesMax) {
  MessageReader reader(limit);
  ByteView input(wire);
  while (!input.empty()) {
    auto message = reader.next(input);
    if (!message) return message.error().code;
  }
  ADD_FAILURE() << "no error for " << to_hex(wire);
  return Errc::finished;
}

TEST(MultistreamMessage, RejectsMalformedMessages) {
  EXPECT_EQ(read_error({0x80, 0x00}), Errc::bad_varint);                 // not minimal
  EXPECT_EQ(read_error({0x81, 0x08}), Errc::message_too_long);           // 1025 bytes
  EXPECT_EQ(read_error({0xff, 0xff, 0xff}), Errc::message_too_long);     // prefix too long for any allowed length
  EXPECT_EQ(read_error({0x00}), Errc::missing_newline);                  // empty message
  EXPECT_EQ(read_error(bytes_of("\x03nax")), Errc::missing_newline);
  EXPECT_EQ(read_error({0x03, 0xc3, 0x28, '\n'}), Errc::bad_utf8);       // bad continuation byte
  EXPECT_EQ(read_error({0x03, 0xc0, 0x80, '\n'}), Errc::bad_utf8);       // overlong NUL
  EXPECT_EQ(read_error({0x04, 0xed, 0xa0, 0x80, '\n'}), Errc::bad_utf8); // surrogate
  EXPECT_EQ(read_error(bytes_of("\x05/abc\n"), 4), Errc::message_too_long);
}

TEST(MultistreamMessage, AcceptsMaximumLengthMessage) {
  const std::string name = "/" + std::string(kMessageBytesMax - 2, 'p');
  Bytes wire;
  append_message(name, wire);
  MessageReader reader;
  ByteView input(wire);
  auto message = reader.next(input);
  ASSERT_TRUE(message && *message);
  EXPECT_EQ(**message, name);
}

TEST(MultistreamMessage, ValidatesUtf8) {
  EXPECT_TRUE(is_valid_utf8("/caf\xc3\xa9/1.0"));
  EXPECT_TRUE(is_valid_utf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(is_valid_utf8("\xf0\x9f\x98"));  // truncated
  EXPECT_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xff"));
}

TEST(MultistreamMessage, ProtocolListRoundTrips) {
  const std::vector<std::string> protocols{"/noise", "/yamux/1.0.0", "/ipfs/ping/1.0.0"};
  Bytes wire;
  append_protocol_list(protocols, kMessageBytesMax, wire);
  // Outer length, then "\x07/noise\n" "\x0d/yamux/1.0.0\n" "\x11/ipfs/ping/1.0.0\n" "\n".
  EXPECT_EQ(wire, bytes_of("\x29\x07/noise\n\x0d/yamux/1.0.0\n\x11/ipfs/ping/1.0.0\n\n"));
  MessageReader reader;
  ByteView input(wire);
  auto message = reader.next(input);
  ASSERT_TRUE(message && *message);
  auto parsed = parse_protocol_list(**message, 10);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, protocols);
  EXPECT_EQ(parse_protocol_list(**message, 2).error().code, Errc::too_many_proposals);
}

TEST(MultistreamMessage, ProtocolListDropsWhatDoesNotFit) {
  const std::vector<std::string> protocols{"/a", std::string(30, 'b'), "/c"};
  Bytes wire;
  append_protocol_list(protocols, 16, wire);
  EXPECT_EQ(wire, bytes_of("\x09\x03/a\n\x03/c\n\n"));
}

TEST(MultistreamMessage, ProtocolListRejectsBrokenLines) {
  EXPECT_EQ(parse_protocol_list("\x05/a\n", 8).error().code, Errc::missing_newline);
  EXPECT_EQ(parse_protocol_list("\x03/ab", 8).error().code, Errc::missing_newline);
  EXPECT_EQ(parse_protocol_list(std::string_view("\x00", 1), 8).error().code, Errc::missing_newline);
  EXPECT_EQ(parse_protocol_list("\x80", 8).error().code, Errc::bad_varint);
}

}  // namespace
}  // namespace taho::multistream
