// A Yamux session (/yamux/1.0.0), sans-IO, in the quinn-proto grammar: bytes
// and time come in through handle_*(now, ...), the application acts through
// plain commands, and everything the session wants done comes out of
// poll_transmit() (bytes for the peer), poll_event() and next_timeout().
// It never reads a clock: commands use the latest `now` it was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/bytes.hpp"
#include "base/time.hpp"
#include "proto/yamux/errors.hpp"
#include "proto/yamux/events.hpp"
#include "proto/yamux/frame.hpp"
#include "proto/yamux/options.hpp"
#include "proto/yamux/receive_buffer.hpp"

namespace taho::yamux {

struct ReadResult {
  Bytes data;             // may be empty when nothing is buffered
  bool finished = false;  // the peer half-closed and every byte has been read
};

// A snapshot of one stream's flow-control state, for metrics and tests.
struct StreamInfo {
  std::uint32_t send_window = 0;            // bytes the peer lets us send now
  std::uint32_t receive_window = 0;         // bytes we let the peer send now
  std::uint32_t receive_window_target = 0;  // the window we keep granting (auto-tuned)
  std::size_t buffered = 0;                 // received, not yet read
  bool local_fin = false;
  bool remote_fin = false;
};

class Session {
 public:
  Session(Role role, Instant now, Options options = {});

  // ---- input
  // Bytes from the peer, in any fragmentation.
  void handle_input(Instant now, ByteView bytes);
  // Call when now >= next_timeout().
  void handle_timeout(Instant now);
  // The underlying byte stream ended (EOF or error): the session ends.
  void handle_transport_closed(Instant now);

  // ---- commands
  // Opens a stream: sends WindowUpdate(SYN, delta 0) as js-libp2p does. Data
  // may be written at once, before the peer's ACK.
  Expected<StreamId, CommandError> open_stream();
  // The next inbound stream announced by StreamIncoming; sends its ACK.
  std::optional<StreamId> accept_stream();
  // Queues as much of `bytes` as the peer's window and the transmit budget
  // allow, in frames of at most frame_data_bytes_max; returns how much. A
  // short count means StreamWritable will follow.
  Expected<std::size_t, CommandError> write(StreamId stream, ByteView bytes);
  // Takes up to `bytes_max` received bytes; reading gives the peer new window.
  Expected<ReadResult, CommandError> read(StreamId stream, std::size_t bytes_max);
  // Half-close: FIN on a zero-length WindowUpdate. Idempotent.
  Expected<void, CommandError> close_write(StreamId stream);
  // Grows the stream's receive window to `bytes` at once, for a reader that
  // knows that much is coming and reads it promptly (a bulk download on a
  // fresh stream): the peer need not wait for tuning to grow it. Bounded by
  // stream_receive_window_bytes_max and the session's budget; never shrinks.
  Expected<void, CommandError> reserve_receive_window(StreamId stream, std::uint32_t bytes);
  // RST on a zero-length WindowUpdate; the id is gone at once (no event).
  Expected<void, CommandError> reset(StreamId stream);
  // Measures the RTT: PingRtt follows, or the session ends after ping_timeout.
  Expected<void, CommandError> ping();
  // Sends GoAway. `normal`: no new streams either way, existing ones finish,
  // and the session ends once none is left. An error code ends it at once.
  void go_away(GoAwayCode code = GoAwayCode::normal);

  // ---- output
  // Everything queued for the peer, as one buffer of whole frames.
  std::optional<Bytes> poll_transmit();
  // The same without handing the buffer over, for a caller that only reads
  // it (the Connection encrypts it into its own): whole frames, valid until
  // the next call on the session. consume_transmit() then empties the queue
  // and keeps the buffer for the next frames, so bulk transfers allocate
  // nothing per write.
  ByteView peek_transmit() const { return transmit_; }
  void consume_transmit();
  std::optional<Event> poll_event();
  std::optional<Instant> next_timeout() const;
  // Bytes poll_transmit would return now.
  std::size_t pending_transmit_bytes() const { return transmit_.size(); }

