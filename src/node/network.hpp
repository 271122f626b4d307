// The node's libp2p networking on real sockets: the Asio byte-stream
// transport (TCP, WebSocket) feeding the sans-IO swarm, on the event loop's
// thread. Front ends (the API) ask it to connect, ping and list peers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "crypto/crypto_suite.hpp"
#include "node/node.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/stream_transport.hpp"
#include "swarm/swarm.hpp"

namespace taho::node {

struct NetworkOptions {
  std::vector<Multiaddr> listen;
  std::uint64_t peer_record_seq = 1;
  std::size_t connections_max = 512;
  Duration connect_timeout = std::chrono::seconds(20);  // dial + upgrade, for connect()
  Duration ping_timeout = std::chrono::seconds(10);
};

struct PeerRow {
  PeerId peer;
  Multiaddr addr;        // the remote address of the connection
  std::string transport; // "tcp", "ws"
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
  // (unspecified IPs expanded, each ending in /p2p/<our id>). Addresses of a
  // transport we do not have yet (QUIC) are skipped with a warning.
  Result<std::vector<Multiaddr>> start();

  using ConnectDone = std::function<void(Result<PeerId>)>;
  using PingDone = std::function<void(Result<Duration>)>;
  // Dials the address (its /p2p part, if any, must match) and reports once
  // the connection is secured and muxed, or why it failed.
  void connect(const Multiaddr& address, ConnectDone done);
  // One ping over an existing connection.
  void ping(const PeerId& peer, PingDone done);
  // Closes every connection to the peer; false when there was none.
  bool disconnect(const PeerId& peer);

  std::vector<PeerRow> peers() const;
  std::size_t connection_count() const;

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

  void on_open(const runtime::asio::ConnectionInfo& info, std::optional<runtime::asio::DialId> dial);
  void process();  // drains the swarm's outputs and events, re-arms the timer
  void on_timer();
  void finish_connect(std::uint64_t key, Result<PeerId> result);

  runtime::asio::EventLoop& loop_;
  Node& node_;
  NetworkOptions options_;
  crypto::OpenSslCryptoSuite suite_;
  std::unique_ptr<Rng> rng_;
  swarm::Swarm swarm_;
  std::unique_ptr<runtime::asio::StreamTransport> transport_;
  runtime::asio::Timer timer_;
  std::map<swarm::ConnectionId, runtime::asio::ConnectionInfo> connection_info_;
  std::map<std::uint64_t, PendingConnect> connects_;  // keyed by DialId
  std::map<swarm::RequestId, PendingPing> pings_;
  swarm::RequestId next_ping_ = 1;
  bool processing_ = false;
};

}  // namespace taho::node
