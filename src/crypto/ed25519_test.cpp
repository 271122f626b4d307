#include "crypto/ed25519.hpp"

#include <gtest/gtest.h>

namespace taho::crypto {
namespace {

// RFC 8032 §7.1, TEST 1 (empty message).
TEST(Ed25519, Rfc8032VectorOne) {
  Bytes seed_bytes, expected_public, expected_signature;
  ASSERT_TRUE(from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", seed_bytes));
  ASSERT_TRUE(from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", expected_public));
  ASSERT_TRUE(from_hex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
                       expected_signature));
  Ed25519Seed seed;
  std::copy(seed_bytes.begin(), seed_bytes.end(), seed.begin());
  auto pair = Ed25519KeyPair::from_seed(seed);
  ASSERT_TRUE(pair);
  EXPECT_EQ(Bytes(pair->public_key().begin(), pair->public_key().end()), expected_public);
  auto signature = pair->sign({});
  EXPECT_EQ(Bytes(signature.begin(), signature.end()), expected_signature);
  EXPECT_TRUE(ed25519_verify(pair->public_key(), {}, signature));
}

// RFC 8032 §7.1, TEST 3 (two-byte message).
TEST(Ed25519, Rfc8032VectorThree) {
  Bytes seed_bytes, expected_public, message, expected_signature;
  ASSERT_TRUE(from_hex("c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7", seed_bytes));
  ASSERT_TRUE(from_hex("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", expected_public));
  ASSERT_TRUE(from_hex("af82", message));
  ASSERT_TRUE(from_hex("6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
                       "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
                       expected_signature));
  Ed25519Seed seed;
  std::copy(seed_bytes.begin(), seed_bytes.end(), seed.begin());
  auto pair = Ed25519KeyPair::from_seed(seed);
  ASSERT_TRUE(pair);
  EXPECT_EQ(Bytes(pair->public_key().begin(), pair->public_key().end()), expected_public);
  const auto signature = pair->sign(message);
  EXPECT_EQ(Bytes(signature.begin(), signature.end()), expected_signature);
  EXPECT_TRUE(ed25519_verify(pair->public_key(), message, signature));
}

// Signatures from the network: malleated or garbage values fail cleanly.
TEST(Ed25519, MalformedSignaturesAndKeysFail) {
  auto pair = Ed25519KeyPair::generate();
  ASSERT_TRUE(pair);
  const Bytes message = to_bytes("gossip");
  const auto signature = pair->sign(message);
  // S + L (the group order) verifies the same equation but is not canonical.
  Bytes malleated(signature.begin(), signature.end());
  Bytes order;
  ASSERT_TRUE(from_hex("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010", order));
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = malleated[32 + i] + order[i] + carry;
    malleated[32 + i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  EXPECT_FALSE(ed25519_verify(pair->public_key(), message, malleated));
  EXPECT_FALSE(ed25519_verify(pair->public_key(), message, Bytes(64, 0)));
  EXPECT_FALSE(ed25519_verify(pair->public_key(), message, Bytes(65, 1)));
  Ed25519PublicKey not_a_point{};
  not_a_point.fill(0xff);
  EXPECT_FALSE(ed25519_verify(not_a_point, message, signature));
  Ed25519PublicKey identity{};
  identity[0] = 1;  // the neutral element: small order, refused
  EXPECT_FALSE(ed25519_verify(identity, message, signature));
}

TEST(Ed25519, TamperedMessageFailsVerification) {
  auto pair = Ed25519KeyPair::generate();
  ASSERT_TRUE(pair);
  Bytes message = to_bytes("hello mesh");
  auto signature = pair->sign(message);
  EXPECT_TRUE(ed25519_verify(pair->public_key(), message, signature));
  message[0] ^= 1;
  EXPECT_FALSE(ed25519_verify(pair->public_key(), message, signature));
  EXPECT_FALSE(ed25519_verify(pair->public_key(), message, ByteView(signature).first(63)));
}

}  // namespace
}  // namespace taho::crypto
