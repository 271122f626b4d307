// The node's libp2p networking on real sockets: the Asio byte-stream
// transport (TCP, WebSocket) and QUIC (node/quic_transport.hpp) feeding the
// sans-IO swarm, on the event loop's thread. Front ends (the API) ask it to connect, ping and list peers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "config/service_mode.hpp"
#include "crypto/crypto_suite.hpp"
#include "node/node.hpp"
#include "proto/echo/echo.hpp"
#include "proto/perf/perf.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/stream_transport.hpp"
#include "host/transport.hpp"
#include "host/host.hpp"
#include "swarm/swarm.hpp"

namespace taho::node {

class QuicTransport;  // node/quic_transport.hpp (QUIC hook)

struct NetworkOptions {
  std::vector<Multiaddr> listen;
  std::uint64_t peer_record_seq = 1;
  std::size_t connections_max = 512;
  std::size_t min_peers = 4;
  std::size_t max_peers = 64;
  std::string dht_protocol{kad::default_protocol_id};
  // DHT server mode and rendezvous point: on, off, or automatic (only
  // while AutoNAT finds us publicly reachable).
  config::ServiceMode dht_server = config::ServiceMode::on;
  config::ServiceMode rendezvous_server = config::ServiceMode::on;
  std::size_t gossip_message_bytes_max = 1024 * 1024;
  double gossip_messages_per_peer_per_second = 1000;
  Duration heartbeat = std::chrono::seconds(1);  // gossip heartbeat and connection-manager tick
  Duration dht_timeout = std::chrono::seconds(60);  // a whole DHT query
  Duration connect_timeout = std::chrono::seconds(20);  // dial + upgrade, for connect()
  Duration ping_timeout = std::chrono::seconds(10);
  Duration transfer_timeout = std::chrono::minutes(5);  // a whole perf() or echo()
  std::size_t echo_streams_max = 256;                   // per echo() call
  // Content exchange: serving and fetching through this storage (the
  // daemon's store); null turns it off.
  host::ContentStorage* content_storage = nullptr;
  host::ContentOptions content;
};

// What perf() measured: the upload runs from the stream's opening until our
// write side is closed, the download from then until the server closed.
struct PerfResult {
  std::uint64_t upload_bytes = 0;
  std::uint64_t download_bytes = 0;
  double upload_seconds = 0;
  double download_seconds = 0;
};

struct EchoResult {
  std::uint64_t bytes = 0;  // echoed and verified, over all streams
  double seconds = 0;
};

struct PeerRow {
  PeerId peer;
  std::string source;    // how we found it: "mdns", "bootstrap", "dht", "inbound", ...
  Multiaddr addr;        // the remote address of the connection
  std::string transport; // "tcp", "ws", "quic"
  std::string direction; // "inbound", "outbound"
  std::optional<Duration> rtt;
  std::string agent;
  std::vector<std::string> protocols;
};

class Network {
 public:
  Network(runtime::asio::EventLoop& loop, Node& node, NetworkOptions options);
  ~Network();

  // Listens on every configured address; returns the dialable addresses
  // (unspecified IPs expanded, each ending in /p2p/<our id>): TCP, WebSocket
  // and QUIC (/udp/N/quic-v1); addresses of other transports are skipped with
  // a warning.
  Result<std::vector<Multiaddr>> start();

  using ConnectDone = std::function<void(Result<PeerId>)>;
  using PingDone = std::function<void(Result<Duration>)>;
  // Dials the address (its /p2p part, if any, must match) and reports once
  // the connection is secured and muxed, or why it failed.
  void connect(const Multiaddr& address, ConnectDone done);
  // One ping over an existing connection.
  void ping(const PeerId& peer, PingDone done);
  using PerfDone = std::function<void(Result<PerfResult>)>;
  using EchoDone = std::function<void(Result<EchoResult>)>;
  // Runs /perf/1.0.0 as the client over an existing connection.
  void perf(const PeerId& peer, std::uint64_t upload_bytes, std::uint64_t download_bytes, PerfDone done);
  // Opens `streams` concurrent /echo/1.0.0 streams, sends `bytes_per_stream`
  // on each and checks every byte that comes back.
  void echo(const PeerId& peer, std::size_t streams, std::uint64_t bytes_per_stream, EchoDone done);
  // Closes every connection to the peer; false when there was none.
  bool disconnect(const PeerId& peer);

  // ---- QUIC and transport choice (issue #5)
  struct TransportPing {
    Duration rtt;
    std::string transport;  // "quic", "tcp", "ws": the connection it ran on
  };
  using TransportPingDone = std::function<void(Result<TransportPing>)>;
  // One ping over a connection of `transport` (any, if unset). With no such
  // connection, a known address of the peer of that transport is dialed first.
  void ping_over(const PeerId& peer, std::optional<host::Transport> transport, TransportPingDone done);
  // An established connection to the peer over that transport.
  std::optional<swarm::ConnectionId> connection_over(const PeerId& peer, host::Transport transport) const;

  std::vector<PeerRow> peers() const;
  std::size_t connection_count() const;

  // ---- discovery and the connection manager
  void add_bootstrap(const Multiaddr& address);
  void add_rendezvous_point(const Multiaddr& address);
  void add_discovered(const PeerId& peer, const std::vector<Multiaddr>& addrs, host::Source source);
  // Every peer the connection manager knows (what the peerstore file keeps).
  std::vector<host::KnownPeer> known_peers() const;
  const host::Host& host() const { return host_; }

  // ---- the DHT
  using DhtDone = std::function<void(Result<host::kad_event::QueryFinished>)>;
  void dht_find_peer(const PeerId& peer, DhtDone done);
  void dht_providers(const Bytes& key, DhtDone done);
  void dht_provide(const Bytes& key, DhtDone done);

