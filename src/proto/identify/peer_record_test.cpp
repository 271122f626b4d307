#include "proto/identify/peer_record.hpp"

#include <gtest/gtest.h>

#include "base/protobuf.hpp"
#include "proto/identify/envelope.hpp"
#include "proto/identify/test_support.hpp"

namespace taho::identify {
namespace {

using testing::address;
using testing::hex;
using testing::key_from_fill;

// Made by js-libp2p 3.3.11 (@libp2p/peer-record 9.0.16): RecordEnvelope.seal
// of a PeerRecord {seq 1700000000000, /ip4/127.0.0.1/tcp/4001,
// /ip4/127.0.0.1/tcp/4002/ws} with the Ed25519 key whose seed is 32 × 0x07.
constexpr std::string_view kJsEnvelopeHex =
    "0a2408011220ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c120203011a490a260024080112"
    "20ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c1080d095ffbc311a0a0a08047f000001060f"
    "a11a0c0a0a047f000001060fa2dd032a40304cf4d040afc20751aa6ff558d21901a18530196915056a995cfc037f3dcf771fb6"
    "ef6d85042ce5f53bb98b06f530c33dcba2f8490ffb66c0cbb84e31e0e104";
constexpr std::string_view kJsPeerId = "12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7";
constexpr std::uint64_t kJsSeq = 1700000000000;

std::vector<Multiaddr> js_addresses() {
  return {address("/ip4/127.0.0.1/tcp/4001"), address("/ip4/127.0.0.1/tcp/4002/ws")};
}

TEST(PeerRecord, OpensARecordSignedByJsLibp2p) {
  const auto record = open_peer_record(hex(kJsEnvelopeHex));
  ASSERT_TRUE(record) << record.error().detail;
  EXPECT_EQ(record->peer_id.to_string(), kJsPeerId);
  EXPECT_EQ(record->seq, kJsSeq);
  EXPECT_EQ(record->addresses, js_addresses());
  EXPECT_EQ(record->unreadable_addresses, 0u);
}

TEST(PeerRecord, SealsTheSameBytesAsJsLibp2p) {
  // Ed25519 signatures are deterministic, so the same key and record give
  // the same envelope byte for byte.
  const auto addresses = js_addresses();
  EXPECT_EQ(to_hex(seal_peer_record(key_from_fill(0x07), kJsSeq, addresses)), kJsEnvelopeHex);
}

TEST(PeerRecord, RoundTripsOurOwnRecord) {
  const auto key = key_from_fill(0x42);
  const std::vector<Multiaddr> addresses = {address("/ip6/::1/tcp/4001"), address("/ip4/10.0.0.1/udp/4001/quic-v1")};
  const auto record = open_peer_record(seal_peer_record(key, 7, addresses));
  ASSERT_TRUE(record) << record.error().detail;
  EXPECT_EQ(record->peer_id, PeerId::from_ed25519(key.public_key()));
  EXPECT_EQ(record->seq, 7u);
  EXPECT_EQ(record->addresses, addresses);
}

TEST(Envelope, SignedDataIsDomainTypeAndPayloadEachLengthPrefixed) {
  EXPECT_EQ(to_hex(envelope_signed_data(peer_record_domain, peer_record_payload_type, to_bytes("ab"))),
            "12" "6c69627032702d706565722d7265636f7264"  // 18, "libp2p-peer-record"
            "02" "0301"                                     // payload type
            "02" "6162");                                   // payload
}

// Every field of the envelope, changed after signing, makes it fail.
TEST(Envelope, RefusesATamperedField) {
  const Envelope genuine = *decode_envelope(hex(kJsEnvelopeHex));
  const auto open = [](const Envelope& envelope) { return open_peer_record(encode_envelope(envelope)); };
  ASSERT_TRUE(open(genuine));

  Envelope other_key = genuine;
  other_key.public_key = PublicKey::ed25519(key_from_fill(0x08).public_key());
  Envelope other_type = genuine;
  other_type.payload_type = {0x03, 0x02};
  Envelope other_payload = genuine;
  other_payload.payload.back() ^= 0x01;
  Envelope other_signature = genuine;
  other_signature.signature[10] ^= 0x80;
  Envelope short_signature = genuine;
  short_signature.signature.pop_back();

  const std::pair<const Envelope*, Errc> cases[] = {
      {&other_key, Errc::bad_signature},      {&other_type, Errc::wrong_payload_type},
      {&other_payload, Errc::bad_signature},  {&other_signature, Errc::bad_signature},
      {&short_signature, Errc::bad_signature},
  };
  for (const auto& [envelope, code] : cases) {
    const auto opened = open(*envelope);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, code) << opened.error().detail;
  }
}

TEST(PeerRecord, OpensTheLegacyRustLibp2pFormat) {
  const auto key = key_from_fill(0x42);
  const PeerRecord record{.peer_id = PeerId::from_ed25519(key.public_key()), .seq = 9,
                          .addresses = {address("/ip4/127.0.0.1/udp/4001/quic-v1")}};
  const Envelope envelope = seal_envelope(key, legacy_peer_record_domain, as_bytes(legacy_peer_record_payload_type),
                                          encode_peer_record(record));
  const auto opened = open_peer_record(encode_envelope(envelope));
  ASSERT_TRUE(opened) << opened.error().detail;
  EXPECT_EQ(*opened, record);

  // The legacy type under the standard domain is refused, and vice versa.
  const Envelope mixed = seal_envelope(key, peer_record_domain, as_bytes(legacy_peer_record_payload_type),
                                       encode_peer_record(record));
  const auto refused = open_peer_record(encode_envelope(mixed));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::bad_signature);
  const Envelope mixed_back = seal_envelope(key, legacy_peer_record_domain, peer_record_payload_type,
                                            encode_peer_record(record));
  const auto refused_back = open_peer_record(encode_envelope(mixed_back));
  ASSERT_FALSE(refused_back);
  EXPECT_EQ(refused_back.error().code, Errc::bad_signature);
}

