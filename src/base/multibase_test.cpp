#include "base/multibase.hpp"

#include <gtest/gtest.h>

#include <random>

namespace taho {
namespace {

using multibase::Base;
using multibase::Errc;

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

constexpr Base kAllBases[] = {Base::base16, Base::base32, Base::base58btc, Base::base64url};

// The multibase spec's running example, "yes mani !".
TEST(Multibase, EncodesSpecExample) {
  const ByteView data = as_bytes("yes mani !");
  EXPECT_EQ(multibase::encode(Base::base16, data), "f796573206d616e692021");
  EXPECT_EQ(multibase::encode(Base::base32, data), "bpfsxgidnmfxgsibb");
  EXPECT_EQ(multibase::encode(Base::base58btc, data), "z7paNL19xttacUY");
  EXPECT_EQ(multibase::encode(Base::base64url, data), "ueWVzIG1hbmkgIQ");
}

TEST(Multibase, DecodesSpecExample) {
  for (const char* text : {"f796573206d616e692021", "bpfsxgidnmfxgsibb", "z7paNL19xttacUY", "ueWVzIG1hbmkgIQ"}) {
    auto decoded = multibase::decode(text);
    ASSERT_TRUE(decoded) << text << ": " << decoded.error().detail;
    EXPECT_EQ(as_text(*decoded), "yes mani !") << text;
  }
}

// The multibase spec's leading-zero cases for base58btc.
TEST(Multibase, Base58KeepsLeadingZeros) {
  EXPECT_EQ(multibase::encode(Base::base58btc, as_bytes(std::string_view("\0yes mani !", 11))), "z17paNL19xttacUY");
  EXPECT_EQ(multibase::encode(Base::base58btc, as_bytes(std::string_view("\0\0yes mani !", 12))), "z117paNL19xttacUY");
  EXPECT_EQ(to_hex(*multibase::decode("z117paNL19xttacUY")), "0000" + to_hex(as_bytes("yes mani !")));
}

// Bitcoin's base58 vectors.
TEST(Multibase, Base58BitcoinVectors) {
  struct Case {
    const char* hex;
    const char* text;
  };
  for (const Case& c : {Case{"", ""}, Case{"61", "2g"}, Case{"626262", "a3gV"}, Case{"636363", "aPEr"},
                        Case{"516b6fcd0f", "ABnLTmg"}, Case{"bf4f89001e670274dd", "3SEo3LWLoPntC"},
                        Case{"572e4794", "3EFU7m"}, Case{"ecac89cad93923c02321", "EJDM8drfXA6uyA"},
                        Case{"10c8511e", "Rt5zm"}, Case{"00000000000000000000", "1111111111"},
                        Case{"00eb15231dfceb60925886b67d065299925915aeb172c06647", "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"}}) {
    EXPECT_EQ(multibase::encode_bare(Base::base58btc, hex(c.hex)), c.text) << c.hex;
    auto decoded = multibase::decode_bare(Base::base58btc, c.text);
    ASSERT_TRUE(decoded) << c.text;
    EXPECT_EQ(to_hex(*decoded), c.hex);
  }
}

// RFC 4648 §10 vectors (lowercase, unpadded).
TEST(Multibase, Rfc4648Vectors) {
  const std::pair<const char*, const char*> base32[] = {
      {"", ""}, {"f", "my"}, {"fo", "mzxq"}, {"foo", "mzxw6"}, {"foob", "mzxw6yq"}, {"fooba", "mzxw6ytb"},
      {"foobar", "mzxw6ytboi"}};
  for (const auto& [plain, text] : base32) {
    EXPECT_EQ(multibase::encode_bare(Base::base32, as_bytes(plain)), text);
    EXPECT_EQ(as_text(*multibase::decode_bare(Base::base32, text)), plain);
  }
  const std::pair<const char*, const char*> base64[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, text] : base64) {
    EXPECT_EQ(multibase::encode_bare(Base::base64url, as_bytes(plain)), text);
    EXPECT_EQ(as_text(*multibase::decode_bare(Base::base64url, text)), plain);
  }
}

TEST(Multibase, Base64UrlUsesUrlSafeAlphabet) {
  EXPECT_EQ(multibase::encode(Base::base64url, hex("fbff")), "u-_8");
  EXPECT_EQ(to_hex(*multibase::decode("u-_8")), "fbff");
  EXPECT_EQ(multibase::decode("u+/8").error().code, Errc::bad_character);
}

TEST(Multibase, RoundTripsRandomBytesInEveryBase) {
  std::mt19937 rng(7);
  for (int round = 0; round < 300; ++round) {
    Bytes data(static_cast<std::size_t>(rng() % 70));
    for (auto& b : data) b = static_cast<std::uint8_t>(rng());
    if (round % 5 == 0 && !data.empty()) data[0] = 0;  // exercise leading zeros
    for (Base base : kAllBases) {
      const std::string text = multibase::encode(base, data);
      EXPECT_EQ(text.front(), static_cast<char>(base));
      auto decoded = multibase::decode(text);
      ASSERT_TRUE(decoded) << text << ": " << decoded.error().detail;
      EXPECT_EQ(*decoded, data) << text;
    }
  }
}

TEST(Multibase, EmptyTextIsAnError) { EXPECT_EQ(multibase::decode("").error().code, Errc::empty); }

TEST(Multibase, PrefixAloneIsEmptyData) {
  for (const char* text : {"f", "b", "z", "u"}) {
    auto decoded = multibase::decode(text);
    ASSERT_TRUE(decoded) << text;
    EXPECT_TRUE(decoded->empty());
  }
}

TEST(Multibase, UnknownPrefixesAreErrors) {
  for (const char* text : {"Qmabc", "Bpfsx", "F796573", "m", "0", "\x01" "ab"}) {
    auto decoded = multibase::decode(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::unknown_prefix) << text;
  }
  EXPECT_FALSE(multibase::base_from_prefix('Z'));
  EXPECT_EQ(multibase::base_from_prefix('z'), Base::base58btc);
}

TEST(Multibase, CharactersOutsideTheAlphabetAreErrors) {
  for (const char* text : {"z0abc", "zOabc", "zIabc", "zlabc", "bpfsx1", "bPFSX", "f79G5", "fAB", "u==", "ueW=", "z7pa L"}) {
    auto decoded = multibase::decode(text);
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::bad_character) << text;
    EXPECT_NE(decoded.error().detail.find("position"), std::string::npos) << decoded.error().detail;
  }
}

