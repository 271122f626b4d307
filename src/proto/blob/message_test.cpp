#include "proto/blob/message.hpp"

#include <gtest/gtest.h>

#include "base/protobuf.hpp"
#include "content/tree/tree_shape.hpp"

namespace taho::blob {
namespace {

content::Hash filled_root(std::uint8_t byte) {
  content::Hash root{};
  root.fill(byte);
  return root;
}

TEST(BlobMessage, RequestHasThePinnedWireForm) {
  const Request request{filled_root(0x11), 16384, 1 << 20, false};
  Bytes expected = {0x2a, 0x0a, 0x20};
  expected.insert(expected.end(), 32, 0x11);
  append(expected, Bytes{0x10, 0x80, 0x80, 0x01, 0x18, 0x80, 0x80, 0x40});
  EXPECT_EQ(frame(encode_request(request)), expected);
}

TEST(BlobMessage, RequestsRoundTrip) {
  for (const Request& request : {Request{filled_root(1), 0, 0, false}, Request{filled_root(2), 1 << 14, ~0ull, false},
                                 Request{filled_root(3), 0, 0, true}}) {
    auto decoded = decode_request(encode_request(request));
    ASSERT_TRUE(decoded) << decoded.error().detail;
    EXPECT_EQ(*decoded, request);
  }
}

TEST(BlobMessage, RequestSkipsUnknownFieldsAndRefusesBadOnes) {
  pb::Writer writer;
  writer.string(9, "from a later version");
  writer.bytes(1, filled_root(7));
  writer.varint(2, 32768);
  auto decoded = decode_request(writer.data());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->offset, 32768u);
  EXPECT_EQ(decoded->length, 0u);

  pb::Writer no_root;
  no_root.varint(2, 0);
  EXPECT_EQ(decode_request(no_root.data()).error().code, Errc::bad_field);

  pb::Writer short_root;
  short_root.bytes(1, Bytes(31, 0));
  EXPECT_EQ(decode_request(short_root.data()).error().code, Errc::bad_field);

  pb::Writer wrong_type;
  wrong_type.bytes(1, filled_root(7));
  wrong_type.string(2, "offset as text");
  EXPECT_EQ(decode_request(wrong_type.data()).error().code, Errc::bad_protobuf);

  Bytes cut = encode_request({filled_root(1), 0, 5, false});
  cut.pop_back();  // the length field's tag without its value
  EXPECT_EQ(decode_request(cut).error().code, Errc::bad_protobuf);
  EXPECT_EQ(decode_request(Bytes{0x0a, 0x20, 0x01}).error().code, Errc::bad_protobuf);  // root runs past the end
}

TEST(BlobMessage, ResponseHeaderHasThePinnedWireForm) {
  EXPECT_EQ(encode_response_header({Status::have, 1000, RemoteErrc::unspecified, {}}),
            (Bytes{0x08, 0x01, 0x10, 0xe8, 0x07}));
  EXPECT_EQ(encode_response_header({Status::dont_have, 0, RemoteErrc::unspecified, {}}), (Bytes{0x08, 0x02}));
  EXPECT_EQ(encode_response_header({Status::error, 0, RemoteErrc::busy, "later"}),
            (Bytes{0x08, 0x03, 0x18, 0x03, 0x22, 0x05, 'l', 'a', 't', 'e', 'r'}));
}

TEST(BlobMessage, ResponseHeadersRoundTrip) {
  const ResponseHeader headers[] = {
      {Status::have, 0, RemoteErrc::unspecified, {}},
      {Status::have, content::kContentBytesMax, RemoteErrc::unspecified, {}},
      {Status::dont_have, 0, RemoteErrc::unspecified, {}},
      {Status::error, 0, RemoteErrc::range_too_large, "a range of 32 MiB is above the limit"},
      {Status::error, 0, RemoteErrc::internal, {}},
  };
  for (const auto& header : headers) {
    auto decoded = decode_response_header(encode_response_header(header));
    ASSERT_TRUE(decoded) << decoded.error().detail;
    EXPECT_EQ(*decoded, header);
  }
}

TEST(BlobMessage, ErrorTextIsClippedAtACharacterBoundary) {
  // 511 ASCII bytes then a 2-byte character: clipping at 512 must not split it.
  std::string text(511, 'x');
  text += "\xc3\xa9 and more";
  auto decoded = decode_response_header(encode_response_header({Status::error, 0, RemoteErrc::internal, text}));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->error, std::string(511, 'x'));
}

