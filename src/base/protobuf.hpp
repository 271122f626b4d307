// A minimal protobuf wire codec for libp2p's few messages (PublicKey, noise
// payload, identify, kad, gossipsub RPC ...). Hand-written so the cores stay
// free of libprotobuf and build for wasm (DESIGN.md §1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::pb {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

enum class Errc {
  truncated,         // a field runs past the end of the message
  bad_varint,        // malformed or overlong varint
  bad_wire_type,     // groups (3, 4) or unknown wire types
  bad_field_number,  // field number 0 or above 2^29-1
};
using DecodeError = Error<Errc>;

// Appends fields to a buffer. Field order is the caller's.
class Writer {
 public:
  void varint(std::uint32_t field, std::uint64_t value);
  void boolean(std::uint32_t field, bool value) { varint(field, value ? 1 : 0); }
  void bytes(std::uint32_t field, ByteView value);
  void string(std::uint32_t field, std::string_view value) { bytes(field, as_bytes(value)); }
  void fixed64(std::uint32_t field, std::uint64_t value);
  void fixed32(std::uint32_t field, std::uint32_t value);
  const Bytes& data() const { return out_; }
  Bytes take() { return std::move(out_); }

 private:
  Bytes out_;
};

struct Field {
  std::uint32_t number = 0;
  WireType type = WireType::varint;
  std::uint64_t integer = 0;  // varint, fixed32, fixed64
  ByteView bytes;             // length_delimited: a view into the message
};

// Reads fields one by one; unknown fields are the caller's to skip (just
// ignore them). The views returned point into the input.
class Reader {
 public:
  explicit Reader(ByteView message) : rest_(message) {}
  bool done() const { return rest_.empty(); }
  // Reads the next field. Call only when !done().
  Expected<Field, DecodeError> next();

 private:
  ByteView rest_;
};

// Why a known field was refused by the checks below. Codecs report these
// with their own error codes; the detail names the field.
enum class FieldErrc {
  wrong_type,    // not the wire type the schema gives the field
  too_large,     // a length-delimited value over its bound
  out_of_range,  // an enum value that is not an int32 the schema can hold
};
using FieldError = Error<FieldErrc>;

// The value of a length-delimited field (bytes, string) of at most
// `bytes_max` bytes. `name` is the field's name in error details.
Expected<ByteView, FieldError> bytes_of(const Field& field, std::size_t bytes_max, std::string_view name);
// The body of an embedded message field, bounded by its enclosing message.
Expected<ByteView, FieldError> message_of(const Field& field, std::string_view name);
// The value of a varint field (uint32, uint64, bool ...).
Expected<std::uint64_t, FieldError> varint_of(const Field& field, std::string_view name);
// The value of an enum field. Enums are int32 on the wire: anything wider,
// or negative (which protobuf sign-extends to ten bytes), is out of range.
Expected<std::uint32_t, FieldError> int32_enum_of(const Field& field, std::string_view name);

}  // namespace taho::pb
