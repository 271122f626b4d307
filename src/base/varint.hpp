// Unsigned varints as used by multiformats and libp2p length prefixes
// (multiformats/unsigned-varint: at most 9 bytes, minimal encoding only).
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::varint {

inline constexpr std::size_t kEncodedBytesMax = 9;  // spec limit: 63-bit values

enum class Errc {
  truncated,      // input ended inside the varint: wait for more bytes
  overlong,       // more than 9 bytes, or a value above 2^63-1
  not_minimal,    // trailing zero group (e.g. 0x80 0x00), forbidden by the spec
};
using VarintError = Error<Errc>;

struct Decoded {
  std::uint64_t value = 0;
  std::size_t length = 0;  // bytes consumed
};

// Decodes the varint at the start of `input`.
Expected<Decoded, VarintError> decode(ByteView input);
// Appends the minimal encoding of `value` to `out`.
void encode(std::uint64_t value, Bytes& out);
std::size_t encoded_length(std::uint64_t value);

}  // namespace taho::varint
