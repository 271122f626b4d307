#include "proto/rendezvous/message.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "base/protobuf.hpp"
#include "base/varint.hpp"
#include "proto/rendezvous/cookie.hpp"
#include "proto/rendezvous/namespace_name.hpp"

namespace taho::rendezvous {
namespace {

Bytes from_bytes_hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes)) << text;
  return bytes;
}

Message register_message() {
  Message message;
  message.type = MessageType::register_request;
  message.register_request = Register{.ns = "my-app", .signed_peer_record = to_bytes("envelope"), .ttl_seconds = 7200};
  return message;
}

Message discover_response_message() {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{
      .registrations = {Register{.ns = "a", .signed_peer_record = to_bytes("one"), .ttl_seconds = 10},
                        Register{.ns = "b", .signed_peer_record = to_bytes("two"), .ttl_seconds = std::nullopt}},
      .cookie = to_bytes("cookie"),
      .status = ResponseStatus::ok,
      .status_text = "fine"};
  return message;
}

std::vector<Message> every_kind() {
  std::vector<Message> messages = {register_message(), discover_response_message()};
  Message register_response;
  register_response.type = MessageType::register_response;
  register_response.register_response =
      RegisterResponse{.status = ResponseStatus::invalid_ttl, .status_text = "too short", .ttl_seconds = 5};
  messages.push_back(register_response);
  Message unregister;
  unregister.type = MessageType::unregister;
  unregister.unregister = Unregister{.ns = "my-app", .id = to_bytes("peer")};
  messages.push_back(unregister);
  Message discover;
  discover.type = MessageType::discover;
  discover.discover = Discover{.ns = "my-app", .limit = 3, .cookie = to_bytes("c")};
  messages.push_back(discover);
  return messages;
}

// A Message carrying `sub` (already encoded) as field `number`.
Bytes wrap(std::uint32_t type, std::uint32_t number, ByteView sub) {
  pb::Writer writer;
  writer.varint(1, type);
  writer.bytes(number, sub);
  return writer.take();
}

TEST(RendezvousMessage, RoundTripsEveryKind) {
  for (const Message& message : every_kind()) {
    const auto decoded = decode_message(encode_message(message));
    ASSERT_TRUE(decoded) << decoded.error().detail;
    EXPECT_EQ(*decoded, message);
  }
}

TEST(RendezvousMessage, EncodesDiscoverToFixedBytes) {
  Message message;
  message.type = MessageType::discover;
  message.discover = Discover{.ns = "ab", .limit = 5, .cookie = {}};
  EXPECT_EQ(to_hex(encode_message(message)), "08032a060a0261621005");
  EXPECT_EQ(to_hex(encode_frame(message)), "0a08032a060a0261621005");
}

TEST(RendezvousMessage, AlwaysWritesTypeAndStatusButNoEmptyDiscoverNamespace) {
  Message ok;
  ok.type = MessageType::register_response;
  ok.register_response = RegisterResponse{};
  // rust-libp2p refuses a response without status, even OK (0).
  EXPECT_EQ(to_hex(encode_message(ok)), "08011a020800");

  Message all;
  all.type = MessageType::discover;
  all.discover = Discover{};
  // An absent namespace asks for every namespace; "" would name one.
  EXPECT_EQ(to_hex(encode_message(all)), "08032a00");

  Message register_empty;
  register_empty.register_request = Register{};
  EXPECT_EQ(to_hex(encode_message(register_empty)), "080012020a00");
}

TEST(RendezvousMessage, SkipsUnknownFields) {
  pb::Writer discover;
  discover.string(1, "ns");
  discover.varint(9, 77);  // unknown inside
  pb::Writer writer;
  writer.varint(1, 3);
  writer.bytes(5, discover.data());
  writer.bytes(7, to_bytes("a proof of work"));  // unknown outside
  const auto decoded = decode_message(writer.data());
  ASSERT_TRUE(decoded) << decoded.error().detail;
  ASSERT_TRUE(decoded->discover);
  EXPECT_EQ(decoded->discover->ns, "ns");
}

