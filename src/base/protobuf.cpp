#include "base/protobuf.hpp"

#include <limits>
#include <string>

namespace taho::pb {
namespace {

// Protobuf varints carry full 64-bit values: up to 10 groups of 7 bits, the
// tenth holding only the top bit. Unlike multiformats varints, protobuf
// accepts non-minimal encodings, so we do too (other encoders may pad).
constexpr std::size_t kVarintBytesMax = 10;
constexpr std::uint8_t kContinuation = 0x80;
constexpr std::uint8_t kPayloadMask = 0x7f;
constexpr std::uint64_t kFieldNumberMax = (std::uint64_t{1} << 29) - 1;
constexpr unsigned kTypeBits = 3;
constexpr std::uint64_t kTypeMask = 0x7;

void append_varint(Bytes& out, std::uint64_t value) {
  while (value >= kContinuation) {
    out.push_back(static_cast<std::uint8_t>((value & kPayloadMask) | kContinuation));
    value >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(value));
}

void append_tag(Bytes& out, std::uint32_t field, WireType type) {
  append_varint(out, std::uint64_t{field} << kTypeBits | static_cast<std::uint64_t>(type));
}

void append_little_endian(Bytes& out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) {
    out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  }
}

DecodeError error(Errc code, std::string detail) { return DecodeError{code, std::move(detail)}; }

Unexpected<FieldError> field_error(FieldErrc code, std::string_view name, std::string_view problem) {
  std::string detail(name);
  detail += problem;
  return unexpected(FieldError{code, std::move(detail)});
}

// Reads one protobuf varint from the front of `rest`, advancing it.
Expected<std::uint64_t, DecodeError> read_varint(ByteView& rest, const char* what) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < rest.size() && i < kVarintBytesMax; ++i) {
    const std::uint8_t byte = rest[i];
    if (i == kVarintBytesMax - 1 && byte > 1) {
      return unexpected(error(Errc::bad_varint, std::string(what) + " varint overflows 64 bits"));
    }
    value |= static_cast<std::uint64_t>(byte & kPayloadMask) << (7 * i);
    if ((byte & kContinuation) == 0) {
      rest = rest.subspan(i + 1);
      return value;
    }
  }
  if (rest.size() >= kVarintBytesMax) {
    return unexpected(error(Errc::bad_varint, std::string(what) + " varint longer than 10 bytes"));
  }
  return unexpected(error(Errc::truncated, std::string("message ends inside ") + what + " varint"));
}

std::uint64_t read_little_endian(ByteView bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) value |= std::uint64_t{bytes[i]} << (8 * i);
  return value;
}

}  // namespace

void Writer::varint(std::uint32_t field, std::uint64_t value) {
  append_tag(out_, field, WireType::varint);
  append_varint(out_, value);
}

void Writer::bytes(std::uint32_t field, ByteView value) {
  append_tag(out_, field, WireType::length_delimited);
  append_varint(out_, value.size());
  append(out_, value);
}

void Writer::fixed64(std::uint32_t field, std::uint64_t value) {
  append_tag(out_, field, WireType::fixed64);
  append_little_endian(out_, value, 8);
}

void Writer::fixed32(std::uint32_t field, std::uint32_t value) {
  append_tag(out_, field, WireType::fixed32);
  append_little_endian(out_, value, 4);
}

Expected<Field, DecodeError> Reader::next() {
  // Work on a copy so a failed read leaves the reader where it was.
  ByteView rest = rest_;
  if (rest.empty()) return unexpected(error(Errc::truncated, "no field left in message"));
  auto tag = read_varint(rest, "field tag");
  if (!tag) return unexpected(std::move(tag).error());

  const std::uint64_t number = *tag >> kTypeBits;
  if (number == 0 || number > kFieldNumberMax) {
    return unexpected(error(Errc::bad_field_number, "field number " + std::to_string(number) + " out of range"));
  }
  Field field;
  field.number = static_cast<std::uint32_t>(number);
  const std::uint64_t type = *tag & kTypeMask;
  const std::string where = " in field " + std::to_string(number);

  switch (type) {
    case static_cast<std::uint64_t>(WireType::varint): {
      auto value = read_varint(rest, "value");
      if (!value) {
        auto failure = std::move(value).error();
        failure.detail += where;
        return unexpected(std::move(failure));
      }
      field.type = WireType::varint;
      field.integer = *value;
      break;
    }
    case static_cast<std::uint64_t>(WireType::fixed64):
    case static_cast<std::uint64_t>(WireType::fixed32): {
      const bool wide = type == static_cast<std::uint64_t>(WireType::fixed64);
      const std::size_t width = wide ? 8 : 4;
      if (rest.size() < width) {
        return unexpected(error(Errc::truncated, "message ends inside fixed" + std::to_string(width * 8) + where));
      }
      field.type = wide ? WireType::fixed64 : WireType::fixed32;
      field.integer = read_little_endian(rest.first(width));
      rest = rest.subspan(width);
      break;
    }
    case static_cast<std::uint64_t>(WireType::length_delimited): {
      auto length = read_varint(rest, "length");
      if (!length) {
        auto failure = std::move(length).error();
        failure.detail += where;
        return unexpected(std::move(failure));
      }
      if (*length > rest.size()) {
        return unexpected(error(Errc::truncated, "length " + std::to_string(*length) + " exceeds the " +
                                                     std::to_string(rest.size()) + " bytes left" + where));
      }
      field.type = WireType::length_delimited;
      field.bytes = rest.first(static_cast<std::size_t>(*length));
      rest = rest.subspan(static_cast<std::size_t>(*length));
      break;
    }
    default:
      return unexpected(error(Errc::bad_wire_type, "wire type " + std::to_string(type) + where));
  }
  rest_ = rest;
  return field;
}

Expected<ByteView, FieldError> bytes_of(const Field& field, std::size_t bytes_max, std::string_view name) {
  if (field.type != WireType::length_delimited) return field_error(FieldErrc::wrong_type, name, " is not bytes");
  if (field.bytes.size() > bytes_max) return field_error(FieldErrc::too_large, name, " over its limit");
  return field.bytes;
}

Expected<ByteView, FieldError> message_of(const Field& field, std::string_view name) {
  if (field.type != WireType::length_delimited) return field_error(FieldErrc::wrong_type, name, " is not a message");
  return field.bytes;
}

Expected<std::uint64_t, FieldError> varint_of(const Field& field, std::string_view name) {
  if (field.type != WireType::varint) return field_error(FieldErrc::wrong_type, name, " is not a varint");
  return field.integer;
}

Expected<std::uint32_t, FieldError> int32_enum_of(const Field& field, std::string_view name) {
  auto value = varint_of(field, name);
  if (!value) return unexpected(std::move(value).error());
  if (*value > static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())) {
    return field_error(FieldErrc::out_of_range, name, " out of range");
  }
  return static_cast<std::uint32_t>(*value);
}

}  // namespace taho::pb
