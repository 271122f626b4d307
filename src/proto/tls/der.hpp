// A minimal, bounded DER reader and writer: just what a libp2p certificate
// and its SignedKey need (single-byte tags, definite minimal lengths). Every
// element is a view into the caller's buffer; nothing is copied or allocated
// while reading.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "proto/tls/errors.hpp"

namespace taho::tls::der {

// Universal tags and the context tags X.509 uses.
inline constexpr std::uint8_t tag_boolean = 0x01;
inline constexpr std::uint8_t tag_integer = 0x02;
inline constexpr std::uint8_t tag_bit_string = 0x03;
inline constexpr std::uint8_t tag_octet_string = 0x04;
inline constexpr std::uint8_t tag_oid = 0x06;
inline constexpr std::uint8_t tag_utc_time = 0x17;
inline constexpr std::uint8_t tag_generalized_time = 0x18;
inline constexpr std::uint8_t tag_sequence = 0x30;
inline constexpr std::uint8_t tag_set = 0x31;

// Element lengths above this are refused outright: nothing we parse is close.
inline constexpr std::size_t element_bytes_max = 1u << 20;

struct Element {
  std::uint8_t tag = 0;
  ByteView value;    // the contents
  ByteView encoded;  // tag, length and contents: what a signature covers
};

class Reader {
 public:
  explicit Reader(ByteView input) : rest_(input) {}

  bool at_end() const { return rest_.empty(); }
  std::optional<std::uint8_t> peek_tag() const;
  // The next element, whatever its tag.
  Expected<Element, TlsError> read();
  // The next element, which must carry `tag`.
  Expected<Element, TlsError> read(std::uint8_t tag);

 private:
  ByteView rest_;
};

// Appends one element with its minimal DER length.
void write(Bytes& out, std::uint8_t tag, ByteView value);

}  // namespace taho::tls::der
