// libp2p Noise framing (libp2p noise spec, "Wire Format"): every handshake
// and transport message travels as a 2-byte big-endian length and that many
// bytes, at most 65535.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.hpp"

namespace taho::noise {

inline constexpr std::size_t frame_header_bytes = 2;
inline constexpr std::size_t frame_bytes_max = 65535;  // the message, without the header
inline constexpr std::size_t tag_bytes = 16;
inline constexpr std::size_t frame_plaintext_bytes_max = frame_bytes_max - tag_bytes;

// Appends the length header of a `length`-byte message (length ≤ frame_bytes_max).
void append_frame_header(Bytes& out, std::size_t length);

// Cuts a byte stream that arrives in arbitrary pieces into frames. A frame
// that arrives whole is returned as a view into the caller's input (no copy);
// one split across calls is gathered in a buffer that never exceeds
// frame_header_bytes + frame_bytes_max.
class FrameDecoder {
 public:
  // Takes bytes from the front of `input` until one frame is complete and
  // returns its message; `consumed` says how many bytes of `input` were used.
  // Returns nothing when `input` ran out first (all of it is then buffered).
  // The view stays valid until the next call or until `input` dies.
  std::optional<ByteView> next(ByteView input, std::size_t& consumed);

  // Bytes of a partial frame held from earlier calls.
  std::size_t buffered_bytes() const { return buffer_.size(); }

 private:
  Bytes buffer_;
  bool release_buffer_ = false;  // the last frame returned lives in buffer_
};

}  // namespace taho::noise