TEST(Envelope, RefusesAnotherDomain) {
  const auto opened = open_envelope(hex(kJsEnvelopeHex), "libp2p-other-domain", peer_record_payload_type);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::bad_signature);
}

TEST(PeerRecord, RefusesARecordOfAnotherPeerSignedWithAValidSignature) {
  // Key 0x42 signs, correctly, a record that claims to be key 0x07's.
  const PeerRecord claim{.peer_id = PeerId::from_ed25519(key_from_fill(0x07).public_key()), .seq = 1};
  const Envelope envelope =
      seal_envelope(key_from_fill(0x42), peer_record_domain, peer_record_payload_type, encode_peer_record(claim));
  const auto opened = open_peer_record(encode_envelope(envelope));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::peer_id_mismatch);
}

TEST(Envelope, RefusesKeysWeCannotVerify) {
  // The peer-ids spec's secp256k1 public key.
  Envelope envelope = *decode_envelope(hex(kJsEnvelopeHex));
  envelope.public_key =
      *PublicKey::decode(hex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99"));
  const auto opened = open_peer_record(encode_envelope(envelope));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::unsupported_key_type);
}

TEST(Envelope, RefusesMissingOrMalformedFields) {
  const Envelope genuine = *decode_envelope(hex(kJsEnvelopeHex));
  const auto without = [&](std::uint32_t skipped) {
    pb::Writer writer;
    if (skipped != 1) writer.bytes(1, genuine.public_key.encode());
    if (skipped != 2) writer.bytes(2, genuine.payload_type);
    if (skipped != 3) writer.bytes(3, genuine.payload);
    if (skipped != 5) writer.bytes(5, genuine.signature);
    return writer.take();
  };
  for (const std::uint32_t field : {1u, 2u, 5u}) {
    const auto decoded = decode_envelope(without(field));
    ASSERT_FALSE(decoded) << field;
    EXPECT_EQ(decoded.error().code, Errc::bad_envelope) << field;
  }
  // Without a payload the signature cannot match.
  const auto no_payload = open_peer_record(without(3));
  ASSERT_FALSE(no_payload);
  EXPECT_EQ(no_payload.error().code, Errc::bad_signature);

  for (const std::string_view text : {"0a", "1001", "0a0408011201"}) {  // truncated, wrong wire type, bad key
    const auto decoded = decode_envelope(hex(text));
    ASSERT_FALSE(decoded) << text;
    EXPECT_TRUE(decoded.error().code == Errc::bad_envelope || decoded.error().code == Errc::bad_public_key) << text;
  }
  const auto oversize = decode_envelope(Bytes(envelope_bytes_max + 1, 0));
  ASSERT_FALSE(oversize);
  EXPECT_EQ(oversize.error().code, Errc::too_large);
}

TEST(PeerRecord, DecodeSkipsUnknownAddressesAndRefusesBadPeerIds) {
  const PeerId id = PeerId::from_ed25519(key_from_fill(0x01).public_key());
  pb::Writer writer;
  writer.bytes(1, id.bytes());
  writer.varint(2, 5);
  pb::Writer good;
  good.bytes(1, address("/ip4/1.2.3.4/tcp/1").bytes());
  writer.bytes(3, good.data());
  pb::Writer unknown;
  unknown.bytes(1, hex("b60301"));
  writer.bytes(3, unknown.data());
  writer.bytes(3, {});  // an AddressInfo without a multiaddr
  writer.varint(9, 1);  // unknown field
  const auto record = decode_peer_record(writer.data());
  ASSERT_TRUE(record) << record.error().detail;
  EXPECT_EQ(record->addresses, std::vector<Multiaddr>{address("/ip4/1.2.3.4/tcp/1")});
  EXPECT_EQ(record->unreadable_addresses, 2u);

  for (const std::string_view text : {"", "0a03010203", "1005", "0801"}) {  // no id, bad id, no id, wrong wire type
    const auto bad = decode_peer_record(hex(text));
    ASSERT_FALSE(bad) << text;
    EXPECT_EQ(bad.error().code, Errc::bad_record) << text;
  }
}

TEST(PeerRecord, RefusesTooManyAddresses) {
  std::vector<Multiaddr> addresses;
  for (std::size_t i = 0; i <= record_addresses_max; ++i) {
    addresses.push_back(address("/ip4/1.2.3.4/tcp/" + std::to_string(i + 1)));
  }
  const PeerRecord record{.peer_id = PeerId::from_ed25519(key_from_fill(0x01).public_key()),
                          .addresses = addresses};
  const auto decoded = decode_peer_record(encode_peer_record(record));
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().code, Errc::too_many_entries);
}

}  // namespace
}  // namespace taho::identify