  // ---- state
  Role role() const { return role_; }
  bool is_closed() const { return closed_; }
  std::optional<Duration> rtt() const { return rtt_; }
  std::size_t stream_count() const { return streams_.size(); }
  std::optional<StreamInfo> stream_info(StreamId stream) const;
  // Inbound streams refused with RST because of streams_max, the backlog or a GoAway.
  std::uint64_t refused_streams() const { return refused_streams_; }

 private:
  struct Stream {
    bool inbound = false;
    bool ack_pending = false;     // inbound: our next frame on it carries ACK
    bool acked_by_peer = false;   // outbound: the peer sent ACK (or any answer)
    bool accepted = false;        // handed to the application
    bool local_fin = false;
    bool remote_fin = false;
    bool readable_signalled = false;
    bool write_blocked = false;
    bool end_read = false;        // read() has reported `finished`
    std::uint32_t send_window = kInitialWindowBytes;
    std::uint32_t receive_window = kInitialWindowBytes;
    std::uint32_t receive_window_target = kInitialWindowBytes;
    Instant last_window_update_at;
    ReceiveBuffer received;
  };

  // Frame handling.
  void process_header(const Header& header);
  void handle_stream_frame(const Header& header);
  void handle_ping(const Header& header);
  void handle_go_away(const Header& header);
  Stream* open_inbound(const Header& header);
  void deliver(StreamId id, ByteView payload);
  void on_remote_fin(StreamId id, Stream& stream);
  void skip_payload(const Header& header);

  // Output helpers.
  void send_frame(FrameType type, std::uint16_t frame_flags, StreamId id, std::uint32_t length);
  std::uint16_t take_ack(Stream& stream);
  void send_ping();
  void maybe_send_window_update(StreamId id, Stream& stream);
  // Receive window that tuning and reservations may still add across streams.
  std::uint64_t session_window_budget() const;
  std::size_t transmit_space() const;
  void reserve_transmit(std::size_t extra);
  void signal_readable(StreamId id, Stream& stream);
  void signal_writable_streams();

  // Lifecycle.
  Stream& create_stream(StreamId id, bool inbound);
  void remove_stream(StreamId id);
  void finish_if_done(StreamId id);
  void violation(Errc code, std::string detail);
  void end_session(Errc code, std::string detail);
  void close_if_idle();
  bool is_ours(StreamId id) const;
  bool was_opened(StreamId id) const;
  Stream* find(StreamId id);
  const Stream* find(StreamId id) const;
  Expected<Stream*, CommandError> find_for_command(StreamId id);

  Role role_;
  Options options_;
  Instant now_;

  std::unordered_map<StreamId, Stream> streams_;
  std::uint64_t next_outbound_id_;    // 64-bit so running out is visible
  StreamId highest_inbound_id_ = 0;
  std::deque<StreamId> backlog_;      // inbound, not yet accepted
  std::vector<StreamId> write_blocked_;
  std::size_t unacked_outbound_ = 0;
  std::uint64_t receive_window_targets_ = 0;  // sum over streams, for the growth budget
  std::uint64_t refused_streams_ = 0;

  // Parser state: a partial header, or the rest of a data frame's payload.
  std::uint8_t header_bytes_[kHeaderBytes] = {};
  std::size_t header_filled_ = 0;
  std::uint32_t payload_remaining_ = 0;
  StreamId payload_stream_ = 0;
  bool payload_discard_ = false;
  bool payload_fin_ = false;

  // Pings.
  bool ping_outstanding_ = false;
  std::uint32_t ping_opaque_ = 0;
  Instant ping_sent_at_;
  Instant next_keepalive_at_;
  std::optional<Duration> rtt_;

  bool local_go_away_ = false;
  bool remote_go_away_ = false;
  bool closed_ = false;

  Bytes transmit_;
  std::deque<Event> events_;
};

}  // namespace taho::yamux
