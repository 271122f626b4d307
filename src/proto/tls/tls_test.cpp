#include <gtest/gtest.h>

#include <string>

#include "crypto/crypto_suite.hpp"
#include "proto/tls/certificate.hpp"
#include "proto/tls/der.hpp"
#include "proto/tls/signed_key.hpp"
#include "proto/tls/verify.hpp"

namespace taho::tls {
namespace {

Bytes tlv(std::uint8_t tag, ByteView value) {
  Bytes out;
  der::write(out, tag, value);
  return out;
}

Bytes concat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& part : parts) append(out, part);
  return out;
}

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

// The SubjectPublicKeyInfo of an Ed25519 certificate key (RFC 8410).
Bytes ed25519_spki(const crypto::Ed25519KeyPair& key) {
  const Bytes algorithm = tlv(der::tag_sequence, tlv(der::tag_oid, Bytes{0x2b, 0x65, 0x70}));
  Bytes bits{0x00};
  append(bits, key.public_key());
  return tlv(der::tag_sequence, concat({algorithm, tlv(der::tag_bit_string, bits)}));
}

struct CertificateSpec {
  Bytes spki;
  std::optional<Bytes> extension;  // the libp2p extension value
  bool duplicate_extension = false;
  std::string not_before = "750101000000Z";  // UTCTime
  std::string not_after = "40960101000000Z";  // GeneralizedTime
};

// A structurally complete X.509 v3 certificate. Its self-signature is junk:
// this library does not check it (the TLS stack does).
Bytes build_certificate(const CertificateSpec& spec) {
  const Bytes algorithm = tlv(der::tag_sequence, tlv(der::tag_oid, Bytes{0x2b, 0x65, 0x70}));
  const Bytes name = tlv(der::tag_sequence, tlv(der::tag_set, tlv(der::tag_sequence,
      concat({tlv(der::tag_oid, Bytes{0x55, 0x04, 0x03}), tlv(0x0c, to_bytes("taho"))}))));
  const Bytes validity = tlv(der::tag_sequence, concat({tlv(der::tag_utc_time, to_bytes(spec.not_before)),
                                                        tlv(der::tag_generalized_time, to_bytes(spec.not_after))}));
  Bytes extensions;
  // An unknown, non-critical extension first: it must be skipped.
  append(extensions, tlv(der::tag_sequence, concat({tlv(der::tag_oid, Bytes{0x55, 0x1d, 0x0e}),
                                                    tlv(der::tag_octet_string, tlv(der::tag_octet_string, Bytes{1, 2}))})));
  for (int copy = 0; spec.extension && copy < (spec.duplicate_extension ? 2 : 1); ++copy) {
    const ByteView oid(extension_oid_der.data(), extension_oid_der.size());
    append(extensions, tlv(der::tag_sequence, concat({tlv(der::tag_oid, oid), tlv(der::tag_boolean, Bytes{0xff}),
                                                      tlv(der::tag_octet_string, *spec.extension)})));
  }
  const Bytes tbs = tlv(der::tag_sequence, concat({tlv(0xa0, tlv(der::tag_integer, Bytes{2})),
                                                   tlv(der::tag_integer, Bytes{0x01, 0x23}), algorithm, name, validity,
                                                   name, spec.spki,
                                                   tlv(0xa3, tlv(der::tag_sequence, extensions))}));
  Bytes signature(65, 0x5a);
  signature[0] = 0;
  return tlv(der::tag_sequence, concat({tbs, algorithm, tlv(der::tag_bit_string, signature)}));
}

constexpr std::int64_t kNow = 1'800'000'000;  // 2027

class TlsVerify : public ::testing::Test {
 protected:
  crypto::OpenSslCryptoSuite suite_;
  crypto::Ed25519KeyPair host_ = key_from(7);
  crypto::Ed25519KeyPair certificate_key_ = key_from(9);
  PeerId host_id_ = PeerId::from_ed25519(host_.public_key());
};