TEST(Multibase, ImpossibleLengthsAreErrors) {
  // Odd hex; base32 of 1, 3 or 6 (mod 8) characters; base64 of 1 (mod 4).
  for (const char* text : {"fa", "f796", "ba", "bmzx", "bmzxw6y", "bmzxw6ytbo", "uZ", "uZm9vY"}) {
    SCOPED_TRACE(text);
    auto decoded = multibase::decode(text);
    ASSERT_FALSE(decoded);
    EXPECT_EQ(decoded.error().code, Errc::bad_length);
  }
}

TEST(Multibase, NonZeroTrailingBitsAreNonCanonical) {
  // "my" is "f"; "mz" sets a bit that no byte uses.
  EXPECT_TRUE(multibase::decode("bmy"));
  EXPECT_EQ(multibase::decode("bmz").error().code, Errc::non_canonical);
  // "Zg" is "f"; "Zh" sets an unused bit.
  EXPECT_TRUE(multibase::decode("uZg"));
  EXPECT_EQ(multibase::decode("uZh").error().code, Errc::non_canonical);
}

TEST(Multibase, OverlongBase58IsRefused) {
  const std::string text(multibase::kBase58TextCharsMax + 1, '2');
  EXPECT_EQ(multibase::decode_bare(Base::base58btc, text).error().code, Errc::too_long);
  const std::string at_limit(multibase::kBase58TextCharsMax, '2');
  EXPECT_TRUE(multibase::decode_bare(Base::base58btc, at_limit));
}

}  // namespace
}  // namespace taho
