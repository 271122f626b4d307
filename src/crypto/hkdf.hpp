// HMAC-SHA256 (RFC 2104 / FIPS 198-1) and HKDF (RFC 5869), built on the
// suite's SHA-256 so they work with any CryptoSuite (libsodium 1.0.18, the
// browser backend, has no HKDF). Noise's HKDF (rev 34 §4.3) is RFC 5869 with
// the chaining key as salt and empty info, taking the first 2 or 3 blocks.
#pragma once

#include <array>
#include <cstddef>
#include <span>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "crypto/crypto_suite.hpp"
#include "crypto/sha256.hpp"

namespace taho::crypto {

// RFC 5869 limits the output to 255 hash blocks.
inline constexpr std::size_t kHkdfOutputBytesMax = 255 * kSha256DigestBytes;

// HMAC-SHA256 of the concatenation of `message_parts`.
Sha256Digest hmac_sha256(CryptoSuite& suite, ByteView key, std::span<const ByteView> message_parts);
Sha256Digest hmac_sha256(CryptoSuite& suite, ByteView key, ByteView message);

// RFC 5869 extract-then-expand. Fails if `output_bytes` exceeds kHkdfOutputBytesMax.
Result<Bytes> hkdf_sha256(CryptoSuite& suite, ByteView salt, ByteView input_key_material, ByteView info,
                          std::size_t output_bytes);

// Noise's HKDF(chaining_key, input_key_material, 2 or 3).
std::array<Sha256Digest, 2> noise_hkdf2(CryptoSuite& suite, ByteView chaining_key, ByteView input_key_material);
std::array<Sha256Digest, 3> noise_hkdf3(CryptoSuite& suite, ByteView chaining_key, ByteView input_key_material);

}  // namespace taho::crypto