TEST(Der, ReadsShortAndLongLengthsAndRefusesNonMinimalOnes) {
  Bytes long_value(300, 0xab);
  const Bytes encoded = tlv(der::tag_octet_string, long_value);
  ASSERT_EQ(encoded[1], 0x82);
  der::Reader reader(encoded);
  auto element = reader.read(der::tag_octet_string);
  ASSERT_TRUE(element);
  EXPECT_EQ(element->value.size(), 300u);
  EXPECT_TRUE(reader.at_end());

  const Bytes non_minimal{0x04, 0x81, 0x05, 1, 2, 3, 4, 5};
  EXPECT_EQ(der::Reader(non_minimal).read().error().code, Errc::bad_der);
  const Bytes indefinite{0x30, 0x80, 0x00, 0x00};
  EXPECT_EQ(der::Reader(indefinite).read().error().code, Errc::bad_der);
  const Bytes truncated{0x04, 0x05, 1, 2};
  EXPECT_EQ(der::Reader(truncated).read().error().code, Errc::bad_der);
  const Bytes huge_length{0x04, 0x84, 0x7f, 0xff, 0xff, 0xff};
  EXPECT_EQ(der::Reader(huge_length).read().error().code, Errc::bad_der);
  const Bytes wrong_tag{0x02, 0x01, 0x00};
  EXPECT_EQ(der::Reader(wrong_tag).read(der::tag_sequence).error().code, Errc::bad_der);
}

TEST(SignedKey, RoundTripsAndRefusesExtraFields) {
  const SignedKey key{Bytes{8, 1, 18, 32}, Bytes(64, 3)};
  const Bytes encoded = key.encode();
  auto decoded = SignedKey::decode(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, key);

  Bytes extra_field = key.encode();
  extra_field[1] += 3;
  append(extra_field, Bytes{0x04, 0x01, 0x00});
  EXPECT_EQ(SignedKey::decode(extra_field).error().code, Errc::bad_signed_key);
  EXPECT_EQ(SignedKey::decode(Bytes{0x30, 0x00}).error().code, Errc::bad_signed_key);
  Bytes trailing = encoded;
  trailing.push_back(0);
  EXPECT_EQ(SignedKey::decode(trailing).error().code, Errc::bad_signed_key);
}

