#include "proto/rendezvous/namespace_name.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

#include "proto/rendezvous/message.hpp"

namespace taho::rendezvous {

namespace {

// How a UTF-8 sequence starts: its length and the bits its lead byte holds.
struct Lead {
  std::size_t continuation_bytes = 0;
  std::uint32_t bits = 0;
  std::uint32_t smallest = 0;  // below this the sequence is overlong
};

std::optional<Lead> lead_of(std::uint8_t byte) {
  if ((byte & 0xE0) == 0xC0) return Lead{1, byte & 0x1Fu, 0x80};
  if ((byte & 0xF0) == 0xE0) return Lead{2, byte & 0x0Fu, 0x800};
  if ((byte & 0xF8) == 0xF0) return Lead{3, byte & 0x07u, 0x10000};
  return std::nullopt;  // a continuation byte, or 0xF8 and above
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<std::uint8_t>(text[i]);
    if (byte < 0x80) {
      ++i;
      continue;
    }
    const auto lead = lead_of(byte);
    if (!lead || text.size() - i - 1 < lead->continuation_bytes) return false;
    std::uint32_t code_point = lead->bits;
    for (std::size_t k = 1; k <= lead->continuation_bytes; ++k) {
      const auto next = static_cast<std::uint8_t>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    if (code_point < lead->smallest || code_point > 0x10FFFF) return false;
    if (code_point >= 0xD800 && code_point <= 0xDFFF) return false;  // UTF-16 surrogates
    i += 1 + lead->continuation_bytes;
  }
  return true;
}

bool is_valid_namespace(std::string_view ns) {
  return !ns.empty() && ns.size() <= namespace_bytes_max && is_valid_utf8(ns);
}

}  // namespace taho::rendezvous
