#include "base/peer_id.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <unordered_set>

#include "base/cid.hpp"
#include "base/protobuf.hpp"

namespace taho {
namespace {

using public_key::Errc;

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

// Test vectors from libp2p/specs peer-ids/peer-ids.md ("Test vectors").
constexpr std::string_view kEd25519PublicKeyRaw = "1ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr std::string_view kEd25519PublicKey =
    "080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e";
constexpr std::string_view kSecp256k1PublicKey =
    "08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99";
constexpr std::string_view kEcdsaPublicKey =
    "0803125b3059301306072a8648ce3d020106082a8648ce3d03010703420004de3d300fa36ae0e8f5d530899d83abab44abf3161f162a4bc9"
    "01d8e6ecda020e8b6d5f8da30525e71d6851510c098e5c47c646a597fb4dcec034e9f77c409e62";
constexpr std::string_view kRsaPublicKey =
    "080012a60430820222300d06092a864886f70d01010105000382020f003082020a0282020100e1beab071d08200bde24eef00d049449b0"
    "7770ff9910257b2d7d5dda242ce8f0e2f12e1af4b32d9efd2c090f66b0f29986dbb645dae9880089704a94e5066d594162ae6ee8892e6e"
    "c70701db0a6c445c04778eb3de1293aa1a23c3825b85c6620a2bc3f82f9b0c309bc0ab3aeb1873282bebd3da03c33e76c21e9beb172fd4"
    "4c9e43be32e2c99827033cf8d0f0c606f4579326c930eb4e854395ad941256542c793902185153c474bed109d6ff5141ebf9cd256cf588"
    "93a37f83729f97e7cb435ec679d2e33901d27bb35aa0d7e20561da08885ef0abbf8e2fb48d6a5487047a9ecb1ad41fa7ed84f6e3e8ecd5"
    "d98b3982d2a901b4454991766da295ab78822add5612a2df83bcee814cf50973e80d7ef38111b1bd87da2ae92438a2c8cbcc70b31ee319"
    "939a3b9c761dbc13b5c086d6b64bf7ae7dacc14622375d92a8ff9af7eb962162bbddebf90acb32adb5e4e4029f1c96019949ecfbfeffd7"
    "ac1e3fbcc6b6168c34be3d5a2e5999fcbb39bba7adbca78eab09b9bc39f7fa4b93411f4cc175e70c0a083e96bfaefb04a9580b4753c173"
    "8a6a760ae1afd851a1a4bdad231cf56e9284d832483df215a46c1c21bdf0c6cfe951c18f1ee4078c79c13d63edb6e14feaeffabc90ad31"
    "7e4875fe648101b0864097e998f0ca3025ef9638cd2b0caecd3770ab54a1d9c6ca959b0f5dcbc90caeefc4135baca6fd475224269bbe1b"
    "0203010001";

// ---- PublicKey ----

TEST(PublicKey, EncodesEd25519SpecVectorByteForByte) {
  const Bytes raw = hex(kEd25519PublicKeyRaw);
  const auto key = PublicKey::ed25519(std::span<const std::uint8_t, 32>(raw.data(), 32));
  EXPECT_EQ(to_hex(key.encode()), kEd25519PublicKey);
}

TEST(PublicKey, DecodesEverySpecVectorAndReencodesIt) {
  struct Case {
    std::string_view hex;
    KeyType type;
    std::size_t data_bytes;
  };
  for (const Case& c : {Case{kEd25519PublicKey, KeyType::ed25519, 32}, Case{kSecp256k1PublicKey, KeyType::secp256k1, 33},
                        Case{kEcdsaPublicKey, KeyType::ecdsa, 91}, Case{kRsaPublicKey, KeyType::rsa, 550}}) {
    const Bytes encoded = hex(c.hex);
    auto key = PublicKey::decode(encoded);
    ASSERT_TRUE(key) << name(c.type) << ": " << key.error().detail;
    EXPECT_EQ(key->type, c.type);
    EXPECT_EQ(key->data.size(), c.data_bytes);
    EXPECT_EQ(key->encode(), encoded);
  }
}

PublicKeyError decode_error(const Bytes& encoded) {
  auto key = PublicKey::decode(encoded);
  EXPECT_FALSE(key) << to_hex(encoded);
  return key ? PublicKeyError{} : key.error();
}

Bytes ed25519_message(std::uint64_t type, std::size_t data_bytes) {
  pb::Writer writer;
  writer.varint(1, type);
  writer.bytes(2, Bytes(data_bytes, 0x42));
  return writer.take();
}

TEST(PublicKey, DecodingIsStrict) {
  const Bytes data(32, 0x42);
  // Fields reversed: valid protobuf, not the deterministic encoding.
  {
    pb::Writer writer;
    writer.bytes(2, data);
    writer.varint(1, 1);
    EXPECT_EQ(decode_error(writer.take()).code, Errc::non_canonical);
  }
  // Type as a padded varint.
  {
    Bytes padded = hex("088100");
    const Bytes rest = hex("1220");
    append(padded, rest);
    append(padded, data);
    EXPECT_EQ(decode_error(padded).code, Errc::non_canonical);
  }
  // Data length as a padded varint.
  {
    Bytes padded = hex("0801" "12a000");
    append(padded, data);
    EXPECT_EQ(decode_error(padded).code, Errc::non_canonical);
  }
  EXPECT_EQ(decode_error(hex("0801")).code, Errc::missing_field);
  EXPECT_EQ(decode_error(hex("1201aa")).code, Errc::missing_field);
  EXPECT_EQ(decode_error({}).code, Errc::missing_field);
  {
    Bytes repeated = ed25519_message(1, 32);
    const Bytes again = hex("0801");
    append(repeated, again);
    EXPECT_EQ(decode_error(repeated).code, Errc::unknown_field);
  }
  {
    Bytes extra = ed25519_message(1, 32);
    const Bytes field3 = hex("1800");
    append(extra, field3);
    EXPECT_EQ(decode_error(extra).code, Errc::unknown_field);
  }
  EXPECT_EQ(decode_error(ed25519_message(4, 32)).code, Errc::unknown_type);
  EXPECT_EQ(decode_error(ed25519_message(1ull << 40, 32)).code, Errc::unknown_type);
  EXPECT_EQ(decode_error(ed25519_message(1, 31)).code, Errc::bad_key);
  EXPECT_EQ(decode_error(ed25519_message(1, 33)).code, Errc::bad_key);
  EXPECT_EQ(decode_error(ed25519_message(0, 0)).code, Errc::bad_key);
  EXPECT_EQ(decode_error(hex("0a0101" "1201aa")).code, Errc::bad_wire_type);  // Type as bytes
  EXPECT_EQ(decode_error(hex("0801" "1001")).code, Errc::bad_wire_type);      // Data as varint
  EXPECT_EQ(decode_error(hex("08011220aabb")).code, Errc::bad_protobuf);     // truncated
  EXPECT_EQ(decode_error(hex("0b")).code, Errc::bad_protobuf);               // group
  EXPECT_EQ(decode_error(Bytes(public_key::kEncodedBytesMax + 1, 0)).code, Errc::too_long);
}

// ---- PeerId ----

TEST(PeerId, Ed25519SpecVectorIsAnIdentityMultihash) {
  const Bytes raw = hex(kEd25519PublicKeyRaw);
  const PeerId id = PeerId::from_ed25519(std::span<const std::uint8_t, 32>(raw.data(), 32));
  EXPECT_EQ(to_hex(id.bytes()), "0024" + std::string(kEd25519PublicKey));
  EXPECT_EQ(id.multihash().code(), multihash::Code::identity);
  // The text other implementations print for this key (e.g. from
  // rust-libp2p's keypair_protobuf_roundtrip_ed25519 vector).
  EXPECT_EQ(id.to_string(), "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  EXPECT_EQ(*PeerId::from_public_key(*PublicKey::decode(hex(kEd25519PublicKey))), id);
  ASSERT_TRUE(id.public_key());
  EXPECT_EQ(to_hex(id.public_key()->encode()), kEd25519PublicKey);
}

TEST(PeerId, Secp256k1SpecVectorFitsInline) {
  auto id = PeerId::from_public_key(*PublicKey::decode(hex(kSecp256k1PublicKey)));
  ASSERT_TRUE(id) << id.error().detail;
  EXPECT_EQ(to_hex(id->bytes()), "0025" + std::string(kSecp256k1PublicKey));
  EXPECT_TRUE(id->to_string().starts_with("16Uiu2"));  // the familiar secp256k1 prefix
  EXPECT_EQ(*PeerId::parse(id->to_string()), *id);
}

TEST(PeerId, LongKeysAreHashedWithTheGivenSha256) {
  const PublicKey key = *PublicKey::decode(hex(kEcdsaPublicKey));
  EXPECT_EQ(PeerId::from_public_key(key).error().code, peer_id::Errc::unsupported_hash);

  Bytes hashed_input;
  const auto fake_sha256 = [&hashed_input](ByteView data) {
    hashed_input.assign(data.begin(), data.end());
    peer_id::Sha256Digest digest{};
    for (std::size_t i = 0; i < digest.size(); ++i) digest[i] = static_cast<std::uint8_t>(i);
    return digest;
  };
  auto id = PeerId::from_public_key(key, fake_sha256);
  ASSERT_TRUE(id);
  EXPECT_EQ(to_hex(hashed_input), kEcdsaPublicKey);
  EXPECT_EQ(to_hex(id->bytes()), "1220000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  EXPECT_TRUE(id->to_string().starts_with("Qm"));
  EXPECT_FALSE(id->public_key());

  // Short keys never reach the hash function.
  hashed_input.clear();
  auto inline_id = PeerId::from_public_key(*PublicKey::decode(hex(kEd25519PublicKey)), fake_sha256);
  ASSERT_TRUE(inline_id);
  EXPECT_TRUE(hashed_input.empty());
  EXPECT_EQ(inline_id->multihash().code(), multihash::Code::identity);
}

TEST(PeerId, InvalidKeysMakeNoPeerId) {
  const PublicKey short_ed25519{KeyType::ed25519, Bytes(5, 1)};
  EXPECT_EQ(PeerId::from_public_key(short_ed25519).error().code, peer_id::Errc::bad_public_key);
  const auto never = [](ByteView) -> peer_id::Sha256Digest { return {}; };
  EXPECT_EQ(PeerId::from_public_key(PublicKey{KeyType::rsa, {}}, never).error().code, peer_id::Errc::bad_public_key);
}

// The spec's text examples.
TEST(PeerId, ParsesSpecTextExamples) {
  auto ed = PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  ASSERT_TRUE(ed) << ed.error().detail;
  EXPECT_EQ(ed->multihash().code(), multihash::Code::identity);
  ASSERT_TRUE(ed->public_key());
  EXPECT_EQ(ed->public_key()->type, KeyType::ed25519);
  EXPECT_EQ(ed->to_string(), "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");

  auto legacy = PeerId::parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  ASSERT_TRUE(legacy) << legacy.error().detail;
  EXPECT_EQ(legacy->multihash().code(), multihash::Code::sha2_256);
  EXPECT_EQ(legacy->to_string(), "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");

  auto as_cid = PeerId::parse("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  ASSERT_TRUE(as_cid) << as_cid.error().detail;
  EXPECT_EQ(as_cid->to_cid_string(), "bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe");
  EXPECT_EQ(as_cid->multihash().code(), multihash::Code::sha2_256);
}

TEST(PeerId, CidFormRoundTripsInEveryBase) {
  const PeerId id = *PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  EXPECT_TRUE(id.to_cid_string().starts_with("bafzaa"));  // libp2p-key + identity in base32
  for (auto base : {multibase::Base::base16, multibase::Base::base32, multibase::Base::base58btc,
                    multibase::Base::base64url}) {
    const std::string text = id.to_cid_string(base);
    auto parsed = PeerId::parse(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().detail;
    EXPECT_EQ(*parsed, id);
  }
}

TEST(PeerId, BytesRoundTrip) {
  const PeerId id = *PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  auto again = PeerId::from_bytes(id.bytes());
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, id);
}

TEST(PeerId, TextErrorsAreValues) {
  using peer_id::Errc;
  EXPECT_EQ(PeerId::parse("").error().code, Errc::empty);
  EXPECT_EQ(PeerId::parse("hello").error().code, Errc::bad_text);
  EXPECT_EQ(PeerId::parse("12D3KooW0000").error().code, Errc::bad_text);  // '0' is not base58
  // An Ed25519 id with its last byte cut off (still "1..." text).
  Bytes cut = PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")->bytes();
  cut.pop_back();
  EXPECT_EQ(PeerId::parse(multibase::encode_bare(multibase::Base::base58btc, cut)).error().code, Errc::bad_multihash);
  EXPECT_EQ(PeerId::parse("1").error().code, Errc::bad_multihash);
  // A CID with the wrong codec: the spec's CIDv1 dag-pb example.
  EXPECT_EQ(PeerId::parse("bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku").error().code,
            Errc::wrong_codec);
  EXPECT_EQ(PeerId::parse("bafz").error().code, Errc::bad_cid);
  EXPECT_EQ(PeerId::parse("b!!!").error().code, Errc::bad_cid);
  // blake3 multihash in a libp2p-key CID.
  const Cid blake3_key = Cid::v1(cid::Codec::libp2p_key, *Multihash::create(multihash::Code::blake3, Bytes(32)));
  EXPECT_EQ(PeerId::parse(blake3_key.to_string()).error().code, Errc::unsupported_hash);
}

TEST(PeerId, ByteErrorsAreValues) {
  using peer_id::Errc;
  EXPECT_EQ(PeerId::from_bytes({}).error().code, Errc::empty);
  EXPECT_EQ(PeerId::from_bytes(hex("1e20" + std::string(64, '0'))).error().code, Errc::unsupported_hash);
  EXPECT_EQ(PeerId::from_bytes(hex("1300")).error().code, Errc::unsupported_hash);
  EXPECT_EQ(PeerId::from_bytes(hex("1220aa")).error().code, Errc::bad_multihash);
  EXPECT_EQ(PeerId::from_bytes(hex("0002aabb")).error().code, Errc::bad_public_key);
  // An identity multihash above 42 bytes would be a hashed key.
  Bytes long_identity = hex("002b");
  long_identity.resize(2 + 43, 0);
  EXPECT_EQ(PeerId::from_bytes(long_identity).error().code, Errc::bad_public_key);
  // Inline key that is not canonical.
  EXPECT_EQ(PeerId::from_bytes(hex("0006" "12000801" "1800")).error().code, Errc::bad_public_key);
}

TEST(PeerId, WorksAsMapAndSetKey) {
  const PeerId a = *PeerId::parse("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA");
  const PeerId b = *PeerId::parse("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N");
  const PeerId a_again = *PeerId::from_bytes(a.bytes());
  std::set<PeerId> ordered{a, b, a_again};
  EXPECT_EQ(ordered.size(), 2u);
  std::unordered_set<PeerId> hashed{a, b, a_again};
  EXPECT_EQ(hashed.size(), 2u);
  EXPECT_EQ(std::hash<PeerId>{}(a), std::hash<PeerId>{}(a_again));
  EXPECT_TRUE(a < b || b < a);
  std::map<PeerId, int> scores;
  scores[a] = 1;
  EXPECT_EQ(scores.at(a_again), 1);
}

}  // namespace
}  // namespace taho
