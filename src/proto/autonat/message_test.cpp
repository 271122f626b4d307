#include "proto/autonat/message.hpp"

#include <gtest/gtest.h>

#include "base/varint.hpp"
#include "proto/autonat/test_support.hpp"

namespace taho::autonat {
namespace {

using testing::address;
using testing::peer;

TEST(AutonatMessage, DialRoundTrips) {
  const auto message = make_dial(peer(1).bytes(), {address("/ip4/1.2.3.4/tcp/4001").bytes(),
                                                    address("/ip4/1.2.3.4/udp/4001/quic-v1").bytes()});
  auto decoded = decode_message(encode_message(message));
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(*decoded, message);
  EXPECT_EQ(decoded->type, MessageType::dial);
  ASSERT_TRUE(decoded->dial && decoded->dial->peer);
  EXPECT_EQ(decoded->dial->peer->addrs.size(), 2u);
}

TEST(AutonatMessage, ResponseRoundTripsWithUnknownStatus) {
  auto message = make_response(ResponseStatus::ok, "OK", address("/ip4/1.2.3.4/tcp/4001").bytes());
  auto decoded = decode_message(encode_message(message));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, message);
  message.dial_response->status = static_cast<ResponseStatus>(777);
  decoded = decode_message(encode_message(message));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(static_cast<std::uint32_t>(*decoded->dial_response->status), 777u);
  EXPECT_EQ(to_string(*decoded->dial_response->status), "unknown");
}

// Bytes written by hand after the spec's schema, as js-libp2p encodes a
// DIAL_RESPONSE with E_DIAL_REFUSED: type=1, dialResponse{status=101, statusText="no"}.
TEST(AutonatMessage, DecodesSpecBytes) {
  const Bytes body = {0x08, 0x01, 0x1a, 0x08, 0x08, 0x65, 0x12, 0x02, 'n', 'o', 0x1a, 0x00};
  auto decoded = decode_message(body);
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(decoded->type, MessageType::dial_response);
  ASSERT_TRUE(decoded->dial_response);
  EXPECT_EQ(decoded->dial_response->status, ResponseStatus::dial_refused);
  EXPECT_EQ(decoded->dial_response->status_text, "no");
  EXPECT_EQ(decoded->dial_response->addr, Bytes{});
}

TEST(AutonatMessage, EncodesTypeZeroExplicitly) {
  // DIAL is the enum's zero: written anyway, as the spec's required field.
  const auto bytes = encode_message(make_dial(peer(1).bytes(), {}));
  ASSERT_GE(bytes.size(), 2u);
  EXPECT_EQ(bytes[0], 0x08);
  EXPECT_EQ(bytes[1], 0x00);
}

TEST(AutonatMessage, RejectsBadInput) {
  EXPECT_EQ(decode_message(Bytes{0x08, 0x05}).error().code, Errc::bad_field);                // unknown type
  EXPECT_EQ(decode_message(Bytes{0x12, 0x05, 0x01}).error().code, Errc::bad_protobuf);       // truncated field
  EXPECT_EQ(decode_message(Bytes{0x0a, 0x00}).error().code, Errc::bad_protobuf);             // type as bytes
  Bytes negative = {0x1a, 0x0b, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
  EXPECT_EQ(decode_message(negative).error().code, Errc::bad_field);  // status -1
  Limits limits;
  limits.addrs_max = 1;
  const auto two = encode_message(make_dial(peer(1).bytes(), {Bytes{1}, Bytes{2}}));
  EXPECT_EQ(decode_message(two, limits).error().code, Errc::too_large);
}

TEST(AutonatMessage, SkipsUnknownFields) {
  Bytes body = encode_message(make_response(ResponseStatus::dial_error, "x"));
  body.insert(body.end(), {0x78, 0x2a});  // field 15, varint 42
  auto decoded = decode_message(body);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->dial_response->status, ResponseStatus::dial_error);
}

TEST(AutonatFrameReader, ReadsOneMessageByteByByte) {
  const auto message = make_dial(peer(2).bytes(), {address("/ip4/1.2.3.4/tcp/1").bytes()});
  const Bytes frame = encode_frame(message);
  FrameReader reader;
  for (std::size_t i = 0; i < frame.size(); ++i) {
    EXPECT_FALSE(reader.poll_message());
    ASSERT_TRUE(reader.handle_data(ByteView(frame).subspan(i, 1)));
  }
  auto got = reader.poll_message();
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, message);
  EXPECT_FALSE(reader.poll_message());
  EXPECT_TRUE(reader.handle_end());
}

TEST(AutonatFrameReader, FailsOnTruncationOversizeAndExtraData) {
  const Bytes frame = encode_frame(make_response(ResponseStatus::ok, "OK"));
  {
    FrameReader reader;
    ASSERT_TRUE(reader.handle_data(ByteView(frame).first(frame.size() - 1)));
    EXPECT_EQ(reader.handle_end().error().code, Errc::truncated);
  }
  {
    FrameReader reader;
    EXPECT_EQ(reader.handle_end().error().code, Errc::truncated);
  }
  {
    FrameReader reader;
    Bytes huge;
    varint::encode(1 << 20, huge);
    EXPECT_EQ(reader.handle_data(huge).error().code, Errc::too_large);
    EXPECT_FALSE(reader.handle_data(frame));  // stays failed
  }
  {
    FrameReader reader;
    Bytes twice = frame;
    twice.insert(twice.end(), frame.begin(), frame.end());
    EXPECT_FALSE(reader.handle_data(twice));
  }
}

}  // namespace
}  // namespace taho::autonat
