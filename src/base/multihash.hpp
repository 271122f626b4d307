// Multihash: <hash code varint><digest length varint><digest>
// (multiformats/multihash). Peer ids are identity or sha2-256 multihashes;
// content ids are blake3 ones.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho {

namespace multihash {

// The hash functions taho understands; other codes are refused when decoding.
enum class Code : std::uint64_t {
  identity = 0x00,  // the "digest" is the data itself
  sha2_256 = 0x12,
  blake3 = 0x1e,
};

enum class Errc {
  truncated,         // bytes end inside the code, length or digest
  bad_varint,        // code or length varint malformed (overlong, not minimal)
  unsupported_code,  // a hash function we do not know
  bad_length,        // digest length wrong for the function, or over kDigestBytesMax
  trailing_bytes,    // bytes left after the digest
};

// Digests are small; the bound keeps an identity multihash from carrying
// arbitrary payloads (a peer id's is at most 42 bytes).
inline constexpr std::size_t kDigestBytesMax = 128;
inline constexpr std::size_t kSha256DigestBytes = 32;
inline constexpr std::size_t kBlake3DigestBytes = 32;

std::string_view name(Code code);

}  // namespace multihash

using MultihashError = Error<multihash::Errc>;

class Multihash {
 public:
  // Validates the digest length for the function (sha2-256 and blake3: 32 bytes).
  static Expected<Multihash, MultihashError> create(multihash::Code code, ByteView digest);
  // Decodes exactly one multihash: the whole input, nothing after it.
  static Expected<Multihash, MultihashError> from_bytes(ByteView bytes);

  multihash::Code code() const { return code_; }
  ByteView digest() const { return ByteView(bytes_).subspan(digest_offset_); }
  // The whole encoding: code, length, digest.
  const Bytes& bytes() const { return bytes_; }

  bool operator==(const Multihash& other) const { return bytes_ == other.bytes_; }
  std::strong_ordering operator<=>(const Multihash& other) const { return bytes_ <=> other.bytes_; }

 private:
  Multihash(multihash::Code code, Bytes bytes, std::size_t digest_offset)
      : code_(code), bytes_(std::move(bytes)), digest_offset_(digest_offset) {}

  multihash::Code code_ = multihash::Code::identity;
  Bytes bytes_;
  std::size_t digest_offset_ = 0;
};

}  // namespace taho
