#include "host/outbox.hpp"

namespace taho::host {

bool Outbox::push(ByteView bytes) {
  if (queued_bytes() + bytes.size() > bytes_max_) return false;
  if (sent_ > 0 && sent_ >= bytes_.size() / 2) {
    bytes_.erase(bytes_.begin(), bytes_.begin() + static_cast<std::ptrdiff_t>(sent_));
    sent_ = 0;
  }
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  return true;
}

Result<void> Outbox::flush(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                           swarm::StreamId stream) {
  while (sent_ < bytes_.size()) {
    auto written = swarm.write(now, connection, stream, ByteView(bytes_).subspan(sent_));
    if (!written) return fail(written.error().text);
    if (*written == 0) break;  // window full: StreamWritable follows
    sent_ += *written;
  }
  if (sent_ == bytes_.size()) {
    bytes_.clear();
    sent_ = 0;
  }
  return {};
}

}  // namespace taho::host
