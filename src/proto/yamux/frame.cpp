#include "proto/yamux/frame.hpp"

namespace taho::yamux {
namespace {

void put_u16(std::uint16_t value, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(value >> 8);
  out[1] = static_cast<std::uint8_t>(value);
}

void put_u32(std::uint32_t value, std::uint8_t* out) {
  out[0] = static_cast<std::uint8_t>(value >> 24);
  out[1] = static_cast<std::uint8_t>(value >> 16);
  out[2] = static_cast<std::uint8_t>(value >> 8);
  out[3] = static_cast<std::uint8_t>(value);
}

std::uint32_t get_u32(const std::uint8_t* in) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) |
         std::uint32_t{in[3]};
}

}  // namespace

void append_header(const Header& header, Bytes& out) {
  std::uint8_t bytes[kHeaderBytes];
  bytes[0] = header.version;
  bytes[1] = static_cast<std::uint8_t>(header.type);
  put_u16(header.flags, bytes + 2);
  put_u32(header.stream, bytes + 4);
  put_u32(header.length, bytes + 8);
  out.insert(out.end(), bytes, bytes + kHeaderBytes);
}

Header decode_header(std::span<const std::uint8_t, kHeaderBytes> bytes) {
  Header header;
  header.version = bytes[0];
  header.type = static_cast<FrameType>(bytes[1]);
  header.flags = static_cast<std::uint16_t>((bytes[2] << 8) | bytes[3]);
  header.stream = get_u32(bytes.data() + 4);
  header.length = get_u32(bytes.data() + 8);
  return header;
}

}  // namespace taho::yamux
