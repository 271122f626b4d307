// uvarint-length-prefixed frames, the framing of libp2p's request/response
// protocols (kad, rendezvous, identify ...): prefix the body on the way out,
// and split a stream of any fragmentation back into bodies on the way in,
// holding at most one prefix plus one body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho {

// The uvarint length of `body`, then `body`.
Bytes length_prefixed(ByteView body);

namespace frame {
enum class Errc {
  bad_length_prefix,  // the uvarint prefix is malformed (overlong, not minimal)
  too_large,          // the prefix announces more than body_bytes_max
};
}  // namespace frame
using FrameError = Error<frame::Errc>;

class FrameSplitter {
 public:
  explicit FrameSplitter(std::size_t body_bytes_max) : body_bytes_max_(body_bytes_max) {}

  // Takes bytes from the front of `bytes` up to the end of the next frame.
  // Returns that frame's body (valid until the next call) once it is
  // complete, or nullopt when `bytes` ran out first (then all of it was
  // taken). After an error the splitter is unusable.
  Expected<std::optional<ByteView>, FrameError> next(ByteView& bytes);
  // True while part of a frame is buffered: a stream ending now is truncated.
  bool mid_frame() const { return !buffer_.empty() && !complete_; }

 private:
  std::size_t body_bytes_max_;
  Bytes buffer_;  // the prefix and body of the frame being read
  bool complete_ = false;  // buffer_ holds a whole frame, handed out by the last next()
};

}  // namespace taho
