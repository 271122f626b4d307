// The swarm: every connection of the node, the built-in protocols that run on
// them (identify, ping), the peerstore and the limits. Single-threaded and
// sans-IO: the driver reports connections and bytes, and carries out what
// poll_output() asks (send bytes, close a connection). Runs unchanged on real
// sockets and in the simulated network.
//
// Two kinds of connection: byte streams (TCP, WebSocket: add_connection,
// handle_input, Transmit) that the swarm secures and multiplexes itself, and
// connections their transport already secured and multiplexes (QUIC:
// add_muxed_connection, handle_stream_*, and the OpenStream / StreamWrite /
// StreamCloseWrite / StreamReset / StreamResumeReading outputs). Identify,
// ping and the protocol router work the same over both.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "proto/identify/message.hpp"
#include "proto/identify/reader.hpp"
#include "proto/ping/ping.hpp"
#include "swarm/connection.hpp"
#include "swarm/peerstore.hpp"

namespace taho::swarm {

using ConnectionId = std::uint64_t;  // assigned by the driver
using RequestId = std::uint64_t;     // assigned by the caller of ping()

struct SwarmOptions {
  crypto::Ed25519KeyPair identity;
  std::string agent_version = "taho/0.0.0";
  // Sequence number of our signed peer record; must grow across restarts
  // (the daemon passes the wall-clock time in ms).
  std::uint64_t peer_record_seq = 1;
  std::size_t connections_max = 512;
  std::size_t connections_per_peer_max = 4;
  std::size_t pending_upgrades_max = 64;  // connections still in the security/muxer upgrade
  Duration upgrade_timeout = std::chrono::seconds(10);
  ConnectionOptions connection;  // stream limits, Yamux options (identity and direction are set per connection)
};

namespace swarm_event {
struct PeerConnected {
  PeerId peer;
  ConnectionId connection;
  Direction direction;
  Multiaddr remote_addr;
};
struct PeerDisconnected {
  PeerId peer;
  ConnectionId connection;
  std::string reason;
};
// A connection that closed before it was established (refused, failed upgrade).
struct ConnectionFailed {
  ConnectionId connection;
  std::string reason;
};
struct Identified {
  PeerId peer;
  identify::Info info;
};
struct PingResult {
  RequestId request;
  PeerId peer;
  std::optional<Duration> rtt;  // set on success
  std::string error;            // set on failure
  std::optional<ConnectionId> connection;  // the connection it ran on, once one was chosen
};
// Streams of registered protocols (the router). Inbound ones carry request 0.
struct StreamOpened {
  ConnectionId connection;
  StreamId stream;
  PeerId peer;
  std::string protocol;
  Direction direction;
  RequestId request = 0;
};
struct StreamOpenFailed {
  RequestId request;
  PeerId peer;
  std::string protocol;
  std::string error;
};
struct StreamReadable { ConnectionId connection; StreamId stream; };
struct StreamWritable { ConnectionId connection; StreamId stream; };
struct StreamClosed { ConnectionId connection; StreamId stream; bool reset; };
}  // namespace swarm_event

using SwarmEvent = std::variant<swarm_event::PeerConnected, swarm_event::PeerDisconnected,
                                swarm_event::ConnectionFailed, swarm_event::Identified, swarm_event::PingResult,
                                swarm_event::StreamOpened, swarm_event::StreamOpenFailed,
                                swarm_event::StreamReadable, swarm_event::StreamWritable,
                                swarm_event::StreamClosed>;

namespace swarm_output {
struct Transmit {
  ConnectionId connection;
  Bytes bytes;
};
struct Close {
  ConnectionId connection;
};
// For transport-multiplexed connections: what to do with the transport's
// streams, in order. `stream` is the swarm's id (OpenStream names a new one).
struct OpenStream { ConnectionId connection; StreamId stream; };
struct StreamWrite { ConnectionId connection; StreamId stream; Bytes bytes; };
struct StreamCloseWrite { ConnectionId connection; StreamId stream; };
struct StreamReset { ConnectionId connection; StreamId stream; };
// The stream had no room and has some again: read from the transport.
struct StreamResumeReading { ConnectionId connection; StreamId stream; };
}  // namespace swarm_output
using SwarmOutput = std::variant<swarm_output::Transmit, swarm_output::Close, swarm_output::OpenStream,
                                 swarm_output::StreamWrite, swarm_output::StreamCloseWrite,
                                 swarm_output::StreamReset, swarm_output::StreamResumeReading>;

// A connection as `taho peers` shows it.
struct ConnectionSummary {
  ConnectionId id;
  std::optional<PeerId> peer;
  Direction direction;
  Multiaddr remote_addr;
  bool established;
  std::optional<Duration> rtt;
  std::size_t streams;
  bool transport_muxed = false;  // QUIC: secured and multiplexed by the transport
};

class Swarm {
 public:
  Swarm(SwarmOptions options, crypto::CryptoSuite& suite, Rng& rng);

