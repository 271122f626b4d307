// One libp2p connection, sans-IO. Over a byte stream (TCP, WebSocket): the
// upgrade pipeline raw → multistream(/noise) → Noise XX → muxer (early via the
// Noise extension, or multistream(/yamux/1.0.0)) → Yamux, then multistream on
// every stream. Bytes, time and commands in; bytes, timers and events out.
// Over a transport that secures and multiplexes by itself (QUIC): no
// upgrade; the driver reports the transport's streams (handle_stream_*) and
// carries out poll_stream_command(), and multistream runs on every stream
// as above (stream_muxer.hpp).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "crypto/crypto_suite.hpp"
#include "proto/multistream/dialer.hpp"
#include "proto/multistream/listener.hpp"
#include "proto/noise/handshake.hpp"
#include "proto/yamux/session.hpp"
#include "swarm/external_muxer.hpp"
#include "swarm/stream_muxer.hpp"
#include "swarm/yamux_muxer.hpp"

namespace taho::swarm {

inline constexpr const char* kNoiseProtocol = "/noise";
inline constexpr const char* kYamuxProtocol = "/yamux/1.0.0";

enum class Direction { inbound, outbound };

// How an outbound stream's protocol is negotiated (multistream-select).
enum class Negotiation {
  // The stream is ready once the peer has confirmed the protocol.
  confirmed,
  // Ready at once: the opener's first bytes follow the proposal in the same
  // flight and save a round trip (js-libp2p and rust-libp2p do this for a
  // single protocol). The peer's confirmation is checked on the first read;
  // a refusal makes that read fail.
  lazy,
};

static_assert(std::is_same_v<StreamId, yamux::StreamId>);
using StreamTag = std::uint64_t;  // the opener's label for an outbound stream

struct ConnectionOptions {
  Direction direction = Direction::outbound;
  crypto::Ed25519KeyPair identity;
  // The peer we dialed (from the address's /p2p); a different remote fails the handshake.
  std::optional<PeerId> expected_peer;
  // The whole upgrade (security + muxer) must finish within this.
  Duration upgrade_timeout = std::chrono::seconds(10);
  // A stream's protocol negotiation must finish within this.
  Duration stream_negotiation_timeout = std::chrono::seconds(10);
  // Protocols inbound streams may negotiate (the router's list).
  std::vector<std::string> inbound_protocols;
  // Offer Yamux in the Noise extension (saves a round trip with peers that
  // support it); off only to exercise the multistream path in tests.
  bool early_muxer_negotiation = true;
  // Plaintext waiting in our own buffers before we stop moving Yamux output
  // into it; the driver drains it with poll_transmit().
  std::size_t transmit_bytes_max = 4 * 1024 * 1024;
  yamux::Options yamux;
  // Stream buffers of connections multiplexed by their transport (QUIC).
  ExternalMuxerOptions muxed_streams;
};

namespace event {
struct Established {
  PeerId peer;
  Bytes public_key;          // libp2p PublicKey protobuf, authenticated by Noise (empty for QUIC)
  bool early_muxer = false;  // the muxer came from the Noise extension
};
// A stream whose protocol is agreed: data may flow.
struct StreamReady {
  StreamId stream;
  std::string protocol;
  Direction direction;
  StreamTag tag = 0;  // outbound: the tag given to open_stream
};
// An outbound stream that could not be opened or negotiated.
struct StreamFailed {
  StreamTag tag;
  std::string protocol;
  std::string reason;
};
struct StreamReadable { StreamId stream; };
struct StreamWritable { StreamId stream; };
struct StreamClosed { StreamId stream; bool reset; };
struct Rtt { Duration rtt; };  // from the muxer's ping
struct Closed { ConnectionError error; };  // the last event
}  // namespace event

using ConnectionEvent = std::variant<event::Established, event::StreamReady, event::StreamFailed,
                                     event::StreamReadable, event::StreamWritable, event::StreamClosed,
                                     event::Rtt, event::Closed>;

struct StreamRead {
  Bytes data;
  bool finished = false;  // the remote closed its side and everything was read
};

class Connection {
 public:
  Connection(Instant now, ConnectionOptions options, crypto::CryptoSuite& suite, Rng& rng);
  // A connection its transport already secured (proving `remote`) and
  // multiplexes: Established is the first event.
  Connection(Instant now, ConnectionOptions options, const PeerId& remote, crypto::CryptoSuite& suite, Rng& rng);

