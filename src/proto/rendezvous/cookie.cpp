#include "proto/rendezvous/cookie.hpp"

#include <cstddef>

#include "proto/rendezvous/message.hpp"

namespace taho::rendezvous {
namespace {

constexpr std::size_t head_bytes = 8;
constexpr unsigned position_bits = 48;

}  // namespace

Bytes encode_cookie(const Cookie& cookie) {
  const std::uint64_t head = (std::uint64_t{cookie.epoch} << position_bits) | (cookie.position & cookie_position_max);
  Bytes bytes;
  bytes.reserve(head_bytes + cookie.ns.size());
  for (std::size_t i = 0; i < head_bytes; ++i) {
    bytes.push_back(static_cast<std::uint8_t>(head >> (8 * (head_bytes - 1 - i))));
  }
  append(bytes, as_bytes(cookie.ns));
  return bytes;
}

std::optional<Cookie> decode_cookie(ByteView bytes) {
  if (bytes.size() < head_bytes || bytes.size() - head_bytes > namespace_bytes_max) return std::nullopt;
  std::uint64_t head = 0;
  for (std::size_t i = 0; i < head_bytes; ++i) head = (head << 8) | bytes[i];
  return Cookie{.epoch = static_cast<std::uint16_t>(head >> position_bits),
                .position = head & cookie_position_max,
                .ns = std::string(as_text(bytes.subspan(head_bytes)))};
}

}  // namespace taho::rendezvous
