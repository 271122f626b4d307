#include "base/varint.hpp"

#include <string>

namespace taho::varint {
namespace {

constexpr std::uint8_t kContinuation = 0x80;
constexpr std::uint8_t kPayloadMask = 0x7f;
constexpr unsigned kPayloadBits = 7;
// Nine 7-bit groups hold 63 bits, the spec's ceiling.
constexpr std::uint64_t kValueMax = (std::uint64_t{1} << 63) - 1;

}  // namespace

Expected<Decoded, VarintError> decode(ByteView input) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < input.size(); ++i) {
    if (i == kEncodedBytesMax) break;
    const std::uint8_t byte = input[i];
    value |= static_cast<std::uint64_t>(byte & kPayloadMask) << (kPayloadBits * i);
    if ((byte & kContinuation) == 0) {
      // A last group of zero (other than the lone byte 0x00) means the same
      // value had a shorter encoding.
      if (byte == 0 && i > 0) {
        return unexpected(VarintError{Errc::not_minimal,
                                      "varint has a trailing zero group at byte " + std::to_string(i)});
      }
      return Decoded{value, i + 1};
    }
  }
  if (input.size() >= kEncodedBytesMax) {
    return unexpected(VarintError{Errc::overlong, "varint longer than 9 bytes"});
  }
  return unexpected(VarintError{
      Errc::truncated, "input ended inside a varint after " + std::to_string(input.size()) + " bytes"});
}

void encode(std::uint64_t value, Bytes& out) {
  // Values above 2^63-1 have no encoding within the spec's 9 bytes; asking for
  // one is the caller's bug, not a peer's, so it traps like an assertion.
  if (value > kValueMax) __builtin_trap();
  while (value >= kContinuation) {
    out.push_back(static_cast<std::uint8_t>((value & kPayloadMask) | kContinuation));
    value >>= kPayloadBits;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

std::size_t encoded_length(std::uint64_t value) {
  if (value > kValueMax) __builtin_trap();
  std::size_t length = 1;
  while (value >= kContinuation) {
    value >>= kPayloadBits;
    ++length;
  }
  return length;
}

}  // namespace taho::varint
