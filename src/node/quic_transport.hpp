// QUIC for the node: UDP sockets (runtime/asio/quic_socket.hpp) whose
// connections join the host through a QuicBridge. One socket per
// /udp/N/quic-v1 listen address; dials go out of a listening socket of
// the remote's IP family (or an ephemeral one), so replies reach the
// endpoint that knows the connection.
//
// Threading: the event loop's thread only, like every driver. Callbacks run
// there, from socket events; they must not destroy the QuicTransport.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "crypto/ed25519.hpp"
#include "host/host.hpp"
#include "node/quic_bridge.hpp"
#include "runtime/asio/quic_socket.hpp"

namespace taho::node {

using QuicDialId = std::uint64_t;

struct QuicTransportCallbacks {
  // A handshake completed; `dial` is the dial() it answers (none: inbound).
  // Return false when the host refused it: the connection is closed.
  std::function<bool(const quic_link::Up& link, std::optional<QuicDialId> dial)> on_connected;
  std::function<void(QuicDialId dial, std::string error)> on_dial_failed;
  std::function<void(swarm::ConnectionId id, std::string reason)> on_closed;
  // After socket events reached the host: drain its outputs.
  std::function<void()> on_activity;
};

class QuicTransport {
 public:
  // Connection and dial ids start here: the byte-stream transport counts
  // from 1, so the two never meet in the host.
  static constexpr std::uint64_t id_base = std::uint64_t{1} << 48;

  QuicTransport(runtime::asio::EventLoop& loop, host::Host& host, const crypto::Ed25519KeyPair& identity, Rng& rng,
                runtime::asio::QuicSocketOptions options, QuicTransportCallbacks callbacks);
  ~QuicTransport();
  QuicTransport(const QuicTransport&) = delete;
  QuicTransport& operator=(const QuicTransport&) = delete;

  // /ip4|ip6/<addr>/udp/<port>/quic-v1, with or without /p2p.
  static bool handles(const Multiaddr& address);

  // Returns the bound address (real port).
  Result<Multiaddr> listen(const Multiaddr& address);
  // Needs /p2p/<id>: the handshake checks the peer. The outcome arrives as
  // on_connected or on_dial_failed, never during this call.
  Result<QuicDialId> dial(const Multiaddr& address);
  // Carries out a host output of a QUIC connection; false if not ours.
  bool handle_output(const host::HostOutput& output);
  bool owns(swarm::ConnectionId id) const { return bridge_.owns(id); }
  void close(swarm::ConnectionId id) { bridge_.close(id); }
  // Sends what the endpoints queued (call after handle_output / close).
  void flush();

 private:
  Result<std::size_t> open_socket(const Multiaddr& address);
  void on_event(std::size_t index, const quic::Event& event);

  runtime::asio::EventLoop& loop_;
  host::Host& host_;
  crypto::Ed25519KeyPair identity_;
  Rng& rng_;
  runtime::asio::QuicSocketOptions options_;
  QuicTransportCallbacks callbacks_;
  QuicBridge bridge_;
  std::vector<std::unique_ptr<runtime::asio::QuicSocket>> sockets_;  // index = the bridge's endpoint index
  std::map<std::pair<std::size_t, quic::ConnectionHandle>, QuicDialId> dials_;
  QuicDialId next_dial_ = id_base;
};

}  // namespace taho::node
