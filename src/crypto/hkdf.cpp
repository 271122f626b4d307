#include "crypto/hkdf.hpp"

#include <algorithm>

namespace taho::crypto {
namespace {

constexpr std::uint8_t kInnerPad = 0x36;
constexpr std::uint8_t kOuterPad = 0x5c;
// More than enough for every caller here (at most three parts each).
constexpr std::size_t kHmacMessagePartsMax = 4;

// Wipes key material on scope exit; volatile so the stores are not elided.
void wipe(MutableByteView secret) {
  volatile std::uint8_t* bytes = secret.data();
  for (std::size_t i = 0; i < secret.size(); ++i) bytes[i] = 0;
}

// Expands PRK into `blocks` consecutive T(i) blocks with empty info.
template <std::size_t kBlocks>
std::array<Sha256Digest, kBlocks> noise_expand(CryptoSuite& suite, ByteView chaining_key,
                                               ByteView input_key_material) {
  Sha256Digest temp_key = hmac_sha256(suite, chaining_key, input_key_material);
  std::array<Sha256Digest, kBlocks> outputs{};
  for (std::size_t i = 0; i < kBlocks; ++i) {
    const std::uint8_t counter = static_cast<std::uint8_t>(i + 1);
    const ByteView previous = i == 0 ? ByteView{} : ByteView(outputs[i - 1]);
    const std::array<ByteView, 2> parts{previous, ByteView(&counter, 1)};
    outputs[i] = hmac_sha256(suite, temp_key, parts);
  }
  wipe(temp_key);
  return outputs;
}

}  // namespace

Sha256Digest hmac_sha256(CryptoSuite& suite, ByteView key, std::span<const ByteView> message_parts) {
  if (message_parts.size() > kHmacMessagePartsMax) __builtin_trap();  // our bug, never input
  // Keys longer than a block are hashed first (RFC 2104 §2); shorter ones are zero-padded.
  std::array<std::uint8_t, kSha256BlockBytes> block_key{};
  if (key.size() > kSha256BlockBytes) {
    const std::array<ByteView, 1> whole{key};
    const Sha256Digest hashed = suite.sha256(whole);
    std::copy(hashed.begin(), hashed.end(), block_key.begin());
  } else {
    std::copy(key.begin(), key.end(), block_key.begin());
  }

  std::array<std::uint8_t, kSha256BlockBytes> pad{};
  for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block_key[i] ^ kInnerPad;
  std::array<ByteView, kHmacMessagePartsMax + 1> inner_parts{};
  inner_parts[0] = pad;
  std::copy(message_parts.begin(), message_parts.end(), inner_parts.begin() + 1);
  const Sha256Digest inner = suite.sha256(std::span(inner_parts).first(message_parts.size() + 1));

  for (std::size_t i = 0; i < pad.size(); ++i) pad[i] = block_key[i] ^ kOuterPad;
  const std::array<ByteView, 2> outer_parts{ByteView(pad), ByteView(inner)};
  const Sha256Digest mac = suite.sha256(outer_parts);
  wipe(block_key);
  wipe(pad);
  return mac;
}

Sha256Digest hmac_sha256(CryptoSuite& suite, ByteView key, ByteView message) {
  const std::array<ByteView, 1> parts{message};
  return hmac_sha256(suite, key, parts);
}

Result<Bytes> hkdf_sha256(CryptoSuite& suite, ByteView salt, ByteView input_key_material, ByteView info,
                          std::size_t output_bytes) {
  if (output_bytes > kHkdfOutputBytesMax) return fail("hkdf: at most 8160 output bytes (RFC 5869 §2.3)");
  // An absent salt is HashLen zero bytes, which HMAC's zero padding makes
  // identical to an empty key.
  Sha256Digest pseudo_random_key = hmac_sha256(suite, salt, input_key_material);
  Bytes output;
  output.reserve(output_bytes);
  Sha256Digest block{};
  for (std::uint8_t counter = 1; output.size() < output_bytes; ++counter) {
    const ByteView previous = counter == 1 ? ByteView{} : ByteView(block);
    const std::array<ByteView, 3> parts{previous, info, ByteView(&counter, 1)};
    block = hmac_sha256(suite, pseudo_random_key, parts);
    const std::size_t take = std::min(block.size(), output_bytes - output.size());
    output.insert(output.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(take));
  }
  wipe(pseudo_random_key);
  wipe(block);
  return output;
}

std::array<Sha256Digest, 2> noise_hkdf2(CryptoSuite& suite, ByteView chaining_key, ByteView input_key_material) {
  return noise_expand<2>(suite, chaining_key, input_key_material);
}

std::array<Sha256Digest, 3> noise_hkdf3(CryptoSuite& suite, ByteView chaining_key, ByteView input_key_material) {
  return noise_expand<3>(suite, chaining_key, input_key_material);
}

}  // namespace taho::crypto
