#include "base/multihash.hpp"

#include <gtest/gtest.h>

namespace taho {
namespace {

using multihash::Code;
using multihash::Errc;

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

// sha2-256("foo") from the multihash spec's examples.
constexpr std::string_view kSha256OfFoo = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

TEST(Multihash, CreatesSpecExample) {
  auto hash = Multihash::create(Code::sha2_256, hex(kSha256OfFoo));
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_hex(hash->bytes()), "1220" + std::string(kSha256OfFoo));
  EXPECT_EQ(hash->code(), Code::sha2_256);
  EXPECT_EQ(to_hex(hash->digest()), kSha256OfFoo);
}

TEST(Multihash, DecodesWhatItEncodes) {
  for (const auto& [code, digest] : {std::pair{Code::identity, hex("")}, std::pair{Code::identity, hex("0801")},
                                     std::pair{Code::sha2_256, hex(kSha256OfFoo)},
                                     std::pair{Code::blake3, Bytes(32, 0xaf)}}) {
    auto made = Multihash::create(code, digest);
    ASSERT_TRUE(made);
    auto decoded = Multihash::from_bytes(made->bytes());
    ASSERT_TRUE(decoded) << decoded.error().detail;
    EXPECT_EQ(*decoded, *made);
    EXPECT_EQ(decoded->code(), code);
    EXPECT_EQ(Bytes(decoded->digest().begin(), decoded->digest().end()), digest);
  }
}

TEST(Multihash, Blake3ContentIdLayout) {
  auto hash = Multihash::create(Code::blake3, Bytes(32, 0x11));
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_hex(ByteView(hash->bytes()).first(2)), "1e20");
  EXPECT_EQ(hash->bytes().size(), 34u);
}

TEST(Multihash, IdentityLongerThan127UsesTwoByteLength) {
  auto hash = Multihash::create(Code::identity, Bytes(multihash::kDigestBytesMax, 7));
  ASSERT_TRUE(hash);
  EXPECT_EQ(to_hex(ByteView(hash->bytes()).first(3)), "008001");
  EXPECT_TRUE(Multihash::from_bytes(hash->bytes()));
}

TEST(Multihash, WrongDigestLengthsAreRefused) {
  EXPECT_EQ(Multihash::create(Code::sha2_256, Bytes(31)).error().code, Errc::bad_length);
  EXPECT_EQ(Multihash::create(Code::blake3, Bytes(64)).error().code, Errc::bad_length);
  EXPECT_EQ(Multihash::create(Code::identity, Bytes(multihash::kDigestBytesMax + 1)).error().code, Errc::bad_length);
  EXPECT_EQ(Multihash::from_bytes(hex("1201aa")).error().code, Errc::bad_length);
  EXPECT_EQ(Multihash::from_bytes(hex("00ff7f")).error().code, Errc::bad_length);  // 16383 > limit, no allocation
}

TEST(Multihash, UnknownCodesAreRefused) {
  EXPECT_EQ(Multihash::from_bytes(hex("1300")).error().code, Errc::unsupported_code);  // sha2-512
  EXPECT_EQ(Multihash::from_bytes(hex("a0e40220" + std::string(64, '0'))).error().code, Errc::unsupported_code);
  EXPECT_EQ(Multihash::create(static_cast<Code>(0x13), Bytes(64)).error().code, Errc::unsupported_code);
}

TEST(Multihash, TruncatedInputsAreErrors) {
  for (const char* text : {"", "12", "1220", "122000", "80"}) {
    auto decoded = Multihash::from_bytes(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::truncated) << text;
  }
}

TEST(Multihash, MalformedVarintsAreErrors) {
  EXPECT_EQ(Multihash::from_bytes(hex("8000")).error().code, Errc::bad_varint);    // code not minimal
  EXPECT_EQ(Multihash::from_bytes(hex("00810000")).error().code, Errc::bad_varint);  // length 1, padded
  EXPECT_EQ(Multihash::from_bytes(hex("ffffffffffffffffff01")).error().code, Errc::bad_varint);
}

TEST(Multihash, TrailingBytesAreRefused) {
  EXPECT_EQ(Multihash::from_bytes(hex("0001aabb")).error().code, Errc::trailing_bytes);
}

TEST(Multihash, OrdersByBytes) {
  auto a = *Multihash::create(Code::identity, hex("01"));
  auto b = *Multihash::create(Code::identity, hex("02"));
  EXPECT_LT(a, b);
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace taho