TEST(CertificateTime, ParsesUtcAndGeneralizedTime) {
  EXPECT_EQ(*parse_time(der::tag_utc_time, as_bytes("700101000000Z")), 0);
  EXPECT_EQ(*parse_time(der::tag_utc_time, as_bytes("491231235959Z")), 2524607999);
  EXPECT_EQ(*parse_time(der::tag_generalized_time, as_bytes("20270115080000Z")), 1'800'000'000);
  EXPECT_FALSE(parse_time(der::tag_utc_time, as_bytes("7001010000Z")));
  EXPECT_FALSE(parse_time(der::tag_utc_time, as_bytes("701301000000Z")));
  EXPECT_FALSE(parse_time(der::tag_generalized_time, as_bytes("2027011508000Z0")));
}

TEST_F(TlsVerify, AcceptsAGoodCertificateAndDerivesThePeerId) {
  const Bytes spki = ed25519_spki(certificate_key_);
  const Bytes certificate = build_certificate({spki, make_extension(host_, spki)});
  auto fields = parse_certificate(certificate);
  ASSERT_TRUE(fields) << fields.error().detail;
  EXPECT_TRUE(fields->libp2p_extension_critical);
  EXPECT_EQ(Bytes(fields->subject_public_key_info.begin(), fields->subject_public_key_info.end()), spki);
  EXPECT_EQ(fields->not_before_unix_s, 157766400);  // 1975-01-01

  auto peer = verify_certificate(certificate, kNow, std::nullopt, suite_);
  ASSERT_TRUE(peer) << peer.error().detail;
  EXPECT_EQ(peer->peer_id, host_id_);
  EXPECT_TRUE(verify_certificate(certificate, kNow, host_id_, suite_));
}

TEST_F(TlsVerify, RefusesAWrongExpectedPeer) {
  const Bytes spki = ed25519_spki(certificate_key_);
  const Bytes certificate = build_certificate({spki, make_extension(host_, spki)});
  const PeerId other = PeerId::from_ed25519(key_from(8).public_key());
  auto result = verify_certificate(certificate, kNow, other, suite_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::peer_id_mismatch);
  EXPECT_NE(result.error().detail.find(host_id_.to_string()), std::string::npos);
}

TEST_F(TlsVerify, RefusesAMissingOrDuplicatedExtension) {
  const Bytes spki = ed25519_spki(certificate_key_);
  EXPECT_EQ(verify_certificate(build_certificate({spki, std::nullopt}), kNow, std::nullopt, suite_).error().code,
            Errc::missing_extension);
  CertificateSpec twice{spki, make_extension(host_, spki)};
  twice.duplicate_extension = true;
  EXPECT_EQ(verify_certificate(build_certificate(twice), kNow, std::nullopt, suite_).error().code,
            Errc::duplicate_extension);
}

TEST_F(TlsVerify, RefusesASignatureOverAnotherKey) {
  const Bytes spki = ed25519_spki(certificate_key_);
  const Bytes other_spki = ed25519_spki(key_from(10));
  // The host signed a different certificate key: a replayed extension.
  const Bytes certificate = build_certificate({spki, make_extension(host_, other_spki)});
  EXPECT_EQ(verify_certificate(certificate, kNow, std::nullopt, suite_).error().code, Errc::bad_signature);

  auto signed_key = *SignedKey::decode(make_extension(host_, spki));
  signed_key.signature[5] ^= 1;
  EXPECT_EQ(verify_certificate(build_certificate({spki, signed_key.encode()}), kNow, std::nullopt, suite_).error().code,
            Errc::bad_signature);
}

TEST_F(TlsVerify, RefusesUnsupportedAndBadHostKeys) {
  const Bytes spki = ed25519_spki(certificate_key_);
  // A secp256k1 key (type 2, 33 bytes compressed): well formed, not verifiable here.
  Bytes secp256k1{0x08, 0x02, 0x12, 0x21, 0x02};
  secp256k1.resize(4 + 33, 0x11);
  const SignedKey foreign{secp256k1, Bytes(70, 1)};
  auto result = verify_certificate(build_certificate({spki, foreign.encode()}), kNow, std::nullopt, suite_);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::unsupported_key_type);
  EXPECT_NE(result.error().detail.find("Secp256k1"), std::string::npos);

  const SignedKey garbage{Bytes{0xff, 0xff}, Bytes(64, 1)};
  EXPECT_EQ(verify_certificate(build_certificate({spki, garbage.encode()}), kNow, std::nullopt, suite_).error().code,
            Errc::bad_public_key);
  EXPECT_EQ(verify_certificate(build_certificate({spki, Bytes{0x30, 0x00}}), kNow, std::nullopt, suite_).error().code,
            Errc::bad_signed_key);
}

TEST_F(TlsVerify, ChecksTheValidityPeriod) {
  const Bytes spki = ed25519_spki(certificate_key_);
  CertificateSpec spec{spki, make_extension(host_, spki)};
  spec.not_before = "300101000000Z";  // 2030
  EXPECT_EQ(verify_certificate(build_certificate(spec), kNow, std::nullopt, suite_).error().code, Errc::not_yet_valid);
  spec.not_before = "200101000000Z";
  spec.not_after = "20250101000000Z";
  EXPECT_EQ(verify_certificate(build_certificate(spec), kNow, std::nullopt, suite_).error().code, Errc::expired);
}

TEST_F(TlsVerify, EveryTruncationFailsCleanly) {
  const Bytes spki = ed25519_spki(certificate_key_);
  const Bytes certificate = build_certificate({spki, make_extension(host_, spki)});
  for (std::size_t size = 0; size < certificate.size(); ++size) {
    EXPECT_FALSE(verify_certificate(ByteView(certificate).first(size), kNow, std::nullopt, suite_)) << size;
  }
  Bytes oversized(certificate_bytes_max + 1, 0);
  EXPECT_EQ(parse_certificate(oversized).error().code, Errc::too_long);
}

}  // namespace
}  // namespace taho::tls
