#include "base/length_prefixed.hpp"

#include <algorithm>

#include "base/varint.hpp"

namespace taho {

Bytes length_prefixed(ByteView body) {
  Bytes frame;
  varint::encode(body.size(), frame);
  append(frame, body);
  return frame;
}

Expected<std::optional<ByteView>, FrameError> FrameSplitter::next(ByteView& bytes) {
  if (complete_) {
    buffer_.clear();
    complete_ = false;
  }
  while (true) {
    // Take only what completes the current frame, so the buffer never holds
    // more than one prefix plus one body.
    const auto prefix = varint::decode(buffer_);
    if (!prefix) {
      if (prefix.error().code != varint::Errc::truncated) {
        return unexpected(FrameError{frame::Errc::bad_length_prefix, prefix.error().detail});
      }
      if (bytes.empty()) return std::optional<ByteView>{};
      buffer_.push_back(bytes.front());
      bytes = bytes.subspan(1);
      continue;
    }
    if (prefix->value > body_bytes_max_) {
      return unexpected(FrameError{frame::Errc::too_large, "length prefix over the message size limit"});
    }
    const std::size_t frame_bytes = prefix->length + static_cast<std::size_t>(prefix->value);
    const std::size_t wanted = std::min(frame_bytes - buffer_.size(), bytes.size());
    append(buffer_, bytes.first(wanted));
    bytes = bytes.subspan(wanted);
    if (buffer_.size() < frame_bytes) return std::optional<ByteView>{};
    complete_ = true;
    return std::optional<ByteView>{ByteView(buffer_).subspan(prefix->length)};
  }
}

}  // namespace taho
