#include "base/protobuf.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace taho {
namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

std::vector<pb::Field> read_all(ByteView message) {
  std::vector<pb::Field> fields;
  pb::Reader reader(message);
  while (!reader.done()) {
    auto field = reader.next();
    EXPECT_TRUE(field) << field.error().detail;
    if (!field) break;
    fields.push_back(*field);
  }
  return fields;
}

pb::DecodeError first_error(ByteView message) {
  pb::Reader reader(message);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return field.error();
  }
  ADD_FAILURE() << "message decoded without error: " << to_hex(message);
  return {};
}

// The examples from the protobuf encoding guide.
TEST(Protobuf, WritesGuideExamples) {
  pb::Writer varint_message;
  varint_message.varint(1, 150);
  EXPECT_EQ(to_hex(varint_message.data()), "089601");

  pb::Writer string_message;
  string_message.string(2, "testing");
  EXPECT_EQ(to_hex(string_message.data()), "120774657374696e67");
}

// A libp2p PublicKey {Type: Ed25519, Data: 32 bytes} begins 08 01 12 20.
TEST(Protobuf, WritesLibp2pPublicKeyHeader) {
  pb::Writer writer;
  writer.varint(1, 1);
  writer.bytes(2, Bytes(32, 0xab));
  const Bytes out = writer.take();
  ASSERT_EQ(out.size(), 36u);
  EXPECT_EQ(to_hex(ByteView(out).first(4)), "08011220");
}

TEST(Protobuf, WritesEveryWireType) {
  pb::Writer writer;
  writer.varint(1, 0);
  writer.boolean(2, true);
  writer.fixed64(3, 0x0102030405060708);
  writer.fixed32(4, 0x0a0b0c0d);
  writer.bytes(5, {});
  writer.varint(16, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(to_hex(writer.data()),
            "0800"                   // 1: 0
            "1001"                   // 2: true
            "190807060504030201"     // 3: fixed64 little-endian
            "250d0c0b0a"             // 4: fixed32 little-endian
            "2a00"                   // 5: empty bytes
            "8001ffffffffffffffffff01");  // 16: two-byte tag, ten-byte value
}

TEST(Protobuf, ReadsWhatItWrites) {
  pb::Writer writer;
  writer.varint(1, 150);
  writer.string(2, "testing");
  writer.fixed64(3, 0xfedcba9876543210);
  writer.fixed32(4, 0xdeadbeef);
  writer.varint(536870911, std::numeric_limits<std::uint64_t>::max());  // largest field number
  writer.boolean(7, false);
  const Bytes message = writer.take();

  const auto fields = read_all(message);
  ASSERT_EQ(fields.size(), 6u);
  EXPECT_EQ(fields[0].number, 1u);
  EXPECT_EQ(fields[0].type, pb::WireType::varint);
  EXPECT_EQ(fields[0].integer, 150u);
  EXPECT_EQ(fields[1].number, 2u);
  EXPECT_EQ(fields[1].type, pb::WireType::length_delimited);
  EXPECT_EQ(as_text(fields[1].bytes), "testing");
  EXPECT_EQ(fields[2].type, pb::WireType::fixed64);
  EXPECT_EQ(fields[2].integer, 0xfedcba9876543210u);
  EXPECT_EQ(fields[3].type, pb::WireType::fixed32);
  EXPECT_EQ(fields[3].integer, 0xdeadbeefu);
  EXPECT_EQ(fields[4].number, 536870911u);
  EXPECT_EQ(fields[4].integer, std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(fields[5].number, 7u);
  EXPECT_EQ(fields[5].integer, 0u);
}

TEST(Protobuf, BytesFieldIsAViewIntoTheMessage) {
  const Bytes message = hex("120774657374696e67");
  pb::Reader reader(message);
  auto field = reader.next();
  ASSERT_TRUE(field);
  EXPECT_EQ(field->bytes.data(), message.data() + 2);
  EXPECT_EQ(field->bytes.size(), 7u);
  EXPECT_TRUE(reader.done());
}

TEST(Protobuf, AcceptsNonMinimalVarintsLikeProtobufDoes) {
  const auto fields = read_all(hex("880096818000"));  // tag 8 padded, 150 padded
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].number, 1u);
  EXPECT_EQ(fields[0].integer, 150u);
}

TEST(Protobuf, EmptyMessageIsDone) {
  pb::Reader reader(ByteView{});
  EXPECT_TRUE(reader.done());
  auto field = reader.next();
  ASSERT_FALSE(field);
  EXPECT_EQ(field.error().code, pb::Errc::truncated);
}

TEST(Protobuf, TruncatedInputsAreErrors) {
  for (const char* text : {
           "80",            // tag ends early
           "08",            // varint value missing
           "0896",          // varint value ends early
           "1207746573",    // bytes shorter than their length
           "12",            // length missing
           "1280",          // length ends early
           "19010203",      // fixed64 short
           "250102",        // fixed32 short
           "0801120a",      // second field's bytes missing
       }) {
    EXPECT_EQ(first_error(hex(text)).code, pb::Errc::truncated) << text;
  }
}

TEST(Protobuf, HugeLengthIsTruncatedNotAnAllocation) {
  EXPECT_EQ(first_error(hex("12ffffffffffffffff7f")).code, pb::Errc::truncated);
}

TEST(Protobuf, BadVarintsAreErrors) {
  for (const char* text : {
           "08ffffffffffffffffff02",  // value overflows 64 bits
           "08ffffffffffffffffffff01",  // value longer than 10 bytes
           "ffffffffffffffffffff01",  // tag longer than 10 bytes
           "12ffffffffffffffffff7f",  // length overflows
       }) {
    EXPECT_EQ(first_error(hex(text)).code, pb::Errc::bad_varint) << text;
  }
}

