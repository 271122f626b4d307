#include "base/varint.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace taho {
namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

Bytes encoded(std::uint64_t value) {
  Bytes out;
  varint::encode(value, out);
  return out;
}

// Examples from the multiformats unsigned-varint spec.
TEST(Varint, EncodesSpecExamples) {
  EXPECT_EQ(to_hex(encoded(0)), "00");
  EXPECT_EQ(to_hex(encoded(1)), "01");
  EXPECT_EQ(to_hex(encoded(127)), "7f");
  EXPECT_EQ(to_hex(encoded(128)), "8001");
  EXPECT_EQ(to_hex(encoded(255)), "ff01");
  EXPECT_EQ(to_hex(encoded(300)), "ac02");
  EXPECT_EQ(to_hex(encoded(16384)), "808001");
  EXPECT_EQ(to_hex(encoded((std::uint64_t{1} << 63) - 1)), "ffffffffffffffff7f");
}

TEST(Varint, DecodesSpecExamples) {
  struct Case {
    const char* hex;
    std::uint64_t value;
  };
  for (const Case& c : {Case{"00", 0}, Case{"01", 1}, Case{"7f", 127}, Case{"8001", 128},
                        Case{"ff01", 255}, Case{"ac02", 300}, Case{"808001", 16384},
                        Case{"ffffffffffffffff7f", (std::uint64_t{1} << 63) - 1}}) {
    const Bytes input = hex(c.hex);
    auto decoded = varint::decode(input);
    ASSERT_TRUE(decoded) << c.hex << ": " << decoded.error().detail;
    EXPECT_EQ(decoded->value, c.value) << c.hex;
    EXPECT_EQ(decoded->length, input.size()) << c.hex;
  }
}

TEST(Varint, DecodeStopsAtTheEndOfTheVarint) {
  const Bytes input = hex("ac02ffee");
  auto decoded = varint::decode(input);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->value, 300u);
  EXPECT_EQ(decoded->length, 2u);
}

TEST(Varint, RoundTripsEveryPowerOfTwoAndNeighbours) {
  for (unsigned bit = 0; bit < 63; ++bit) {
    for (std::uint64_t value : {(std::uint64_t{1} << bit) - 1, std::uint64_t{1} << bit,
                                (std::uint64_t{1} << bit) + 1}) {
      const Bytes bytes = encoded(value);
      EXPECT_EQ(bytes.size(), varint::encoded_length(value)) << value;
      EXPECT_LE(bytes.size(), varint::kEncodedBytesMax);
      auto decoded = varint::decode(bytes);
      ASSERT_TRUE(decoded) << value;
      EXPECT_EQ(decoded->value, value);
      EXPECT_EQ(decoded->length, bytes.size());
    }
  }
}

TEST(Varint, EncodedLengthMatchesGroupsOfSevenBits) {
  EXPECT_EQ(varint::encoded_length(0), 1u);
  EXPECT_EQ(varint::encoded_length(127), 1u);
  EXPECT_EQ(varint::encoded_length(128), 2u);
  EXPECT_EQ(varint::encoded_length(16383), 2u);
  EXPECT_EQ(varint::encoded_length(16384), 3u);
  EXPECT_EQ(varint::encoded_length((std::uint64_t{1} << 63) - 1), 9u);
}

TEST(Varint, EncodeAppends) {
  Bytes out = {0xaa};
  varint::encode(300, out);
  EXPECT_EQ(to_hex(out), "aaac02");
}

TEST(Varint, EmptyInputIsTruncated) {
  auto decoded = varint::decode({});
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, varint::Errc::truncated);
}

TEST(Varint, InputEndingInsideIsTruncated) {
  for (const char* text : {"80", "ff", "8080", "ffffffffffffffff"}) {
    auto decoded = varint::decode(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, varint::Errc::truncated) << text;
    EXPECT_FALSE(decoded.error().detail.empty());
  }
}

TEST(Varint, MoreThanNineBytesIsOverlong) {
  for (const char* text : {"ffffffffffffffffff", "ffffffffffffffffff01", "808080808080808080",
                           "80808080808080808000"}) {
    auto decoded = varint::decode(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, varint::Errc::overlong) << text;
  }
}

TEST(Varint, TrailingZeroGroupIsNotMinimal) {
  for (const char* text : {"8000", "ff00", "808000", "ffffffffffffffff00"}) {
    auto decoded = varint::decode(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, varint::Errc::not_minimal) << text;
  }
}

TEST(Varint, ValueAboveTheSpecLimitTraps) {
  Bytes out;
  EXPECT_DEATH(varint::encode(std::uint64_t{1} << 63, out), "");
  EXPECT_DEATH(varint::encode(std::numeric_limits<std::uint64_t>::max(), out), "");
}

}  // namespace
}  // namespace taho