  // ---- input of transport-multiplexed connections (no-ops on the others)
  // The peer opened a stream: its id here, or nullopt (refused: reset it).
  std::optional<StreamId> handle_stream_opened(Instant now);
  void handle_stream_data(Instant now, StreamId stream, ByteView bytes);
  void handle_stream_end(Instant now, StreamId stream);
  void handle_stream_reset(Instant now, StreamId stream);
  void handle_stream_sent(Instant now, StreamId stream, std::size_t bytes);
  // Bytes the stream takes now; the driver reads no more than this.
  std::size_t stream_receive_room(StreamId stream) const;
  std::optional<StreamCommand> poll_stream_command();
  bool is_transport_muxed() const { return external_ != nullptr; }

  // ---- input
  void handle_input(Instant now, ByteView bytes);
  void handle_timeout(Instant now);
  void handle_transport_closed(Instant now);

  // ---- commands (valid once Established; before that open_stream fails)
  Result<void> open_stream(Instant now, std::string protocol, StreamTag tag,
                           Negotiation negotiation = Negotiation::confirmed);
  Result<std::size_t> write(StreamId stream, ByteView bytes);
  Result<StreamRead> read(StreamId stream, std::size_t bytes_max);
  Result<void> close_write(StreamId stream);
  // See StreamMuxer::reserve_receive_window.
  void reserve_receive_window(StreamId stream, std::size_t bytes);
  void reset(StreamId stream);
  void close();  // GoAway, then the connection ends

  // ---- output
  std::optional<Bytes> poll_transmit();
  std::optional<ConnectionEvent> poll_event();
  std::optional<Instant> next_timeout() const;

  // ---- state
  bool is_established() const { return stage_ == Stage::muxed; }
  bool is_closed() const { return stage_ == Stage::closed; }
  Direction direction() const { return options_.direction; }
  const std::optional<PeerId>& remote_peer() const { return remote_peer_; }
  std::optional<Duration> rtt() const { return muxer_ ? muxer_->rtt() : std::nullopt; }
  std::size_t stream_count() const { return streams_.size(); }

 private:
  enum class Stage { security_negotiation, security_handshake, muxer_negotiation, muxed, closed };

  struct Stream {
    Direction direction = Direction::inbound;
    StreamTag tag = 0;
    std::string protocol;
    // Until the peer confirms the protocol; a lazy stream is ready meanwhile.
    std::optional<multistream::Dialer> dialer;
    std::optional<multistream::Listener> listener;
    Bytes pending_out;  // negotiation bytes Yamux could not take yet
    Bytes prefix;       // data that arrived with the last negotiation message
    Instant deadline;
    bool ready = false;
    // The remote's FIN arrived in the same read as the end of negotiation:
    // the muxer already reported `finished`, so the prefix is all there is.
    bool remote_finished = false;
    // The muxer forgot the stream while `prefix` still held unread data.
    bool muxer_gone = false;
  };

  void start_noise(ByteView leftover);
  void on_secure_plaintext(ByteView plaintext);
  void start_muxer(ByteView leftover);
  void send_plaintext(ByteView plaintext);
  void pump_muxer();
  void pump_stream_negotiation(StreamId id, Stream& stream);
  Result<void> read_lazy_confirmation(StreamId id, Stream& stream);
  void flush_stream_pending(StreamId id, Stream& stream);
  void fail_stream(StreamId id, Stream& stream, std::string reason);
  void fail(ConnectionErrc code, std::string detail);

  ConnectionOptions options_;
  crypto::CryptoSuite& suite_;
  Rng& rng_;
  Instant now_;
  Instant upgrade_deadline_;
  Stage stage_ = Stage::security_negotiation;

  std::optional<multistream::Dialer> security_dialer_;
  std::optional<multistream::Listener> security_listener_;
  std::optional<noise::Handshake> handshake_;
  std::optional<noise::Session> secure_;
  std::optional<multistream::Dialer> muxer_dialer_;
  std::optional<multistream::Listener> muxer_listener_;
  std::unique_ptr<StreamMuxer> muxer_;
  YamuxMuxer* yamux_ = nullptr;        // muxer_, when it is Yamux (bytes go through Noise)
  ExternalMuxer* external_ = nullptr;  // muxer_, when the transport multiplexes
  std::optional<PeerId> remote_peer_;

  std::unordered_map<StreamId, Stream> streams_;
  Bytes transmit_;
  Bytes plaintext_scratch_;
  std::deque<ConnectionEvent> events_;
};

}  // namespace taho::swarm
