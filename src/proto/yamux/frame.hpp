// The Yamux frame header (hashicorp/yamux spec.md, libp2p/specs yamux): 12
// bytes, big-endian: version, type, flags, stream id, length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.hpp"

namespace taho::yamux {

using StreamId = std::uint32_t;

inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::uint8_t kVersion = 0;
// Every stream starts with this receive window on both sides (spec "Flow Control").
inline constexpr std::uint32_t kInitialWindowBytes = 256 * 1024;
inline constexpr StreamId kSessionStreamId = 0;  // Ping and GoAway

enum class FrameType : std::uint8_t { data = 0, window_update = 1, ping = 2, go_away = 3 };
inline constexpr std::uint8_t kFrameTypeMax = 3;

namespace flags {
inline constexpr std::uint16_t syn = 0x1;  // opens a stream; a ping request
inline constexpr std::uint16_t ack = 0x2;  // accepts a stream; a ping answer
inline constexpr std::uint16_t fin = 0x4;  // half-close
inline constexpr std::uint16_t rst = 0x8;  // reset
}  // namespace flags

// The GoAway frame's length field.
enum class GoAwayCode : std::uint32_t { normal = 0, protocol_error = 1, internal_error = 2 };

struct Header {
  std::uint8_t version = kVersion;
  FrameType type = FrameType::data;
  std::uint16_t flags = 0;
  StreamId stream = 0;
  // Data: payload bytes; WindowUpdate: window delta; Ping: opaque value;
  // GoAway: error code.
  std::uint32_t length = 0;

  bool has(std::uint16_t flag) const { return (flags & flag) != 0; }
};

void append_header(const Header& header, Bytes& out);
// Reads the fields as they are; the session validates version and type.
// `type` holds the raw byte, which may be outside the enum.
Header decode_header(std::span<const std::uint8_t, kHeaderBytes> bytes);

}  // namespace taho::yamux
