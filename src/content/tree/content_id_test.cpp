#include "content/tree/content_id.hpp"

#include <gtest/gtest.h>

namespace taho::content {
namespace {

// BLAKE3 of the empty input (b3sum /dev/null).
constexpr std::string_view kEmptyHex = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";

TEST(ContentId, RoundTripsTextForm) {
  const ContentId id(crypto::blake3::hash({}));
  EXPECT_EQ(id.to_string(), "ca_blake3_" + std::string(kEmptyHex));
  EXPECT_EQ(id.hex(), kEmptyHex);
  auto parsed = ContentId::parse(id.to_string());
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(*parsed, id);
}

TEST(ContentId, CidFormIsRawBlake3) {
  const ContentId id(crypto::blake3::hash({}));
  const Bytes bytes = id.to_cid().bytes();
  ASSERT_EQ(bytes.size(), 36u);
  EXPECT_EQ(bytes[0], 0x01);  // CIDv1
  EXPECT_EQ(bytes[1], 0x55);  // raw
  EXPECT_EQ(bytes[2], 0x1e);  // blake3
  EXPECT_EQ(bytes[3], 0x20);  // 32-byte digest
  EXPECT_EQ(to_hex(ByteView(bytes).subspan(4)), kEmptyHex);
  const std::string text = id.to_cid_string();
  EXPECT_EQ(text.substr(0, 7), "bafkr4i");  // base32 of 01 55 1e 20 ...
  auto parsed = ContentId::parse(text);
  ASSERT_TRUE(parsed) << parsed.error().detail;
  EXPECT_EQ(*parsed, id);
}

TEST(ContentId, RefusesBadText) {
  const std::string good = "ca_blake3_" + std::string(kEmptyHex);
  struct Case {
    std::string text;
    IdErrc code;
  };
  const Case cases[] = {
      {"", IdErrc::bad_prefix},
      {"blake3_" + std::string(kEmptyHex), IdErrc::bad_prefix},
      {std::string(kEmptyHex), IdErrc::bad_prefix},
      {"ca_blake3_", IdErrc::bad_length},
      {good.substr(0, good.size() - 1), IdErrc::bad_length},
      {good + "0", IdErrc::bad_length},
      {"ca_blake3_" + std::string(63, 'a') + "g", IdErrc::bad_hex},
      {"ca_blake3_AF1349B9F5F9A1A6A0404DEA36DCC9499BCB25C9ADC112B7CC9A93CAE41F3262", IdErrc::bad_hex},
  };
  for (const auto& c : cases) {
    auto parsed = ContentId::parse(c.text);
    ASSERT_FALSE(parsed) << c.text;
    EXPECT_EQ(parsed.error().code, c.code) << c.text;
    EXPECT_FALSE(parsed.error().detail.empty());
  }
}

TEST(ContentId, RefusesCidsOfOtherContent) {
  const ContentId id(crypto::blake3::hash({}));
  // Same digest under codec dag-pb, and a sha2-256 multihash.
  const auto dag = Cid::v1(cid::Codec::dag_pb, id.to_cid().hash());
  EXPECT_EQ(ContentId::parse(dag.to_string()).error().code, IdErrc::wrong_codec);
  auto sha = Multihash::create(multihash::Code::sha2_256, id.hash());
  ASSERT_TRUE(sha);
  EXPECT_EQ(ContentId::from_cid(Cid::v1(cid::Codec::raw, *sha)).error().code, IdErrc::wrong_hash);
}

}  // namespace
}  // namespace taho::content
