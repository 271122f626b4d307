// StreamMuxer for a connection its transport multiplexes (QUIC): the
// transport's streams are the libp2p streams. The driver reports what its
// streams do (handle_*) and carries out the commands this queues
// (poll_command). Bytes are bounded both ways: a stream buffers at most
// stream_receive_bytes_max unread bytes (the driver reads from its transport
// only receive_room() bytes, and again after a ResumeReading command), and
// at most stream_send_bytes_max bytes the driver has not yet handed to its
// transport (handle_sent returns that credit).
#pragma once

#include <deque>
#include <map>

#include "swarm/stream_muxer.hpp"

namespace taho::swarm {

struct ExternalMuxerOptions {
  std::size_t stream_receive_bytes_max = 1024 * 1024;
  std::size_t stream_send_bytes_max = 1024 * 1024;
  std::size_t streams_max = 512;          // open streams, both directions
  std::size_t incoming_backlog_max = 64;  // opened by the peer, not yet accepted
};

// What the driver must do on its transport, in order.
namespace stream_command {
struct Open { StreamId stream; };
struct Write { StreamId stream; Bytes bytes; };
struct CloseWrite { StreamId stream; };
struct Reset { StreamId stream; };
// Room freed in a stream that was full: read from the transport again.
struct ResumeReading { StreamId stream; };
}  // namespace stream_command
using StreamCommand = std::variant<stream_command::Open, stream_command::Write, stream_command::CloseWrite,
                                   stream_command::Reset, stream_command::ResumeReading>;

class ExternalMuxer final : public StreamMuxer {
 public:
  explicit ExternalMuxer(ExternalMuxerOptions options) : options_(options) {}

  // ---- input from the driver
  // The peer opened a stream; returns the id it has here, or nullopt when
  // a limit refuses it (the driver resets it).
  std::optional<StreamId> handle_opened();
  // Bytes in order. More than receive_room() is a driver bug: the stream is reset.
  void handle_data(StreamId stream, ByteView bytes);
  void handle_end(StreamId stream);    // the peer finished its side
  void handle_reset(StreamId stream);  // the peer (or the transport) abandoned the stream
  void handle_sent(StreamId stream, std::size_t bytes);  // the transport took bytes of Write commands
  std::size_t receive_room(StreamId stream) const;
  std::optional<StreamCommand> poll_command();

  // ---- StreamMuxer
  Result<StreamId> open_stream() override;
  std::optional<StreamId> accept_stream() override;
  Result<std::size_t> write(StreamId stream, ByteView bytes) override;
  Result<MuxerRead> read(StreamId stream, std::size_t bytes_max) override;
  Result<void> close_write(StreamId stream) override;
  // QUIC's own flow control (ngtcp2) already grows stream windows, and the
  // driver reads as much as receive_room allows: nothing to do.
  void reserve_receive_window(StreamId, std::size_t) override {}
  void reset(StreamId stream) override;
  void go_away() override { going_away_ = true; }
  void handle_timeout(Instant) override {}
  void handle_transport_closed(Instant now) override;
  std::optional<MuxerEvent> poll_event() override;
  std::optional<Instant> next_timeout() const override { return std::nullopt; }
  std::optional<Duration> rtt() const override { return std::nullopt; }
  std::optional<MuxerStreamState> stream_state(StreamId stream) const override;
  std::size_t stream_count() const override { return streams_.size(); }

 private:
  struct Stream {
    Bytes received;
    std::size_t received_consumed = 0;  // read from the front of `received`
    std::size_t send_credit = 0;
    bool local_fin = false;
    bool remote_fin = false;
    bool end_read = false;  // read() reported `finished`
    bool readable_signalled = false;
    bool write_blocked = false;
    bool reading_paused = false;  // the buffer filled: the driver stopped reading
  };
  std::size_t buffered(const Stream& stream) const { return stream.received.size() - stream.received_consumed; }
  Stream& create(StreamId id);
  void signal_readable(StreamId id, Stream& stream);
  void finish_if_done(StreamId id);

  ExternalMuxerOptions options_;
  std::map<StreamId, Stream> streams_;
  StreamId next_id_ = 1;
  std::deque<StreamId> backlog_;
  std::deque<StreamCommand> commands_;
  std::deque<MuxerEvent> events_;
  bool going_away_ = false;
  bool closed_ = false;
};

}  // namespace taho::swarm
