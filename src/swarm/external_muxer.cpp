#include "swarm/external_muxer.hpp"

#include <algorithm>
#include <limits>

namespace taho::swarm {

ExternalMuxer::Stream& ExternalMuxer::create(StreamId id) {
  Stream& stream = streams_[id];
  stream.send_credit = options_.stream_send_bytes_max;
  return stream;
}

std::optional<StreamId> ExternalMuxer::handle_opened() {
  if (closed_ || going_away_ || streams_.size() >= options_.streams_max ||
      backlog_.size() >= options_.incoming_backlog_max || next_id_ == std::numeric_limits<StreamId>::max()) {
    return std::nullopt;
  }
  const StreamId id = next_id_++;
  create(id);
  backlog_.push_back(id);
  events_.push_back(muxer_event::StreamIncoming{id});
  return id;
}

void ExternalMuxer::handle_data(StreamId id, ByteView bytes) {
  auto found = streams_.find(id);
  if (found == streams_.end() || bytes.empty()) return;
  Stream& stream = found->second;
  if (stream.remote_fin || bytes.size() > receive_room(id)) {
    // The driver broke its contract: the stream cannot be trusted any more.
    commands_.push_back(stream_command::Reset{id});
    streams_.erase(found);
    events_.push_back(muxer_event::StreamReset{id});
    return;
  }
  if (stream.received_consumed > 0) {  // keep the buffer to the unread bytes
    stream.received.erase(stream.received.begin(),
                          stream.received.begin() + static_cast<std::ptrdiff_t>(stream.received_consumed));
    stream.received_consumed = 0;
  }
  append(stream.received, bytes);
  if (receive_room(id) == 0) stream.reading_paused = true;
  signal_readable(id, stream);
}

void ExternalMuxer::handle_end(StreamId id) {
  auto found = streams_.find(id);
  if (found == streams_.end() || found->second.remote_fin) return;
  found->second.remote_fin = true;
  signal_readable(id, found->second);
}

void ExternalMuxer::handle_reset(StreamId id) {
  if (streams_.erase(id) == 0) return;
  backlog_.erase(std::remove(backlog_.begin(), backlog_.end(), id), backlog_.end());
  events_.push_back(muxer_event::StreamReset{id});
}

void ExternalMuxer::handle_sent(StreamId id, std::size_t bytes) {
  auto found = streams_.find(id);
  if (found == streams_.end()) return;
  Stream& stream = found->second;
  stream.send_credit = std::min(options_.stream_send_bytes_max, stream.send_credit + bytes);
  if (stream.write_blocked && stream.send_credit > 0) {
    stream.write_blocked = false;
    events_.push_back(muxer_event::StreamWritable{id});
  }
}

std::size_t ExternalMuxer::receive_room(StreamId id) const {
  auto found = streams_.find(id);
  if (found == streams_.end() || found->second.remote_fin) return 0;
  const std::size_t held = buffered(found->second);
  return held >= options_.stream_receive_bytes_max ? 0 : options_.stream_receive_bytes_max - held;
}

void ExternalMuxer::signal_readable(StreamId id, Stream& stream) {
  if (stream.readable_signalled) return;
  stream.readable_signalled = true;
  events_.push_back(muxer_event::StreamReadable{id});
}

Result<StreamId> ExternalMuxer::open_stream() {
  if (closed_) return fail("the connection is closed");
  if (going_away_) return fail("the connection is going away");
  if (streams_.size() >= options_.streams_max) return fail("too many streams (streams_max)");
  if (next_id_ == std::numeric_limits<StreamId>::max()) return fail("stream ids exhausted");
  const StreamId id = next_id_++;
  create(id);
  commands_.push_back(stream_command::Open{id});
  return id;
}

std::optional<StreamId> ExternalMuxer::accept_stream() {
  if (backlog_.empty()) return std::nullopt;
  const StreamId id = backlog_.front();
  backlog_.pop_front();
  return id;
}

Result<std::size_t> ExternalMuxer::write(StreamId id, ByteView bytes) {
  auto found = streams_.find(id);
  if (found == streams_.end()) return fail("unknown stream");
  Stream& stream = found->second;
  if (stream.local_fin) return fail("the stream is closed for writing");
  const std::size_t take = std::min(bytes.size(), stream.send_credit);
  if (take > 0) {
    commands_.push_back(stream_command::Write{id, Bytes(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take))});
    stream.send_credit -= take;
  }
  if (take < bytes.size()) stream.write_blocked = true;
  return take;
}

Result<MuxerRead> ExternalMuxer::read(StreamId id, std::size_t bytes_max) {
  auto found = streams_.find(id);
  if (found == streams_.end()) return fail("unknown stream");
  Stream& stream = found->second;
  MuxerRead result;
  const std::size_t take = std::min(bytes_max, buffered(stream));
  if (take > 0) {
    const auto begin = stream.received.begin() + static_cast<std::ptrdiff_t>(stream.received_consumed);
    result.data.assign(begin, begin + static_cast<std::ptrdiff_t>(take));
    stream.received_consumed += take;
    if (stream.received_consumed == stream.received.size()) {
      stream.received.clear();
      stream.received_consumed = 0;
    }
  }
  if (buffered(stream) == 0) {
    stream.readable_signalled = false;
    if (stream.remote_fin && !stream.end_read) {
      stream.end_read = true;
      result.finished = true;
    }
  }
  if (stream.reading_paused && receive_room(id) > 0) {
    stream.reading_paused = false;
    commands_.push_back(stream_command::ResumeReading{id});
  }
  if (result.finished) finish_if_done(id);
  return result;
}

Result<void> ExternalMuxer::close_write(StreamId id) {
  auto found = streams_.find(id);
  if (found == streams_.end()) return fail("unknown stream");
  if (found->second.local_fin) return {};
  found->second.local_fin = true;
  commands_.push_back(stream_command::CloseWrite{id});
  finish_if_done(id);
  return {};
}

void ExternalMuxer::reset(StreamId id) {
  if (streams_.erase(id) == 0) return;
  backlog_.erase(std::remove(backlog_.begin(), backlog_.end(), id), backlog_.end());
  commands_.push_back(stream_command::Reset{id});
}

void ExternalMuxer::finish_if_done(StreamId id) {
  auto found = streams_.find(id);
  if (found == streams_.end() || !found->second.local_fin || !found->second.end_read) return;
  streams_.erase(found);
  events_.push_back(muxer_event::StreamClosed{id});
}

void ExternalMuxer::handle_transport_closed(Instant) {
  if (closed_) return;
  closed_ = true;
  streams_.clear();
  backlog_.clear();
  commands_.clear();
  events_.push_back(muxer_event::Closed{{ConnectionErrc::transport_closed, "the connection was closed"}});
}

std::optional<StreamCommand> ExternalMuxer::poll_command() {
  std::optional<StreamCommand> next;
  if (commands_.empty()) return next;
  next.emplace(std::move(commands_.front()));
  commands_.pop_front();
  return next;
}

std::optional<MuxerEvent> ExternalMuxer::poll_event() {
  if (events_.empty()) return std::nullopt;
  MuxerEvent next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::optional<MuxerStreamState> ExternalMuxer::stream_state(StreamId id) const {
  auto found = streams_.find(id);
  if (found == streams_.end()) return std::nullopt;
  return MuxerStreamState{buffered(found->second), found->second.remote_fin};
}

}  // namespace taho::swarm
