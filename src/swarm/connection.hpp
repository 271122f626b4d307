// One libp2p connection over a byte stream (TCP, WebSocket), sans-IO: the
// upgrade pipeline raw → multistream(/noise) → Noise XX → muxer (early via the
// Noise extension, or multistream(/yamux/1.0.0)) → Yamux, then multistream on
// every stream. Bytes, time and commands in; bytes, timers and events out.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
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

namespace taho::swarm {

inline constexpr const char* kNoiseProtocol = "/noise";
inline constexpr const char* kYamuxProtocol = "/yamux/1.0.0";

enum class Direction { inbound, outbound };

using StreamId = yamux::StreamId;
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
};

enum class ConnectionErrc {
  security_negotiation,  // multistream for /noise failed
  security_handshake,    // the Noise handshake failed (bad signature, wrong peer, decrypt failure)
  muxer_negotiation,     // no common muxer
  muxer,                 // the Yamux session ended with an error
  upgrade_timeout,       // the upgrade did not finish in time
  transport_closed,      // the byte stream ended
  closed_locally,        // close() was called
};
using ConnectionError = Error<ConnectionErrc>;
std::string_view to_string(ConnectionErrc code);

namespace event {
struct Established {
  PeerId peer;
  Bytes public_key;          // libp2p PublicKey protobuf, authenticated by Noise
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

  // ---- input
  void handle_input(Instant now, ByteView bytes);
  void handle_timeout(Instant now);
  void handle_transport_closed(Instant now);

  // ---- commands (valid once Established; before that open_stream fails)
  Result<void> open_stream(Instant now, std::string protocol, StreamTag tag);
  Result<std::size_t> write(StreamId stream, ByteView bytes);
  Result<StreamRead> read(StreamId stream, std::size_t bytes_max);
  Result<void> close_write(StreamId stream);
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
  std::optional<yamux::Session> muxer_;
  std::optional<PeerId> remote_peer_;

  std::unordered_map<StreamId, Stream> streams_;
  Bytes transmit_;
  Bytes plaintext_scratch_;
  std::deque<ConnectionEvent> events_;
};

}  // namespace taho::swarm