  // ---- gossip (events)
  using SubscriptionId = std::uint64_t;
  using OnMessage = std::function<void(const host::GossipMessage&)>;
  // Every message of `topic` goes to `on_message` until unsubscribe().
  Result<SubscriptionId> subscribe(const std::string& topic, OnMessage on_message);
  void unsubscribe(SubscriptionId id);
  // Returns the message id; the error's detail is a sentence for the user.
  Expected<Bytes, gossipsub::PublishError> publish(const std::string& topic, ByteView data);

  // ---- content exchange
  using FetchProgressFn = std::function<void(const host::content_event::FetchProgress&)>;
  using FetchDoneFn = std::function<void(const host::content_event::FetchFinished&)>;
  // Fetches `root` (or only `range`) from its holders into the store;
  // `on_done` runs exactly once, also after cancel_fetch().
  host::FetchId fetch(const content::Hash& root, std::optional<content::ByteRange> range,
                      FetchProgressFn on_progress, FetchDoneFn on_done);
  void cancel_fetch(host::FetchId id);
  void announce_content(const content::Hash& root, std::uint64_t size);
  void withdraw_content(const content::Hash& root);
  std::vector<host::HolderInfo> content_holders(const content::Hash& root) const;
  // The holder index, for its file (node/holder_index_file.hpp).
  std::vector<host::HolderRecord> export_holder_index() const { return host_.export_holder_index(); }
  void import_holder_index(const std::vector<host::HolderRecord>& records);

 private:
  struct PendingConnect {
    std::optional<PeerId> expected;
    ConnectDone done;
    Instant deadline;
    std::optional<swarm::ConnectionId> connection;
  };
  struct PendingPing {
    PingDone done;
    Instant deadline;
  };

  // A stream of /echo or /perf, ours (client) or the remote's (server).
  using StreamCore = std::variant<echo::Server, echo::Client, perf::Server, perf::Client>;
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  struct AppStream {
    StreamCore core;
    std::uint64_t transfer = 0;  // client streams: the perf()/echo() call they belong to
    bool write_closed = false;
    bool read_ended = false;
  };
  // One perf() or echo() call and its streams.
  struct Transfer {
    PeerId peer;
    std::variant<PerfDone, EchoDone> done;
    std::uint64_t upload_bytes = 0;    // perf: upload; echo: bytes per stream
    std::uint64_t download_bytes = 0;  // perf only
    std::size_t streams_total = 0;
    std::size_t streams_left = 0;      // streams not done yet
    std::vector<StreamKey> streams;
    Instant started{};
    std::optional<Instant> upload_finished;
    Instant deadline{};
  };

  void on_open(const runtime::asio::ConnectionInfo& info, std::optional<runtime::asio::DialId> dial);
  void start_quic();  // creates quic_ (QUIC hook)
  void on_stream_opened(Instant now, const swarm::swarm_event::StreamOpened& opened);
  // Moves bytes between the swarm and the stream's core as far as the
  // windows allow; the Readable/Writable events call it again.
  void pump_stream(Instant now, const StreamKey& key);
  void finish_stream(Instant now, const StreamKey& key, const std::optional<std::string>& error);
  void finish_transfer(std::uint64_t id, const std::optional<std::string>& error, Instant now);
  std::uint64_t start_transfer(Transfer transfer);
  void process();  // drains the swarm's outputs and events, re-arms the timer
  void on_timer();
  void finish_connect(std::uint64_t key, Result<PeerId> result);
  void on_swarm_event(Instant now, swarm::SwarmEvent& event);
  void on_query_finished(host::kad_event::QueryFinished& finished);
  void on_fetch_progress(const host::content_event::FetchProgress& progress);
  void on_fetch_finished(const host::content_event::FetchFinished& finished);
  void on_gossip(const host::GossipMessage& message);
  void track_query(host::QueryId id, DhtDone done);

  runtime::asio::EventLoop& loop_;
  Node& node_;
  NetworkOptions options_;
  crypto::OpenSslCryptoSuite suite_;
  std::unique_ptr<Rng> rng_;
  host::Host host_;
  std::unique_ptr<runtime::asio::StreamTransport> transport_;
  std::unique_ptr<QuicTransport> quic_;  // QUIC hook: /udp/N/quic-v1 listeners and dials
  runtime::asio::Timer timer_;
  std::map<swarm::ConnectionId, runtime::asio::ConnectionInfo> connection_info_;
  std::map<std::uint64_t, PendingConnect> connects_;  // keyed by DialId
  std::map<swarm::RequestId, PendingPing> pings_;
  std::map<runtime::asio::DialId, host::DialId> host_dials_;  // transport dial -> the host's Dial
  struct PendingQuery {
    DhtDone done;
    Instant deadline;
  };
  std::map<host::QueryId, PendingQuery> queries_;
  struct Subscription {
    std::string topic;
    OnMessage on_message;
  };
  std::map<SubscriptionId, Subscription> subscriptions_;
  struct PendingFetch {
    FetchProgressFn on_progress;
    FetchDoneFn on_done;
  };
  std::map<host::FetchId, PendingFetch> fetches_;
  SubscriptionId next_subscription_ = 1;
  std::map<StreamKey, AppStream> streams_;
  std::map<std::uint64_t, Transfer> transfers_;
  std::map<swarm::RequestId, std::uint64_t> stream_requests_;  // open_stream request -> transfer
  std::uint64_t next_transfer_ = 1;
  bool processing_ = false;
};

}  // namespace taho::node
