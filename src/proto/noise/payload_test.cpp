#include "proto/noise/payload.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "base/protobuf.hpp"

namespace taho::noise {
namespace {

Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes));
  return bytes;
}

// peer-ids spec, "Test vectors": the Ed25519 private key's seed and the
// PublicKey encoding of its public key.
TEST(IdentityKey, PeerIdsSpecEd25519Vector) {
  const Bytes seed_bytes = hex("7e0830617c4a7de83925dfb2694556b12936c477a0e1feb2e148ec9da60fee7d");
  crypto::Ed25519Seed seed{};
  std::copy(seed_bytes.begin(), seed_bytes.end(), seed.begin());
  const auto pair = crypto::Ed25519KeyPair::from_seed(seed);
  ASSERT_TRUE(pair);
  const auto decoded =
      decode_ed25519_identity(hex("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e"));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, pair->public_key());
}

TEST(IdentityKey, OtherKeyTypesAreUnsupported) {
  // peer-ids spec: the secp256k1 public key vector.
  const auto secp256k1 =
      decode_ed25519_identity(hex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99"));
  ASSERT_FALSE(secp256k1);
  EXPECT_EQ(secp256k1.error().code, Errc::unsupported_key_type);
  const auto unknown = decode_ed25519_identity(hex("08091201ff"));  // KeyType 9
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::unsupported_key_type);
}

TEST(IdentityKey, MalformedKeysAreBadPayloads) {
  const std::string_view cases[] = {
      "",                                                                      // nothing
      "0801",                                                                  // no data
      "12201111111111111111111111111111111111111111111111111111111111111111",  // no type
      "0801121f11111111111111111111111111111111111111111111111111111111111111",  // 31-byte key
      "08011220",                                                              // data runs past the end
      "0a01",                                                                  // type as bytes, truncated
      "080115",                                                                // data as fixed32, truncated
  };
  for (const std::string_view text : cases) {
    const auto decoded = decode_ed25519_identity(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::bad_payload) << text;
  }
}

TEST(HandshakePayload, EncodesFieldsInSpecOrder) {
  HandshakePayload payload;
  payload.identity_key = hex("0801");
  payload.identity_sig = hex("aabb");
  payload.has_extensions = true;
  payload.extensions.webtransport_certhashes = {hex("1220ff")};
  payload.extensions.stream_muxers = {"/yamux/1.0.0"};
  // 0a 02 0801 | 12 02 aabb | 22 13 { 0a 03 1220ff | 12 0c "/yamux/1.0.0" }
  EXPECT_EQ(to_hex(encode_payload(payload)),
            "0a020801" "1202aabb" "2213" "0a031220ff" "120c2f79616d75782f312e302e30");
  const auto decoded = decode_payload(encode_payload(payload));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->identity_key, payload.identity_key);
  EXPECT_EQ(decoded->identity_sig, payload.identity_sig);
  EXPECT_TRUE(decoded->has_extensions);
  EXPECT_EQ(decoded->extensions, payload.extensions);
}

TEST(HandshakePayload, WithoutExtensionsThereIsNoField4) {
  HandshakePayload payload;
  payload.identity_key = hex("01");
  payload.identity_sig = hex("02");
  EXPECT_EQ(to_hex(encode_payload(payload)), "0a0101120102");
  const auto decoded = decode_payload(encode_payload(payload));
  ASSERT_TRUE(decoded);
  EXPECT_FALSE(decoded->has_extensions);
}

TEST(HandshakePayload, UnknownFieldsAreSkippedAndExtensionsMerge) {
  pb::Writer first_extensions, second_extensions;
  first_extensions.string(2, "/yamux/1.0.0");
  first_extensions.varint(9, 7);  // unknown
  second_extensions.string(2, "/mplex/6.7.0");
  pb::Writer writer;
  writer.bytes(1, hex("0801"));
  writer.varint(3, 1);  // the removed early-data field of older revisions
  writer.bytes(4, first_extensions.data());
  writer.fixed64(15, 0);
  writer.bytes(2, hex("ee"));
  writer.bytes(4, second_extensions.data());
  const auto decoded = decode_payload(writer.data());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->identity_key, hex("0801"));
  EXPECT_EQ(decoded->identity_sig, hex("ee"));
  EXPECT_EQ(decoded->extensions.stream_muxers, (std::vector<std::string>{"/yamux/1.0.0", "/mplex/6.7.0"}));
}

TEST(HandshakePayload, MalformedPayloadsAreRejected) {
  const std::string_view cases[] = {
      "0a05aa",      // identity_key runs past the end
      "0801",        // identity_key as a varint
      "1005",        // identity_sig as a varint
      "2001",        // extensions as a varint
      "22020801",    // extensions containing a varint certhash field
      "2202",        // extensions truncated
      "0b",          // a group (wire type 3)
      "ffffffffffffffffffffff",  // overlong varint tag
  };
  for (const std::string_view text : cases) {
    const auto decoded = decode_payload(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_EQ(decoded.error().code, Errc::bad_payload) << text;
  }
}

TEST(HandshakePayload, ExtensionEntriesAreBounded) {
  pb::Writer extensions;
  for (std::size_t i = 0; i < extension_entries_max; ++i) extensions.string(2, "m");
  pb::Writer at_limit;
  at_limit.bytes(4, extensions.data());
  EXPECT_TRUE(decode_payload(at_limit.data()));
  extensions.string(2, "m");
  pb::Writer over_limit;
  over_limit.bytes(4, extensions.data());
  const auto decoded = decode_payload(over_limit.data());
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::bad_payload);
}

TEST(HandshakePayload, SignatureMessageIsPrefixAndKey) {
  crypto::X25519PublicKey key{};
  key.fill(0x11);
  EXPECT_EQ(to_hex(static_key_signature_message(key)),
            to_hex(to_bytes("noise-libp2p-static-key:")) + std::string(64, '1'));
}

}  // namespace
}  // namespace taho::noise
