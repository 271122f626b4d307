#include "host/identify_push.hpp"

#include "proto/identify/remote_identity.hpp"

namespace taho::host {

namespace {
constexpr std::size_t kReadBytes = 16 * 1024;
}

void IdentifyPush::push(const PeerId& peer, Bytes message) {
  if (pending_.size() >= pending_max) return;  // a later push carries the same news
  const std::uint64_t token = next_token_++;
  pending_.emplace(token, std::move(message));
  opens_.push_back(IdentifyPushOpen{token, peer});
}

void IdentifyPush::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                      swarm::ConnectionId connection, swarm::StreamId stream) {
  auto found = pending_.find(token);
  if (found == pending_.end()) {
    swarm.reset(now, connection, stream);
    return;
  }
  // Identify messages are at most a few KiB: they fit the stream's initial window.
  auto written = swarm.write(now, connection, stream, found->second);
  pending_.erase(found);
  if (!written || *written == 0) {
    swarm.reset(now, connection, stream);
    return;
  }
  (void)swarm.close_write(now, connection, stream);
  ++pushes_sent_;
}

void IdentifyPush::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                     const swarm::swarm_event::StreamOpened& opened) {
  if (inbound_.size() >= inbound_streams_max) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  const StreamKey key{opened.connection, opened.stream};
  inbound_.emplace(key, Inbound{opened.peer, identify::Reader{}});
  (void)swarm.close_write(now, key.first, key.second);  // we only listen
  pump(now, swarm, key);
}

void IdentifyPush::pump(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = inbound_.find(key);
  if (found == inbound_.end()) return;
  Inbound& inbound = found->second;
  while (true) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk || (!chunk->data.empty() && !inbound.reader.handle_data(chunk->data))) {
      swarm.reset(now, key.first, key.second);
      inbound_.erase(found);
      return;
    }
    if (chunk->finished) {
      auto info = inbound.reader.handle_end();
      // A push that contradicts the connection's authenticated identity is ignored.
      if (info && identify::verify_remote(*info, inbound.peer)) {
        received_.push_back(IdentifyPushReceived{inbound.peer, std::move(*info)});
      }
      inbound_.erase(found);
      return;
    }
    if (chunk->data.empty()) return;
  }
}

bool IdentifyPush::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                   swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (!inbound_.count(key)) return false;
  pump(now, swarm, key);
  if (closed) inbound_.erase(key);
  return true;
}

std::optional<IdentifyPushOpen> IdentifyPush::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = opens_.front();
  opens_.pop_front();
  return next;
}

std::optional<IdentifyPushReceived> IdentifyPush::poll_received() {
  if (received_.empty()) return std::nullopt;
  auto next = std::move(received_.front());
  received_.pop_front();
  return next;
}

}  // namespace taho::host
