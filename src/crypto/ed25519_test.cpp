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
