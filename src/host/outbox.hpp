// Bytes a behaviour wants written on one stream, kept until the stream's
// window takes them: the swarm's write() accepts what fits and the rest
// waits for StreamWritable. Bounded so a peer that stops reading cannot
// make us buffer without end.
#pragma once

#include <cstddef>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

class Outbox {
 public:
  explicit Outbox(std::size_t bytes_max) : bytes_max_(bytes_max) {}

  // False when the bytes would go over bytes_max (nothing is queued then).
  bool push(ByteView bytes);
  // Writes as much as the stream takes; an error means the stream is gone.
  Result<void> flush(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream);
  bool empty() const { return queued_bytes() == 0; }
  std::size_t queued_bytes() const { return bytes_.size() - sent_; }

 private:
  std::size_t bytes_max_;
  Bytes bytes_;
  std::size_t sent_ = 0;  // bytes_[0, sent_) are written already
};

}  // namespace taho::host