  // ---- input from the driver
  // A new byte stream. Refused (false, and the driver closes it) when a limit is hit.
  bool add_connection(Instant now, ConnectionId id, Direction direction, const Multiaddr& local_addr,
                      const Multiaddr& remote_addr, std::optional<PeerId> expected_peer);
  void handle_input(Instant now, ConnectionId id, ByteView bytes);
  void handle_closed(Instant now, ConnectionId id, const std::string& reason);
  void handle_timeout(Instant now);

  // A connection its transport secured (the handshake proved `remote_peer`)
  // and multiplexes. Established at once. Refused (false) like add_connection.
  bool add_muxed_connection(Instant now, ConnectionId id, Direction direction, const Multiaddr& local_addr,
                            const Multiaddr& remote_addr, const PeerId& remote_peer);
  // Its streams: the peer opened one (returns its id here; nullopt: refused,
  // reset it), bytes arrived (at most stream_receive_room), the peer
  // finished or reset it, the transport took `bytes` of StreamWrite output.
  std::optional<StreamId> handle_stream_opened(Instant now, ConnectionId id);
  void handle_stream_data(Instant now, ConnectionId id, StreamId stream, ByteView bytes);
  void handle_stream_end(Instant now, ConnectionId id, StreamId stream);
  void handle_stream_reset(Instant now, ConnectionId id, StreamId stream);
  void handle_stream_sent(Instant now, ConnectionId id, StreamId stream, std::size_t bytes);
  std::size_t stream_receive_room(ConnectionId id, StreamId stream) const;

  // ---- commands
  // Pings the peer over an established connection; PingResult follows.
  void ping(Instant now, const PeerId& peer, RequestId request);
  // Pings over one given connection (e.g. to measure one transport);
  // PingResult follows (naming our own peer id if the connection is unknown).
  void ping_connection(Instant now, ConnectionId connection, RequestId request);
  void disconnect(const PeerId& peer);
  // Closes one connection (GoAway first); PeerDisconnected follows if it was established.
  void close_connection(ConnectionId id, const std::string& reason);
  void set_listen_addrs(std::vector<Multiaddr> addrs);

  // ---- the protocol router: features register their protocol ids, then get
  // StreamOpened for inbound streams and drive them with the calls below.
  // Register before connections are added: a connection offers the list it
  // was created with (and identify announces it).
  void register_protocol(std::string protocol);
  // Opens a stream to a connected peer; StreamOpened or StreamOpenFailed
  // follows (at once for a lazy negotiation: see Negotiation).
  void open_stream(Instant now, const PeerId& peer, std::string protocol, RequestId request,
                   Negotiation negotiation = Negotiation::confirmed);
  Result<std::size_t> write(Instant now, ConnectionId connection, StreamId stream, ByteView bytes);
  Result<StreamRead> read(Instant now, ConnectionId connection, StreamId stream, std::size_t bytes_max);
  Result<void> close_write(Instant now, ConnectionId connection, StreamId stream);
  // For a bulk download: `bytes` will arrive on the stream and be read
  // promptly, so the peer may send that much at once (Yamux grants the
  // window up front instead of growing it over several round trips).
  void reserve_receive_window(Instant now, ConnectionId connection, StreamId stream, std::size_t bytes);
  void reset(Instant now, ConnectionId connection, StreamId stream);

  // ---- output
  std::optional<SwarmOutput> poll_output();
  std::optional<SwarmEvent> poll_event();
  std::optional<Instant> next_timeout() const;

