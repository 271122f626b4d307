#include "base/cid.hpp"

#include <gtest/gtest.h>

namespace taho {
namespace {

using cid::Codec;
using cid::Errc;

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

// The CID spec's example: the same sha2-256 dag-pb content as CIDv0 and CIDv1.
constexpr std::string_view kV0Text = "QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n";
constexpr std::string_view kV1Text = "bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

TEST(Cid, ParsesSpecV0) {
  auto cid = Cid::parse(kV0Text);
  ASSERT_TRUE(cid) << cid.error().detail;
  EXPECT_EQ(cid->version(), 0);
  EXPECT_EQ(cid->codec(), Codec::dag_pb);
  EXPECT_EQ(cid->hash().code(), multihash::Code::sha2_256);
  EXPECT_EQ(cid->to_string(), kV0Text);
  EXPECT_EQ(cid->bytes(), cid->hash().bytes());
}

TEST(Cid, ParsesSpecV1AndMatchesV0Hash) {
  auto v1 = Cid::parse(kV1Text);
  ASSERT_TRUE(v1) << v1.error().detail;
  EXPECT_EQ(v1->version(), 1);
  EXPECT_EQ(v1->codec(), Codec::dag_pb);
  EXPECT_EQ(v1->to_string(), kV1Text);
  auto v0 = Cid::parse(kV0Text);
  ASSERT_TRUE(v0);
  EXPECT_EQ(v1->hash(), v0->hash());
  EXPECT_NE(*v1, *v0);
  EXPECT_EQ(to_hex(ByteView(v1->bytes()).first(4)), "01701220");
}

TEST(Cid, RawBlake3ContentIdRoundTripsInEveryBase) {
  const Multihash hash = *Multihash::create(multihash::Code::blake3, hex(std::string(64, 'a')));
  const Cid cid = Cid::v1(Codec::raw, hash);
  EXPECT_EQ(to_hex(ByteView(cid.bytes()).first(4)), "01551e20");
  EXPECT_TRUE(cid.to_string().starts_with("bafkr4i"));  // raw + blake3 in base32
  for (auto base : {multibase::Base::base16, multibase::Base::base32, multibase::Base::base58btc,
                    multibase::Base::base64url}) {
    const std::string text = cid.to_string(base);
    auto parsed = Cid::parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().detail;
    EXPECT_EQ(*parsed, cid);
    auto from_binary = Cid::from_bytes(cid.bytes());
    ASSERT_TRUE(from_binary);
    EXPECT_EQ(*from_binary, cid);
  }
}

TEST(Cid, V0RequiresSha256) {
  EXPECT_EQ(Cid::v0(*Multihash::create(multihash::Code::identity, hex("00"))).error().code,
            Errc::unsupported_version);
  EXPECT_TRUE(Cid::v0(*Multihash::create(multihash::Code::sha2_256, Bytes(32))));
}

TEST(Cid, ErrorsAreValues) {
  EXPECT_EQ(Cid::parse("").error().code, Errc::empty);
  EXPECT_EQ(Cid::from_bytes({}).error().code, Errc::empty);
  EXPECT_EQ(Cid::parse("!abc").error().code, Errc::bad_multibase);
  EXPECT_EQ(Cid::parse("Qm" + std::string(44, '0')).error().code, Errc::bad_multibase);
  EXPECT_EQ(Cid::from_bytes(hex("025512")).error().code, Errc::unsupported_version);
  EXPECT_EQ(Cid::from_bytes(hex("0171" "1220" + std::string(64, '0'))).error().code, Errc::unsupported_codec);
  EXPECT_EQ(Cid::from_bytes(hex("0155")).error().code, Errc::bad_multihash);
  EXPECT_EQ(Cid::from_bytes(hex("01551220aa")).error().code, Errc::bad_multihash);
  EXPECT_EQ(Cid::from_bytes(hex("01")).error().code, Errc::bad_varint);
  EXPECT_EQ(Cid::from_bytes(hex("8100")).error().code, Errc::bad_varint);
  // A binary CIDv0 wrapped in multibase is not a CID text.
  const std::string wrapped_v0 = multibase::encode(multibase::Base::base32, Cid::parse(kV0Text)->bytes());
  EXPECT_EQ(Cid::parse(wrapped_v0).error().code, Errc::unsupported_version);
}

}  // namespace
}  // namespace taho
