#include "crypto/crypto_suite.hpp"

#include <gtest/gtest.h>

namespace taho::crypto {
namespace {

// Replays fixed bytes, so a key generated from it is known in advance.
class FixedRng final : public Rng {
 public:
  explicit FixedRng(Bytes bytes) : bytes_(std::move(bytes)) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = bytes_[next_++ % bytes_.size()];
  }

 private:
  Bytes bytes_;
  std::size_t next_ = 0;
};

TEST(OpenSslCryptoSuite, GeneratesX25519KeysFromTheInjectedRng) {
  Bytes alice_private;
  ASSERT_TRUE(from_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", alice_private));
  FixedRng rng(alice_private);
  OpenSslCryptoSuite suite;
  const auto pair = suite.generate_x25519(rng);
  ASSERT_TRUE(pair);
  EXPECT_EQ(to_hex(pair->private_key), to_hex(alice_private));
  // RFC 7748 §6.1: Alice's public key.
  EXPECT_EQ(to_hex(pair->public_key), "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
}

TEST(OpenSslCryptoSuite, HashesTheConcatenationOfParts) {
  OpenSslCryptoSuite suite;
  const Bytes a = to_bytes("a"), bc = to_bytes("bc");
  const std::array<ByteView, 3> parts{ByteView(a), ByteView{}, ByteView(bc)};
  EXPECT_EQ(to_hex(suite.sha256(parts)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(suite.sha256(parts)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(OpenSslCryptoSuite, AeadInstancesWithTheSameKeyInteroperate) {
  OpenSslCryptoSuite suite;
  AeadKey key{};
  key.fill(7);
  auto sender = suite.chacha20_poly1305(key);
  auto receiver = suite.chacha20_poly1305(key);
  Bytes message = to_bytes("over the mesh");
  const AeadTag tag = sender->seal(noise_nonce(3), to_bytes("ad"), message, message);
  Bytes plaintext(message.size());
  EXPECT_FALSE(receiver->open(noise_nonce(4), to_bytes("ad"), message, tag, plaintext));
  ASSERT_TRUE(receiver->open(noise_nonce(3), to_bytes("ad"), message, tag, plaintext));
  EXPECT_EQ(as_text(plaintext), "over the mesh");
}

TEST(OpenSslCryptoSuite, VerifiesEd25519) {
  OpenSslCryptoSuite suite;
  auto pair = Ed25519KeyPair::generate();
  ASSERT_TRUE(pair);
  const Bytes message = to_bytes("noise-libp2p-static-key:");
  const auto signature = pair->sign(message);
  EXPECT_TRUE(suite.ed25519_verify(pair->public_key(), message, signature));
  EXPECT_FALSE(suite.ed25519_verify(pair->public_key(), to_bytes("other"), signature));
}

}  // namespace
}  // namespace taho::crypto
