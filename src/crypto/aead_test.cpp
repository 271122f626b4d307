#include "crypto/aead.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace taho::crypto {
namespace {

Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes));
  return bytes;
}

AeadKey rfc8439_key() {
  AeadKey key{};
  std::iota(key.begin(), key.end(), std::uint8_t{0x80});
  return key;
}

AeadNonce rfc8439_nonce() {
  const Bytes bytes = hex("070000004041424344454647");
  AeadNonce nonce{};
  std::copy(bytes.begin(), bytes.end(), nonce.begin());
  return nonce;
}

constexpr std::string_view kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, "
    "sunscreen would be it.";
constexpr std::string_view kSunscreenCiphertext =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b"
    "1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
constexpr std::string_view kSunscreenTag = "1ae10b594f09e26a7e902ecbd0600691";

// RFC 8439 §2.8.2.
TEST(ChaCha20Poly1305, Rfc8439Seal) {
  OpenSslChaCha20Poly1305 aead(rfc8439_key());
  const Bytes plaintext = to_bytes(kSunscreen);
  Bytes ciphertext(plaintext.size());
  const AeadTag tag = aead.seal(rfc8439_nonce(), hex("50515253c0c1c2c3c4c5c6c7"), plaintext, ciphertext);
  EXPECT_EQ(to_hex(ciphertext), kSunscreenCiphertext);
  EXPECT_EQ(to_hex(tag), kSunscreenTag);
}

TEST(ChaCha20Poly1305, Rfc8439OpenInPlace) {
  OpenSslChaCha20Poly1305 aead(rfc8439_key());
  Bytes buffer = hex(kSunscreenCiphertext);
  AeadTag tag{};
  const Bytes tag_bytes = hex(kSunscreenTag);
  std::copy(tag_bytes.begin(), tag_bytes.end(), tag.begin());
  ASSERT_TRUE(aead.open(rfc8439_nonce(), hex("50515253c0c1c2c3c4c5c6c7"), buffer, tag, buffer));
  EXPECT_EQ(as_text(buffer), kSunscreen);
}

TEST(ChaCha20Poly1305, TamperingIsDetectedAndOutputWiped) {
  OpenSslChaCha20Poly1305 aead(rfc8439_key());
  const Bytes ad = hex("50515253c0c1c2c3c4c5c6c7");
  const Bytes original = hex(kSunscreenCiphertext);
  AeadTag tag{};
  const Bytes tag_bytes = hex(kSunscreenTag);
  std::copy(tag_bytes.begin(), tag_bytes.end(), tag.begin());
  Bytes plaintext(original.size());

  Bytes flipped = original;
  flipped[10] ^= 0x01;
  EXPECT_FALSE(aead.open(rfc8439_nonce(), ad, flipped, tag, plaintext));
  EXPECT_EQ(plaintext, Bytes(original.size(), 0));

  AeadTag bad_tag = tag;
  bad_tag[15] ^= 0x80;
  EXPECT_FALSE(aead.open(rfc8439_nonce(), ad, original, bad_tag, plaintext));

  Bytes other_ad = ad;
  other_ad[0] ^= 1;
  EXPECT_FALSE(aead.open(rfc8439_nonce(), other_ad, original, tag, plaintext));

  EXPECT_FALSE(aead.open(noise_nonce(0), ad, original, tag, plaintext));
  // The context stays usable after failures.
  EXPECT_TRUE(aead.open(rfc8439_nonce(), ad, original, tag, plaintext));
}

TEST(ChaCha20Poly1305, NoiseNonceIsZeroPrefixedLittleEndianCounter) {
  EXPECT_EQ(to_hex(noise_nonce(0)), "000000000000000000000000");
  EXPECT_EQ(to_hex(noise_nonce(1)), "000000000100000000000000");
  EXPECT_EQ(to_hex(noise_nonce(0x0102030405060708)), "000000000807060504030201");
}

TEST(ChaCha20Poly1305, ReusedContextRoundTripsManyMessages) {
  AeadKey key{};
  key.fill(0x42);
  OpenSslChaCha20Poly1305 sender(key);
  OpenSslChaCha20Poly1305 receiver(key);
  for (std::uint64_t counter = 0; counter < 100; ++counter) {
    Bytes message(static_cast<std::size_t>(counter * 37), static_cast<std::uint8_t>(counter));
    const Bytes original = message;
    const AeadTag tag = sender.seal(noise_nonce(counter), {}, message, message);
    if (!message.empty()) {
      EXPECT_NE(message, original);
    }
    ASSERT_TRUE(receiver.open(noise_nonce(counter), {}, message, tag, message)) << counter;
    EXPECT_EQ(message, original);
  }
}

}  // namespace
}  // namespace taho::crypto
