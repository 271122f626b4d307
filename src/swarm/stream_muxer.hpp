// The per-stream back end of a Connection: whatever multiplexes libp2p
// streams over it. Two exist: Yamux over the Noise-secured byte stream
// (TCP, WebSocket; yamux_muxer.hpp) and a transport that multiplexes by
// itself (QUIC; external_muxer.hpp), whose streams the driver carries.
// Connection runs multistream-select per stream, the read prefix and the
// negotiation deadlines on top of either, so every protocol above sees the
// same streams.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/time.hpp"

namespace taho::swarm {

using StreamId = std::uint32_t;

// Why a connection ended; carried by Closed events.
enum class ConnectionErrc {
  security_negotiation,  // multistream for /noise failed
  security_handshake,    // the Noise handshake failed (bad signature, wrong peer, decrypt failure)
  muxer_negotiation,     // no common muxer
  muxer,                 // the Yamux session ended with an error
  upgrade_timeout,       // the upgrade did not finish in time
  transport_closed,      // the byte stream (or the QUIC connection) ended
  closed_locally,        // close() was called
};
using ConnectionError = Error<ConnectionErrc>;
std::string_view to_string(ConnectionErrc code);

// Edge-triggered like Yamux's: one StreamReadable until read() drained the
// stream, one StreamWritable after a write() that was cut short.
namespace muxer_event {
struct StreamIncoming { StreamId stream; };  // take it with accept_stream()
struct StreamReadable { StreamId stream; };
struct StreamWritable { StreamId stream; };
struct StreamReset { StreamId stream; };   // the peer reset it; the id is gone
struct StreamClosed { StreamId stream; };  // both directions finished; the id is gone
struct Rtt { Duration rtt; };
struct GoAway {};                          // the peer takes no new streams
struct Closed { ConnectionError error; };  // the last event; every stream is gone
}  // namespace muxer_event
using MuxerEvent = std::variant<muxer_event::StreamIncoming, muxer_event::StreamReadable, muxer_event::StreamWritable,
                                muxer_event::StreamReset, muxer_event::StreamClosed, muxer_event::Rtt,
                                muxer_event::GoAway, muxer_event::Closed>;

struct MuxerRead {
  Bytes data;
  bool finished = false;  // the peer closed its side and every byte was read
};

struct MuxerStreamState {
  std::size_t buffered = 0;  // received, not yet read
  bool remote_fin = false;
};

class StreamMuxer {
 public:
  virtual ~StreamMuxer() = default;

  virtual Result<StreamId> open_stream() = 0;
  // The next inbound stream announced by StreamIncoming.
  virtual std::optional<StreamId> accept_stream() = 0;
  // Takes as much as the stream's window allows; a short count means
  // StreamWritable follows.
  virtual Result<std::size_t> write(StreamId stream, ByteView bytes) = 0;
  virtual Result<MuxerRead> read(StreamId stream, std::size_t bytes_max) = 0;
  virtual Result<void> close_write(StreamId stream) = 0;
  // A hint that `bytes` will arrive on the stream and be read promptly: the
  // muxer may grant that much receive window up front. Best effort.
  virtual void reserve_receive_window(StreamId stream, std::size_t bytes) = 0;
  // Abandons the stream; its id is gone at once (no event).
  virtual void reset(StreamId stream) = 0;
  // No new streams; existing ones may finish.
  virtual void go_away() = 0;

  virtual void handle_timeout(Instant now) = 0;
  virtual void handle_transport_closed(Instant now) = 0;

  virtual std::optional<MuxerEvent> poll_event() = 0;
  virtual std::optional<Instant> next_timeout() const = 0;
  virtual std::optional<Duration> rtt() const = 0;
  virtual std::optional<MuxerStreamState> stream_state(StreamId stream) const = 0;
  virtual std::size_t stream_count() const = 0;
};

}  // namespace taho::swarm