TEST(BlobMessage, ResponseHeaderRefusesBadFields) {
  EXPECT_EQ(decode_response_header(Bytes{0x08, 0x00}).error().code, Errc::bad_field);  // status 0
  EXPECT_EQ(decode_response_header(Bytes{0x08, 0x04}).error().code, Errc::bad_field);  // status 4
  EXPECT_EQ(decode_response_header(Bytes{0x10, 0x01}).error().code, Errc::bad_field);  // no status
  EXPECT_EQ(decode_response_header(Bytes{0x0a, 0x00}).error().code, Errc::bad_protobuf);  // status as bytes

  pb::Writer too_big;
  too_big.varint(1, 1);
  too_big.varint(2, content::kContentBytesMax + 1);
  EXPECT_EQ(decode_response_header(too_big.data()).error().code, Errc::bad_field);

  pb::Writer long_text;
  long_text.varint(1, 3);
  long_text.string(4, std::string(error_text_bytes_max + 1, 'e'));
  EXPECT_EQ(decode_response_header(long_text.data()).error().code, Errc::bad_field);

  pb::Writer new_code;
  new_code.varint(1, 3);
  new_code.varint(3, 77);
  auto decoded = decode_response_header(new_code.data());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->error_code, RemoteErrc::unspecified);
}

TEST(BlobFrameReader, ReadsOneFrameInAnyFragmentationAndNothingMore) {
  const Bytes body = encode_request({filled_root(5), 0, 100, false});
  Bytes stream = frame(body);
  const std::size_t frame_bytes = stream.size();
  append(stream, Bytes{0xde, 0xad});
  for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
    FrameReader reader(request_bytes_max);
    std::size_t taken_total = 0;
    for (std::size_t at = 0; at < stream.size() && !reader.complete(); at += piece) {
      const ByteView fragment = ByteView(stream).subspan(at, std::min(piece, stream.size() - at));
      auto taken = reader.handle_data(fragment);
      ASSERT_TRUE(taken);
      taken_total += *taken;
    }
    ASSERT_TRUE(reader.complete());
    EXPECT_EQ(taken_total, frame_bytes);
    EXPECT_EQ(Bytes(reader.body().begin(), reader.body().end()), body);
  }
}

TEST(BlobFrameReader, EmptyBodyIsAFrame) {
  FrameReader reader(16);
  auto taken = reader.handle_data(Bytes{0x00, 0x01});
  ASSERT_TRUE(taken);
  EXPECT_EQ(*taken, 1u);
  EXPECT_TRUE(reader.complete());
  EXPECT_TRUE(reader.body().empty());
}

TEST(BlobFrameReader, RefusesOversizeAndMalformedPrefixesForGood) {
  FrameReader small(10);
  EXPECT_EQ(small.handle_data(Bytes{11}).error().code, Errc::too_large);
  EXPECT_EQ(small.handle_data(Bytes{0}).error().code, Errc::too_large);  // sticks

  FrameReader overlong(10);
  EXPECT_EQ(overlong.handle_data(Bytes(10, 0xff)).error().code, Errc::bad_length_prefix);

  FrameReader not_minimal(10);
  EXPECT_EQ(not_minimal.handle_data(Bytes{0x80, 0x00}).error().code, Errc::bad_length_prefix);
}

}  // namespace
}  // namespace taho::blob
