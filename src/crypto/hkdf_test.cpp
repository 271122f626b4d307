#include "crypto/hkdf.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace taho::crypto {
namespace {

Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes));
  return bytes;
}

Bytes range(std::uint8_t first, std::size_t count) {
  Bytes bytes(count);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

// RFC 4231 §4.2, §4.3 and §4.7 (HMAC-SHA-256 column).
TEST(HmacSha256, Rfc4231) {
  OpenSslCryptoSuite suite;
  EXPECT_EQ(to_hex(hmac_sha256(suite, Bytes(20, 0x0b), to_bytes("Hi There"))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(to_hex(hmac_sha256(suite, to_bytes("Jefe"), to_bytes("what do ya want for nothing?"))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // A key longer than the block size is hashed first.
  EXPECT_EQ(to_hex(hmac_sha256(suite, Bytes(131, 0xaa),
                               to_bytes("Test Using Larger Than Block-Size Key - Hash Key First"))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(HmacSha256, MessagePartsAreConcatenated) {
  OpenSslCryptoSuite suite;
  const Bytes hi = to_bytes("Hi "), there = to_bytes("There");
  const std::array<ByteView, 3> parts{ByteView(hi), ByteView{}, ByteView(there)};
  EXPECT_EQ(hmac_sha256(suite, Bytes(20, 0x0b), parts), hmac_sha256(suite, Bytes(20, 0x0b), to_bytes("Hi There")));
}

// RFC 5869 A.1.
TEST(HkdfSha256, Rfc5869CaseOne) {
  OpenSslCryptoSuite suite;
  const auto okm = hkdf_sha256(suite, range(0x00, 13), Bytes(22, 0x0b), range(0xf0, 10), 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_hex(*okm), "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
}

// RFC 5869 A.3: no salt, no info.
TEST(HkdfSha256, Rfc5869CaseThree) {
  OpenSslCryptoSuite suite;
  const auto okm = hkdf_sha256(suite, {}, Bytes(22, 0x0b), {}, 42);
  ASSERT_TRUE(okm);
  EXPECT_EQ(to_hex(*okm), "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
}

TEST(HkdfSha256, OutputLengthIsBounded) {
  OpenSslCryptoSuite suite;
  EXPECT_TRUE(hkdf_sha256(suite, {}, Bytes(22, 0x0b), {}, kHkdfOutputBytesMax));
  EXPECT_FALSE(hkdf_sha256(suite, {}, Bytes(22, 0x0b), {}, kHkdfOutputBytesMax + 1));
}

// Noise's HKDF is RFC 5869 with salt = chaining key and empty info; RFC 5869
// A.3 (empty salt = 32 zero bytes) therefore fixes its first 42 bytes.
TEST(NoiseHkdf, AgreesWithRfc5869CaseThree) {
  OpenSslCryptoSuite suite;
  const Bytes zero_chaining_key(32, 0);
  const auto two = noise_hkdf2(suite, zero_chaining_key, Bytes(22, 0x0b));
  const auto three = noise_hkdf3(suite, zero_chaining_key, Bytes(22, 0x0b));
  const Bytes expected = hex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
  EXPECT_EQ(to_hex(two[0]), to_hex(ByteView(expected).first(32)));
  EXPECT_EQ(to_hex(ByteView(two[1]).first(10)), to_hex(ByteView(expected).subspan(32)));
  EXPECT_EQ(three[0], two[0]);
  EXPECT_EQ(three[1], two[1]);
  const auto long_okm = hkdf_sha256(suite, zero_chaining_key, Bytes(22, 0x0b), {}, 96);
  ASSERT_TRUE(long_okm);
  EXPECT_EQ(to_hex(three[2]), to_hex(ByteView(*long_okm).subspan(64)));
}

}  // namespace
}  // namespace taho::crypto
