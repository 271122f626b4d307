#include "proto/noise/framing.hpp"

#include <algorithm>

namespace taho::noise {
namespace {

std::size_t read_length(ByteView header) { return std::size_t{header[0]} << 8 | header[1]; }

}  // namespace

void append_frame_header(Bytes& out, std::size_t length) {
  if (length > frame_bytes_max) __builtin_trap();  // our bug: callers split first
  out.push_back(static_cast<std::uint8_t>(length >> 8));
  out.push_back(static_cast<std::uint8_t>(length & 0xff));
}

std::optional<ByteView> FrameDecoder::next(ByteView input, std::size_t& consumed) {
  consumed = 0;
  if (release_buffer_) {
    buffer_.clear();
    release_buffer_ = false;
  }
  if (buffer_.empty() && input.size() >= frame_header_bytes) {
    const std::size_t length = read_length(input);
    if (input.size() >= frame_header_bytes + length) {
      consumed = frame_header_bytes + length;
      return input.subspan(frame_header_bytes, length);
    }
  }
  // The frame straddles calls: gather the header first, then the body.
  if (buffer_.size() < frame_header_bytes) {
    const std::size_t take = std::min(frame_header_bytes - buffer_.size(), input.size());
    buffer_.insert(buffer_.end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(take));
    consumed += take;
    if (buffer_.size() < frame_header_bytes) return std::nullopt;
    // One allocation for the whole frame, bounded by the 16-bit length.
    buffer_.reserve(frame_header_bytes + read_length(buffer_));
  }
  const std::size_t frame_end = frame_header_bytes + read_length(buffer_);
  const ByteView rest = input.subspan(consumed);
  const std::size_t take = std::min(frame_end - buffer_.size(), rest.size());
  buffer_.insert(buffer_.end(), rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(take));
  consumed += take;
  if (buffer_.size() < frame_end) return std::nullopt;
  release_buffer_ = true;
  return ByteView(buffer_).subspan(frame_header_bytes);
}

}  // namespace taho::noise
