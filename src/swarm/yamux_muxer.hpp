// StreamMuxer over a Yamux session: the muxer of byte-stream connections.
// Besides the common interface it moves bytes (handle_input/poll_transmit),
// which the Connection passes through Noise.
#pragma once

#include "proto/yamux/session.hpp"
#include "swarm/stream_muxer.hpp"

namespace taho::swarm {

class YamuxMuxer final : public StreamMuxer {
 public:
  YamuxMuxer(yamux::Role role, Instant now, yamux::Options options) : session_(role, now, options) {}

  void handle_input(Instant now, ByteView bytes) { session_.handle_input(now, bytes); }
  std::optional<Bytes> poll_transmit() { return session_.poll_transmit(); }
  ByteView peek_transmit() const { return session_.peek_transmit(); }
  void consume_transmit() { session_.consume_transmit(); }

  Result<StreamId> open_stream() override;
  std::optional<StreamId> accept_stream() override { return session_.accept_stream(); }
  Result<std::size_t> write(StreamId stream, ByteView bytes) override;
  Result<MuxerRead> read(StreamId stream, std::size_t bytes_max) override;
  Result<void> close_write(StreamId stream) override;
  void reserve_receive_window(StreamId stream, std::size_t bytes) override;
  void reset(StreamId stream) override { (void)session_.reset(stream); }
  void go_away() override { session_.go_away(yamux::GoAwayCode::normal); }

  void handle_timeout(Instant now) override { session_.handle_timeout(now); }
  void handle_transport_closed(Instant now) override { session_.handle_transport_closed(now); }

  std::optional<MuxerEvent> poll_event() override;
  std::optional<Instant> next_timeout() const override { return session_.next_timeout(); }
  std::optional<Duration> rtt() const override { return session_.rtt(); }
  std::optional<MuxerStreamState> stream_state(StreamId stream) const override;
  std::size_t stream_count() const override { return session_.stream_count(); }

 private:
  yamux::Session session_;
};

}  // namespace taho::swarm