  // ---- state
  const Peerstore& peerstore() const { return peerstore_; }
  std::vector<ConnectionSummary> connections() const;
  std::size_t connection_count() const { return connections_.size(); }
  bool is_connected(const PeerId& peer) const;
  const PeerId& local_peer() const { return local_peer_; }
  std::uint64_t refused_connections() const { return refused_connections_; }
  std::uint64_t self_connections_refused() const { return self_connections_refused_; }

 private:
  enum class Purpose { identify, ping, app };
  struct PendingStream {
    Purpose purpose;
    RequestId request = 0;
    std::string protocol;  // an app stream's, for its StreamOpenFailed
  };
  struct IdentifyOut { identify::Reader reader; Instant deadline; };
  struct IdentifyIn {};
  struct PingOut { ping::Dialer dialer; RequestId request; };
  struct PingIn { ping::Listener listener; };
  struct AppStream {};  // a registered protocol's stream: events go to the app
  using Handler = std::variant<IdentifyOut, IdentifyIn, PingOut, PingIn, AppStream>;

  struct ConnState {
    ConnectionId id;
    Connection connection;
    Direction direction;
    Multiaddr local_addr;
    Multiaddr remote_addr;
    std::optional<PeerId> peer;
    std::unordered_map<StreamId, Handler> handlers;
    std::map<StreamTag, PendingStream> pending;  // outbound streams being negotiated
    bool close_requested = false;
    // The earliest of the connection's and its handlers' timers, as entered
    // in deadlines_ (refreshed whenever the swarm touched the connection).
    std::optional<Instant> deadline;
  };

  // Drains a connection's events and output, then refreshes its deadline.
  void pump(Instant now, ConnectionId id);
  void drain(Instant now, ConnectionId id);
  void start_ping(Instant now, ConnState& state, RequestId request);
  void drain_stream_commands(ConnState& state);
  void on_event(Instant now, ConnectionId id, ConnState& state, ConnectionEvent& event);
  void on_stream_ready(Instant now, ConnState& state, const event::StreamReady& ready);
  void on_readable(Instant now, ConnState& state, StreamId stream);
  void drive_handler(Instant now, ConnState& state, StreamId stream, bool finished, ByteView data);
  void finish_identify(Instant now, ConnState& state, StreamId stream, identify::Reader& reader);
  void write_all(ConnState& state, StreamId stream, ByteView bytes);
  void ping_failed(const PeerId& peer, RequestId request, std::string error);
  identify::Info local_info(const Multiaddr& observed) const;
  std::size_t pending_upgrades() const;
  std::size_t connections_to(const PeerId& peer) const;
  void remove_connection(ConnectionId id, const std::string& reason);
  // Keeps deadlines_ in step with one connection after it was touched.
  void refresh_deadline(ConnState& state);
  void forget_deadline(ConnState& state);
  std::optional<Instant> compute_deadline(const ConnState& state) const;

  SwarmOptions options_;
  crypto::CryptoSuite& suite_;
  Rng& rng_;
  PeerId local_peer_;
  // Our signed peer record, sealed once per set of listen addresses rather
  // than signed again for every identify.
  Bytes signed_record_;
  std::vector<Multiaddr> listen_addrs_;
  std::vector<std::string> protocols_;  // built-ins first, then registered ones
  std::map<ConnectionId, ConnState> connections_;
  // Every connection's cached deadline, earliest first: next_timeout() and
  // handle_timeout() look here instead of asking every connection (a node
  // with hundreds of connections is asked after every packet).
  std::set<std::pair<Instant, ConnectionId>> deadlines_;
  // The connections whose peer is known (state.peer set), by peer: is_connected()
  // and connections_to() are asked per event and must not walk them all.
  std::unordered_map<PeerId, std::vector<ConnectionId>> by_peer_;
  Peerstore peerstore_;
  StreamTag next_tag_ = 1;
  std::uint64_t refused_connections_ = 0;
  std::uint64_t self_connections_refused_ = 0;
  std::deque<SwarmOutput> outputs_;
  std::deque<SwarmEvent> events_;
};

}  // namespace taho::swarm