TEST(Protobuf, GroupsAndUnknownWireTypesAreErrors) {
  for (const char* text : {"0b", "0c", "0e", "0f"}) {  // field 1, wire types 3, 4, 6, 7
    const auto error = first_error(hex(text));
    EXPECT_EQ(error.code, pb::Errc::bad_wire_type) << text;
    EXPECT_NE(error.detail.find("wire type"), std::string::npos);
  }
}

TEST(Protobuf, FieldNumberZeroOrTooLargeIsAnError) {
  EXPECT_EQ(first_error(hex("0001")).code, pb::Errc::bad_field_number);
  // 2^29 << 3 = 2^32: one past the largest field number.
  EXPECT_EQ(first_error(hex("808080801000")).code, pb::Errc::bad_field_number);
  // A tag wider than 32 bits.
  EXPECT_EQ(first_error(hex("80808080808001")).code, pb::Errc::bad_field_number);
}

TEST(Protobuf, FailedReadLeavesTheReaderInPlace) {
  const Bytes message = hex("0801" "1207");
  pb::Reader reader(message);
  ASSERT_TRUE(reader.next());
  EXPECT_FALSE(reader.next());
  EXPECT_FALSE(reader.done());
  EXPECT_FALSE(reader.next());
}

// One field read back from what a Writer wrote.
pb::Field only_field(const pb::Writer& writer) {
  const auto fields = read_all(writer.data());
  EXPECT_EQ(fields.size(), 1u);
  return fields.empty() ? pb::Field{} : fields.front();
}

pb::Field bytes_field(std::size_t size) {
  pb::Writer writer;
  writer.bytes(1, Bytes(size, 0xab));
  return only_field(writer);
}

pb::Field varint_field(std::uint64_t value) {
  pb::Writer writer;
  writer.varint(1, value);
  return only_field(writer);
}

pb::Field fixed32_field() {
  pb::Writer writer;
  writer.fixed32(1, 7);
  return only_field(writer);
}

TEST(ProtobufFieldChecks, BytesUpToTheBoundAreTheFieldsView) {
  const pb::Field field = bytes_field(4);
  const auto bytes = pb::bytes_of(field, 4, "cookie");
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->data(), field.bytes.data());
  EXPECT_EQ(bytes->size(), 4u);
  EXPECT_TRUE(pb::bytes_of(bytes_field(0), 0, "cookie"));
}

TEST(ProtobufFieldChecks, BytesOverTheBoundAreTooLarge) {
  const auto bytes = pb::bytes_of(bytes_field(5), 4, "cookie");
  ASSERT_FALSE(bytes);
  EXPECT_EQ(bytes.error().code, pb::FieldErrc::too_large);
  EXPECT_EQ(bytes.error().detail, "cookie over its limit");
}

TEST(ProtobufFieldChecks, BytesOfAnotherWireTypeAreWrongType) {
  for (const pb::Field& field : {varint_field(3), fixed32_field()}) {
    const auto bytes = pb::bytes_of(field, 100, "cookie");
    ASSERT_FALSE(bytes);
    EXPECT_EQ(bytes.error().code, pb::FieldErrc::wrong_type);
    EXPECT_EQ(bytes.error().detail, "cookie is not bytes");
  }
}

TEST(ProtobufFieldChecks, MessageIsAnyLengthDelimitedBody) {
  const pb::Field field = bytes_field(300);
  const auto body = pb::message_of(field, "peer");
  ASSERT_TRUE(body);
  EXPECT_EQ(body->data(), field.bytes.data());
  EXPECT_EQ(body->size(), 300u);

  const auto wrong = pb::message_of(varint_field(1), "peer");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, pb::FieldErrc::wrong_type);
  EXPECT_EQ(wrong.error().detail, "peer is not a message");
}

TEST(ProtobufFieldChecks, VarintKeepsAll64Bits) {
  for (const std::uint64_t value : {std::uint64_t{0}, std::uint64_t{300}, std::numeric_limits<std::uint64_t>::max()}) {
    const auto read = pb::varint_of(varint_field(value), "ttl");
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, value);
  }
  const auto wrong = pb::varint_of(bytes_field(1), "ttl");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, pb::FieldErrc::wrong_type);
  EXPECT_EQ(wrong.error().detail, "ttl is not a varint");
}

TEST(ProtobufFieldChecks, EnumIsANonNegativeInt32) {
  constexpr auto int32_max = static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max());
  for (const std::uint64_t value : {std::uint64_t{0}, std::uint64_t{101}, int32_max}) {
    const auto read = pb::int32_enum_of(varint_field(value), "status");
    ASSERT_TRUE(read);
    EXPECT_EQ(*read, value);
  }
  // One past int32, and -1 as protobuf writes it (sign-extended to 64 bits).
  for (const std::uint64_t value : {int32_max + 1, std::numeric_limits<std::uint64_t>::max()}) {
    const auto read = pb::int32_enum_of(varint_field(value), "status");
    ASSERT_FALSE(read);
    EXPECT_EQ(read.error().code, pb::FieldErrc::out_of_range);
    EXPECT_EQ(read.error().detail, "status out of range");
  }
  const auto wrong = pb::int32_enum_of(bytes_field(1), "status");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, pb::FieldErrc::wrong_type);
  EXPECT_EQ(wrong.error().detail, "status is not a varint");
}

}  // namespace
}  // namespace taho