TEST(RendezvousMessage, ReadsNegativeTtlAsHugeValue) {
  // int64 -1 as protobuf writes it: a ten-byte varint. The point then
  // refuses it as out of range.
  pb::Writer registration;
  registration.varint(3, static_cast<std::uint64_t>(std::int64_t{-1}));
  const auto decoded = decode_message(wrap(0, 2, registration.data()));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->register_request->ttl_seconds, std::numeric_limits<std::uint64_t>::max());
}

TEST(RendezvousMessage, RefusesNamespaceOver255Bytes) {
  pb::Writer ok;
  ok.string(1, std::string(255, 'n'));
  EXPECT_TRUE(decode_message(wrap(0, 2, ok.data())));
  for (std::uint32_t sub : {2u, 4u, 5u}) {
    pb::Writer long_ns;
    long_ns.string(1, std::string(256, 'n'));
    const auto decoded = decode_message(wrap(0, sub, long_ns.data()));
    ASSERT_FALSE(decoded) << sub;
    EXPECT_EQ(decoded.error().code, Errc::too_large);
  }
}

TEST(RendezvousMessage, RefusesOversizeFields) {
  const Limits limits{};
  pb::Writer cookie;
  cookie.bytes(3, Bytes(limits.cookie_bytes_max + 1, 1));
  auto decoded = decode_message(wrap(3, 5, cookie.data()));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_large);

  pb::Writer record;
  record.bytes(2, Bytes(limits.signed_peer_record_bytes_max + 1, 1));
  decoded = decode_message(wrap(0, 2, record.data()));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_large);

  pb::Writer text;
  text.string(2, std::string(limits.status_text_bytes_max + 1, 't'));
  decoded = decode_message(wrap(1, 3, text.data()));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_large);

  const Bytes body = encode_message(register_message());
  decoded = decode_message(body, Limits{.message_bytes_max = body.size() - 1});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_large);
}

TEST(RendezvousMessage, RefusesTooManyRegistrations) {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{};
  for (int i = 0; i < 4; ++i) message.discover_response->registrations.push_back(Register{.ns = "x"});
  const Bytes body = encode_message(message);
  EXPECT_TRUE(decode_message(body, Limits{.registrations_per_response_max = 4}));
  const auto decoded = decode_message(body, Limits{.registrations_per_response_max = 3});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_many_entries);
}

TEST(RendezvousMessage, RefusesBadTypesAndValues) {
  struct Case {
    Bytes body;
    Errc code;
  };
  pb::Writer negative_status;
  negative_status.varint(1, static_cast<std::uint64_t>(std::int64_t{-1}));
  pb::Writer ns_as_varint;
  ns_as_varint.varint(1, 5);
  pb::Writer registration_as_varint;
  registration_as_varint.varint(1, 5);
  const std::vector<Case> cases = {
      {from_bytes_hex("0805"), Errc::bad_field},                          // type 5
      {from_bytes_hex("0a0103"), Errc::bad_protobuf},                     // type as bytes
      {from_bytes_hex("0803" "2a05" "0a02"), Errc::bad_protobuf},         // truncated sub-message
      {from_bytes_hex("2805"), Errc::bad_protobuf},                       // discover as a varint
      {wrap(1, 3, negative_status.data()), Errc::bad_field},
      {wrap(3, 5, ns_as_varint.data()), Errc::bad_protobuf},
      {wrap(4, 6, registration_as_varint.data()), Errc::bad_protobuf},
      {from_bytes_hex("0f"), Errc::bad_protobuf},                         // wire type 7
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto decoded = decode_message(cases[i].body);
    ASSERT_FALSE(decoded) << i;
    EXPECT_EQ(decoded.error().code, cases[i].code) << i << " " << decoded.error().detail;
  }
}

TEST(RendezvousMessage, KeepsUnknownStatusValues) {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{.status = static_cast<ResponseStatus>(104)};
  const auto decoded = decode_message(encode_message(message));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(static_cast<std::uint32_t>(decoded->discover_response->status), 104u);
}

TEST(RendezvousMessage, MeasuresRegistrationBytes) {
  const Message message = discover_response_message();
  Message without_first = message;
  without_first.discover_response->registrations.erase(without_first.discover_response->registrations.begin());
  EXPECT_EQ(encode_message(message).size() - encode_message(without_first).size(),
            encoded_registration_bytes(message.discover_response->registrations.front()));
}

