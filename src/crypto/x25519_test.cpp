#include "crypto/x25519.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace taho::crypto {
namespace {

std::array<std::uint8_t, 32> key_from_hex(std::string_view hex) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(hex, bytes));
  std::array<std::uint8_t, 32> key{};
  EXPECT_EQ(bytes.size(), key.size());
  std::copy_n(bytes.begin(), std::min(bytes.size(), key.size()), key.begin());
  return key;
}

// RFC 7748 §5.2, first single-iteration vector.
TEST(X25519, Rfc7748ScalarMultiplication) {
  const auto scalar = key_from_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  const auto u = key_from_hex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  const auto result = x25519(scalar, u);
  ASSERT_TRUE(result) << result.error().text;
  EXPECT_EQ(to_hex(*result), "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
}

// RFC 7748 §6.1: both sides derive their public keys and the same secret.
TEST(X25519, Rfc7748DiffieHellman) {
  const auto alice_private = key_from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  const auto bob_private = key_from_hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  const auto alice_public = x25519_public_key(alice_private);
  const auto bob_public = x25519_public_key(bob_private);
  ASSERT_TRUE(alice_public && bob_public);
  EXPECT_EQ(to_hex(*alice_public), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(to_hex(*bob_public), "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto alice_secret = x25519(alice_private, *bob_public);
  const auto bob_secret = x25519(bob_private, *alice_public);
  ASSERT_TRUE(alice_secret && bob_secret);
  EXPECT_EQ(to_hex(*alice_secret), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(*alice_secret, *bob_secret);
}

// A peer sending a low-order point would force an all-zero, public "secret".
TEST(X25519, LowOrderRemoteKeysAreRejected) {
  const auto private_key = key_from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  X25519PublicKey zero{};
  EXPECT_FALSE(x25519(private_key, zero));
  X25519PublicKey one{};
  one[0] = 1;
  EXPECT_FALSE(x25519(private_key, one));
}

}  // namespace
}  // namespace taho::crypto
