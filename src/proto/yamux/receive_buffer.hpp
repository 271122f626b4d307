// The bytes a stream received and the application has not read yet: a queue
// of chunks, so a frame's payload is copied once on arrival and handed to the
// reader by move when it asks for at least a whole chunk.
#pragma once

#include <cstddef>
#include <deque>

#include "base/bytes.hpp"

namespace taho::yamux {

class ReceiveBuffer {
 public:
  // Small pieces (a peer or a socket fragmenting frames) are appended to the
  // last chunk below this size, so per-chunk overhead stays bounded.
  static constexpr std::size_t kCoalesceBytes = 16 * 1024;

  void push(ByteView bytes);
  // Up to `bytes_max` bytes from the front; a whole chunk by move when it fits.
  Bytes pop(std::size_t bytes_max);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  void clear();

 private:
  std::deque<Bytes> chunks_;
  std::size_t front_offset_ = 0;  // bytes of chunks_.front() already read
  std::size_t size_ = 0;
};

}  // namespace taho::yamux