TEST(RendezvousFrameReader, ReadsFramesInAnyFragmentation) {
  Bytes stream;
  for (const Message& message : every_kind()) append(stream, encode_frame(message));
  append(stream, Bytes{0x00});  // an empty frame: a default Message
  for (std::size_t step : {std::size_t{1}, std::size_t{2}, std::size_t{7}, stream.size()}) {
    FrameReader reader;
    for (std::size_t at = 0; at < stream.size(); at += step) {
      ASSERT_TRUE(reader.handle_data(ByteView(stream).subspan(at, std::min(step, stream.size() - at))));
    }
    ASSERT_TRUE(reader.handle_end());
    std::vector<Message> read;
    while (auto message = reader.poll_message()) read.push_back(std::move(*message));
    std::vector<Message> expected = every_kind();
    expected.push_back(Message{});
    EXPECT_EQ(read, expected) << step;
  }
}

TEST(RendezvousFrameReader, RefusesOversizeAndMalformedPrefixes) {
  FrameReader small(Limits{.message_bytes_max = 10});
  Bytes prefix;
  varint::encode(11, prefix);
  auto result = small.handle_data(prefix);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::too_large);
  // Sticky: the stream is dead.
  EXPECT_FALSE(small.handle_data(encode_frame(Message{})));

  FrameReader reader;
  result = reader.handle_data(from_bytes_hex("8000"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::bad_length_prefix);
}

TEST(RendezvousFrameReader, FailsOnEndInsideAFrame) {
  FrameReader reader;
  const Bytes frame = encode_frame(register_message());
  ASSERT_TRUE(reader.handle_data(ByteView(frame).first(frame.size() - 1)));
  EXPECT_FALSE(reader.poll_message());
  const auto ended = reader.handle_end();
  ASSERT_FALSE(ended);
  EXPECT_EQ(ended.error().code, Errc::truncated);
}

TEST(RendezvousFrameReader, BoundsMessagesPerStream) {
  FrameReader reader(Limits{.messages_per_stream_max = 3});
  ASSERT_TRUE(reader.handle_data(Bytes(3, 0x00)));
  const auto result = reader.handle_data(Bytes{0x00});
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::too_many_entries);
}

TEST(RendezvousFrameReader, PassesDecodeErrorsOn) {
  FrameReader reader;
  const auto result = reader.handle_data(from_bytes_hex("020805"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::bad_field);
}

TEST(RendezvousNamespace, AcceptsShortUtf8Only) {
  EXPECT_TRUE(is_valid_namespace("my-app"));
  EXPECT_TRUE(is_valid_namespace("caf\xc3\xa9 \xf0\x9f\x98\x80"));
  EXPECT_TRUE(is_valid_namespace(std::string(255, 'x')));
  EXPECT_FALSE(is_valid_namespace(""));
  EXPECT_FALSE(is_valid_namespace(std::string(256, 'x')));
  EXPECT_FALSE(is_valid_namespace("\xff"));
  EXPECT_FALSE(is_valid_namespace("\xc3"));              // truncated sequence
  EXPECT_FALSE(is_valid_namespace("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(is_valid_namespace("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_namespace("\xf4\x90\x80\x80"));  // above U+10FFFF
}

TEST(RendezvousCookie, RoundTripsInTheLayoutRustClientsParse) {
  const Cookie cookie{.epoch = 0xabcd, .position = 0x0102030405, .ns = "my-app"};
  const Bytes bytes = encode_cookie(cookie);
  EXPECT_EQ(to_hex(bytes), "abcd000102030405" + to_hex(as_bytes("my-app")));
  EXPECT_EQ(decode_cookie(bytes), cookie);

  const Cookie all{.epoch = 1, .position = cookie_position_max, .ns = ""};
  EXPECT_EQ(encode_cookie(all).size(), 8u);
  EXPECT_EQ(decode_cookie(encode_cookie(all)), all);

  EXPECT_FALSE(decode_cookie(Bytes(7, 0)));
  EXPECT_FALSE(decode_cookie(Bytes(8 + 256, 'a')));
}

}  // namespace
}  // namespace taho::rendezvous
