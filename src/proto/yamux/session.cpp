#include "proto/yamux/session.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

namespace taho::yamux {
namespace {

constexpr std::uint32_t kU32Max = std::numeric_limits<std::uint32_t>::max();
// consume_transmit() keeps its buffer for the next frames only while it
// carried at least this much (bulk data) and was a quarter full.
constexpr std::size_t kBulkTransmitBytes = 16 * 1024;

std::string id_text(StreamId id) { return "stream " + std::to_string(id); }

}  // namespace

Session::Session(Role role, Instant now, Options options)
    : role_(role), options_(options), now_(now), next_outbound_id_(role == Role::client ? 1 : 2) {
  next_keepalive_at_ = now + options_.keepalive_interval;
  if (options_.ping_on_start) send_ping();
}

// ---------------------------------------------------------------- input

void Session::handle_input(Instant now, ByteView bytes) {
  now_ = std::max(now_, now);
  while (!bytes.empty() && !closed_) {
    if (payload_remaining_ > 0) {
      const std::size_t taken = std::min<std::size_t>(payload_remaining_, bytes.size());
      if (!payload_discard_) deliver(payload_stream_, bytes.first(taken));
      bytes = bytes.subspan(taken);
      payload_remaining_ -= static_cast<std::uint32_t>(taken);
      if (payload_remaining_ == 0 && payload_fin_ && !payload_discard_) {
        if (Stream* stream = find(payload_stream_)) on_remote_fin(payload_stream_, *stream);
      }
      continue;
    }
    Header header;
    if (header_filled_ == 0 && bytes.size() >= kHeaderBytes) {
      header = decode_header(bytes.first<kHeaderBytes>());
      bytes = bytes.subspan(kHeaderBytes);
    } else {
      const std::size_t taken = std::min(kHeaderBytes - header_filled_, bytes.size());
      std::copy_n(bytes.begin(), taken, header_bytes_ + header_filled_);
      header_filled_ += taken;
      bytes = bytes.subspan(taken);
      if (header_filled_ < kHeaderBytes) break;
      header_filled_ = 0;
      header = decode_header(std::span<const std::uint8_t, kHeaderBytes>(header_bytes_, kHeaderBytes));
    }
    process_header(header);
  }
  if (!closed_ && transmit_.size() > options_.transmit_bytes_max + options_.transmit_control_bytes_max) {
    end_session(Errc::transmit_overflow,
                std::to_string(transmit_.size()) + " bytes queued for a peer that does not read");
  }
}

void Session::handle_timeout(Instant now) {
  now_ = std::max(now_, now);
  if (closed_) return;
  if (ping_outstanding_) {
    if (now_ >= ping_sent_at_ + options_.ping_timeout) {
      end_session(Errc::keepalive_timeout, "ping " + std::to_string(ping_opaque_) + " unanswered");
    }
    return;
  }
  if (options_.keepalive_interval > Duration::zero() && now_ >= next_keepalive_at_) send_ping();
}

void Session::handle_transport_closed(Instant now) {
  now_ = std::max(now_, now);
  end_session(Errc::transport_closed, "the connection ended");
}

void Session::process_header(const Header& header) {
  if (header.version != kVersion) {
    return violation(Errc::bad_version, "version " + std::to_string(header.version));
  }
  const auto type = static_cast<std::uint8_t>(header.type);
  if (type > kFrameTypeMax) return violation(Errc::bad_frame_type, "frame type " + std::to_string(type));
  switch (header.type) {
    case FrameType::data:
    case FrameType::window_update:
      return handle_stream_frame(header);
    case FrameType::ping:
      return handle_ping(header);
    case FrameType::go_away:
      return handle_go_away(header);
  }
}

void Session::handle_stream_frame(const Header& header) {
  const bool is_data = header.type == FrameType::data;
  const StreamId id = header.stream;
  if (is_data && header.length > options_.inbound_frame_bytes_max) {
    return violation(Errc::frame_too_large, "data frame of " + std::to_string(header.length) + " bytes");
  }
  Stream* stream = find(id);
  if (header.has(flags::syn)) {
    if (stream != nullptr) return violation(Errc::bad_stream_id, "SYN for open " + id_text(id));
    stream = open_inbound(header);
    if (stream == nullptr) return skip_payload(header);  // refused, or a violation ended the session
  } else if (stream == nullptr) {
    // Frames for a stream we already reset or closed may still be in flight.
    if (!was_opened(id)) return violation(Errc::unknown_stream, "frame for unopened " + id_text(id));
    return skip_payload(header);
  }

  if (header.has(flags::ack) && !stream->inbound && !stream->acked_by_peer) {
    stream->acked_by_peer = true;
    --unacked_outbound_;
  }
  if (header.has(flags::rst)) {
    remove_stream(id);
    events_.emplace_back(StreamReset{id});
    skip_payload(header);
    return close_if_idle();
  }
  if (is_data) {
    if (stream->remote_fin && header.length > 0) return violation(Errc::data_after_fin, id_text(id));
    if (header.length > stream->receive_window) {
      return violation(Errc::window_exceeded, std::to_string(header.length) + " bytes on " + id_text(id) +
                                                  " with a window of " + std::to_string(stream->receive_window));
    }
    stream->receive_window -= header.length;
    if (header.length > 0) {
      // FIN, if any, applies once the payload has arrived.
      payload_remaining_ = header.length;
      payload_stream_ = id;
      payload_discard_ = false;
      payload_fin_ = header.has(flags::fin);
      return;
    }
  } else {
    const std::uint64_t grown = std::uint64_t{stream->send_window} + header.length;
    stream->send_window = static_cast<std::uint32_t>(std::min<std::uint64_t>(grown, kU32Max));
    if (stream->write_blocked && stream->send_window > 0 && transmit_space() > 0) {
      stream->write_blocked = false;
      events_.emplace_back(StreamWritable{id});
    }
  }
  if (header.has(flags::fin)) on_remote_fin(id, *stream);
}

Session::Stream* Session::open_inbound(const Header& header) {
  const StreamId id = header.stream;
  if (id == kSessionStreamId || is_ours(id) || id <= highest_inbound_id_) {
    violation(Errc::bad_stream_id, "peer opened " + id_text(id));
    return nullptr;
  }
  highest_inbound_id_ = id;
  if (local_go_away_ || remote_go_away_ || streams_.size() >= options_.streams_max ||
      backlog_.size() >= options_.inbound_backlog_max) {
    ++refused_streams_;
    send_frame(FrameType::window_update, flags::rst, id, 0);
    return nullptr;
  }
  Stream& stream = create_stream(id, /*inbound=*/true);
  stream.ack_pending = true;
  backlog_.push_back(id);
  events_.emplace_back(StreamIncoming{id});
  return &stream;
}

void Session::skip_payload(const Header& header) {
  if (header.type != FrameType::data || header.length == 0 || closed_) return;
  payload_remaining_ = header.length;
  payload_discard_ = true;
  payload_fin_ = false;
}

void Session::deliver(StreamId id, ByteView payload) {
  Stream* stream = find(id);
  if (stream == nullptr) return;  // reset by the application mid-frame
  stream->received.push(payload);
  if (stream->accepted) signal_readable(id, *stream);
}

void Session::on_remote_fin(StreamId id, Stream& stream) {
  stream.remote_fin = true;
  if (stream.accepted) signal_readable(id, stream);
}

void Session::handle_ping(const Header& header) {
  if (header.has(flags::syn)) {
    send_frame(FrameType::ping, flags::ack, kSessionStreamId, header.length);
  } else if (header.has(flags::ack) && ping_outstanding_ && header.length == ping_opaque_) {
    ping_outstanding_ = false;
    rtt_ = now_ - ping_sent_at_;
    events_.emplace_back(PingRtt{*rtt_});
  }
}

void Session::handle_go_away(const Header& header) {
  switch (header.length) {
    case static_cast<std::uint32_t>(GoAwayCode::normal):
      if (!remote_go_away_) {
        remote_go_away_ = true;
        events_.emplace_back(GoAwayReceived{GoAwayCode::normal});
      }
      return close_if_idle();
    case static_cast<std::uint32_t>(GoAwayCode::protocol_error):
      return end_session(Errc::remote_protocol_error, "peer sent GoAway(protocol error)");
    case static_cast<std::uint32_t>(GoAwayCode::internal_error):
      return end_session(Errc::remote_internal_error, "peer sent GoAway(internal error)");
    default:
      return end_session(Errc::remote_unknown_error, "peer sent GoAway(" + std::to_string(header.length) + ")");
  }
}

// ---------------------------------------------------------------- commands

Expected<StreamId, CommandError> Session::open_stream() {
  if (closed_) return unexpected(CommandError{CommandErrc::session_closed});
  if (local_go_away_ || remote_go_away_) return unexpected(CommandError{CommandErrc::going_away});
  if (streams_.size() >= options_.streams_max) {
    return unexpected(CommandError{CommandErrc::too_many_streams, std::to_string(streams_.size()) + " open"});
  }
  if (unacked_outbound_ >= options_.outbound_unacked_max) {
    return unexpected(CommandError{CommandErrc::ack_backlog_full});
  }
  if (next_outbound_id_ > kU32Max) return unexpected(CommandError{CommandErrc::ids_exhausted});
  const auto id = static_cast<StreamId>(next_outbound_id_);
  next_outbound_id_ += 2;
  create_stream(id, /*inbound=*/false);
  ++unacked_outbound_;
  send_frame(FrameType::window_update, flags::syn, id, 0);
  return id;
}

std::optional<StreamId> Session::accept_stream() {
  while (!backlog_.empty()) {
    const StreamId id = backlog_.front();
    backlog_.pop_front();
    Stream* stream = find(id);
    if (stream == nullptr) continue;
    stream->accepted = true;
    send_frame(FrameType::window_update, take_ack(*stream), id, 0);
    if (!stream->received.empty() || stream->remote_fin) signal_readable(id, *stream);
    return id;
  }
  return std::nullopt;
}

Expected<std::size_t, CommandError> Session::write(StreamId id, ByteView bytes) {
  auto found = find_for_command(id);
  if (!found) return unexpected(std::move(found.error()));
  Stream& stream = **found;
  if (stream.local_fin) return unexpected(CommandError{CommandErrc::write_closed, id_text(id)});
  const std::size_t count = std::min({bytes.size(), std::size_t{stream.send_window}, transmit_space()});
  if (count < bytes.size() && !stream.write_blocked) {
    stream.write_blocked = true;
    write_blocked_.push_back(id);
  }
  if (count == 0) return std::size_t{0};

  const std::size_t frame_max = std::max<std::size_t>(options_.frame_data_bytes_max, 1);
  const std::size_t frames = (count + frame_max - 1) / frame_max;
  reserve_transmit(count + frames * kHeaderBytes);
  for (std::size_t offset = 0; offset < count; offset += frame_max) {
    const std::size_t chunk = std::min(frame_max, count - offset);
    send_frame(FrameType::data, take_ack(stream), id, static_cast<std::uint32_t>(chunk));
    append(transmit_, bytes.subspan(offset, chunk));
  }
  stream.send_window -= static_cast<std::uint32_t>(count);
  return count;
}

Expected<ReadResult, CommandError> Session::read(StreamId id, std::size_t bytes_max) {
  auto found = find_for_command(id);
  if (!found) return unexpected(std::move(found.error()));
  Stream& stream = **found;
  ReadResult result;
  result.data = stream.received.pop(bytes_max);
  if (stream.received.empty()) {
    stream.readable_signalled = false;
    if (stream.remote_fin) {
      result.finished = true;
      stream.end_read = true;
    }
  }
  if (!result.data.empty()) maybe_send_window_update(id, stream);
  if (result.finished) finish_if_done(id);
  return result;
}

Expected<void, CommandError> Session::close_write(StreamId id) {
  auto found = find_for_command(id);
  if (!found) return unexpected(std::move(found.error()));
  Stream& stream = **found;
  if (stream.local_fin) return {};
  stream.local_fin = true;
  send_frame(FrameType::window_update, static_cast<std::uint16_t>(flags::fin | take_ack(stream)), id, 0);
  finish_if_done(id);
  return {};
}

Expected<void, CommandError> Session::reserve_receive_window(StreamId id, std::uint32_t bytes) {
  auto found = find_for_command(id);
  if (!found) return unexpected(std::move(found.error()));
  Stream& stream = **found;
  if (stream.remote_fin) return {};
  const std::uint64_t wanted = std::min(bytes, options_.stream_receive_window_bytes_max);
  if (wanted <= stream.receive_window_target) return {};
  const std::uint64_t growth = std::min(wanted - stream.receive_window_target, session_window_budget());
  if (growth == 0) return {};
  stream.receive_window_target = static_cast<std::uint32_t>(stream.receive_window_target + growth);
  receive_window_targets_ += growth;
  stream.receive_window = static_cast<std::uint32_t>(stream.receive_window + growth);
  stream.last_window_update_at = now_;
  send_frame(FrameType::window_update, take_ack(stream), id, static_cast<std::uint32_t>(growth));
  return {};
}

Expected<void, CommandError> Session::reset(StreamId id) {
  auto found = find_for_command(id);
  if (!found) return unexpected(std::move(found.error()));
  send_frame(FrameType::window_update, static_cast<std::uint16_t>(flags::rst | take_ack(**found)), id, 0);
  remove_stream(id);
  close_if_idle();
  return {};
}

Expected<void, CommandError> Session::ping() {
  if (closed_) return unexpected(CommandError{CommandErrc::session_closed});
  if (ping_outstanding_) return unexpected(CommandError{CommandErrc::ping_in_flight});
  send_ping();
  return {};
}

void Session::go_away(GoAwayCode code) {
  if (closed_) return;
  send_frame(FrameType::go_away, 0, kSessionStreamId, static_cast<std::uint32_t>(code));
  local_go_away_ = true;
  if (code != GoAwayCode::normal) {
    return end_session(Errc::closed_locally,
                       "we sent GoAway(" + std::to_string(static_cast<std::uint32_t>(code)) + ")");
  }
  close_if_idle();
}

// ---------------------------------------------------------------- output

std::optional<Bytes> Session::poll_transmit() {
  if (transmit_.empty()) return std::nullopt;
  Bytes out = std::exchange(transmit_, {});
  signal_writable_streams();
  return out;
}

void Session::consume_transmit() {
  // Bulk senders reuse one buffer; idle sessions (a few small frames) and
  // buffers far larger than the traffic now hold nothing between sends.
  const std::size_t used = transmit_.size();
  if (used >= kBulkTransmitBytes && used >= transmit_.capacity() / 4) {
    transmit_.clear();
  } else {
    transmit_ = Bytes();
  }
  signal_writable_streams();
}

std::optional<Event> Session::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<Instant> Session::next_timeout() const {
  if (closed_) return std::nullopt;
  if (ping_outstanding_) return ping_sent_at_ + options_.ping_timeout;
  if (options_.keepalive_interval > Duration::zero()) return next_keepalive_at_;
  return std::nullopt;
}

std::optional<StreamInfo> Session::stream_info(StreamId id) const {
  const Stream* stream = find(id);
  if (stream == nullptr) return std::nullopt;
  return StreamInfo{stream->send_window, stream->receive_window, stream->receive_window_target,
                    stream->received.size(), stream->local_fin, stream->remote_fin};
}

void Session::send_frame(FrameType type, std::uint16_t frame_flags, StreamId id, std::uint32_t length) {
  append_header(Header{kVersion, type, frame_flags, id, length}, transmit_);
}

std::uint16_t Session::take_ack(Stream& stream) {
  if (!stream.ack_pending) return 0;
  stream.ack_pending = false;
  return flags::ack;
}

void Session::send_ping() {
  ++ping_opaque_;
  ping_outstanding_ = true;
  ping_sent_at_ = now_;
  next_keepalive_at_ = now_ + options_.keepalive_interval;
  send_frame(FrameType::ping, flags::syn, kSessionStreamId, ping_opaque_);
}

// Grants the peer new window once the application has read at least half of
// it, so updates are batched. When those reads come faster than twice the
// RTT, the window is what limits throughput: double it (up to the limits).
void Session::maybe_send_window_update(StreamId id, Stream& stream) {
  if (stream.remote_fin || closed_) return;
  const std::uint64_t committed = std::uint64_t{stream.receive_window} + stream.received.size();
  const std::uint64_t target = stream.receive_window_target;
  if (committed >= target) return;
  std::uint64_t grant = target - committed;
  if (grant < target / 2) return;
  if (rtt_ && now_ - stream.last_window_update_at < 2 * *rtt_ &&
      target < options_.stream_receive_window_bytes_max) {
    const std::uint64_t growth =
        std::min({target, options_.stream_receive_window_bytes_max - target, session_window_budget()});
    stream.receive_window_target = static_cast<std::uint32_t>(target + growth);
    receive_window_targets_ += growth;
    grant += growth;
  }
  stream.last_window_update_at = now_;
  stream.receive_window = static_cast<std::uint32_t>(stream.receive_window + grant);
  send_frame(FrameType::window_update, take_ack(stream), id, static_cast<std::uint32_t>(grant));
}

std::uint64_t Session::session_window_budget() const {
  return options_.session_receive_window_bytes_max > receive_window_targets_
             ? options_.session_receive_window_bytes_max - receive_window_targets_
             : 0;
}

std::size_t Session::transmit_space() const {
  return transmit_.size() >= options_.transmit_bytes_max ? 0 : options_.transmit_bytes_max - transmit_.size();
}

void Session::reserve_transmit(std::size_t extra) {
  if (transmit_.capacity() - transmit_.size() >= extra) return;
  transmit_.reserve(std::max(transmit_.size() + extra, transmit_.capacity() * 2));
}

void Session::signal_readable(StreamId id, Stream& stream) {
  if (stream.readable_signalled) return;
  stream.readable_signalled = true;
  events_.emplace_back(StreamReadable{id});
}

void Session::signal_writable_streams() {
  std::erase_if(write_blocked_, [this](StreamId id) {
    Stream* stream = find(id);
    if (stream == nullptr || !stream->write_blocked) return true;
    if (stream->send_window == 0 || transmit_space() == 0) return false;
    stream->write_blocked = false;
    events_.emplace_back(StreamWritable{id});
    return true;
  });
}

// ---------------------------------------------------------------- lifecycle

Session::Stream& Session::create_stream(StreamId id, bool inbound) {
  Stream& stream = streams_[id];
  stream.inbound = inbound;
  stream.accepted = !inbound;
  stream.last_window_update_at = now_;
  receive_window_targets_ += stream.receive_window_target;
  return stream;
}

void Session::remove_stream(StreamId id) {
  const auto it = streams_.find(id);
  if (it == streams_.end()) return;
  const Stream& stream = it->second;
  if (!stream.inbound && !stream.acked_by_peer) --unacked_outbound_;
  if (stream.inbound && !stream.accepted) std::erase(backlog_, id);
  receive_window_targets_ -= stream.receive_window_target;
  streams_.erase(it);
}

void Session::finish_if_done(StreamId id) {
  const Stream* stream = find(id);
  if (stream == nullptr || !stream->local_fin || !stream->end_read) return;
  remove_stream(id);
  events_.emplace_back(StreamClosed{id});
  close_if_idle();
}

void Session::violation(Errc code, std::string detail) {
  send_frame(FrameType::go_away, 0, kSessionStreamId, static_cast<std::uint32_t>(GoAwayCode::protocol_error));
  local_go_away_ = true;
  end_session(code, std::move(detail));
}

void Session::end_session(Errc code, std::string detail) {
  if (closed_) return;
  closed_ = true;
  streams_.clear();
  backlog_.clear();
  write_blocked_.clear();
  unacked_outbound_ = 0;
  receive_window_targets_ = 0;
  payload_remaining_ = 0;
  ping_outstanding_ = false;
  events_.emplace_back(SessionClosed{SessionError{code, std::move(detail)}});
}

void Session::close_if_idle() {
  if (closed_ || !(local_go_away_ || remote_go_away_) || !streams_.empty()) return;
  end_session(Errc::closed_normally, local_go_away_ ? "we went away" : "the peer went away");
}

bool Session::is_ours(StreamId id) const { return (id % 2 == 1) == (role_ == Role::client); }

bool Session::was_opened(StreamId id) const {
  if (id == kSessionStreamId) return false;
  return is_ours(id) ? id < next_outbound_id_ : id <= highest_inbound_id_;
}

Session::Stream* Session::find(StreamId id) {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

const Session::Stream* Session::find(StreamId id) const {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

Expected<Session::Stream*, CommandError> Session::find_for_command(StreamId id) {
  if (closed_) return unexpected(CommandError{CommandErrc::session_closed});
  Stream* stream = find(id);
  if (stream == nullptr) return unexpected(CommandError{CommandErrc::unknown_stream, id_text(id)});
  return stream;
}

}  // namespace taho::yamux
