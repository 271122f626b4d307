#include "node/network.hpp"

#include <spdlog/spdlog.h>

#include "crypto/os_rng.hpp"
#include "runtime/asio/network_interfaces.hpp"

namespace taho::node {
namespace {

using runtime::asio::ConnectionInfo;
using runtime::asio::Transport;

swarm::SwarmOptions swarm_options(const Node& node, const NetworkOptions& options) {
  swarm::SwarmOptions swarm;
  swarm.identity = node.identity();
  swarm.agent_version = node.agent_version();
  swarm.peer_record_seq = options.peer_record_seq;
  swarm.connections_max = options.connections_max;
  return swarm;
}

bool is_stream_transport(const Multiaddr& address) {
  // TCP and WebSocket only for now; QUIC (/udp/.../quic-v1) has its own driver later.
  return address.has(multiaddr::Protocol::tcp);
}

std::string millis(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

Network::Network(runtime::asio::EventLoop& loop, Node& node, NetworkOptions options)
    : loop_(loop), node_(node), options_(std::move(options)), rng_(std::make_unique<crypto::OsRng>()),
      swarm_(swarm_options(node, options_), suite_, *rng_), timer_(loop) {
  runtime::asio::StreamTransportCallbacks callbacks;
  callbacks.on_open = [this](const ConnectionInfo& info) { on_open(info, std::nullopt); };
  callbacks.on_dialed = [this](runtime::asio::DialId dial, const ConnectionInfo& info) { on_open(info, dial); };
  callbacks.on_dial_failed = [this](runtime::asio::DialId dial, std::string error) {
    finish_connect(dial, fail(std::move(error)));
    process();
  };
  callbacks.on_data = [this](runtime::asio::ConnectionId id, ByteView data) {
    swarm_.handle_input(loop_.now(), id, data);
    process();
  };
  callbacks.on_closed = [this](runtime::asio::ConnectionId id, std::string reason) {
    connection_info_.erase(id);
    swarm_.handle_closed(loop_.now(), id, reason);
    process();
  };
  transport_ = std::make_unique<runtime::asio::StreamTransport>(loop, runtime::asio::StreamTransportOptions{},
                                                                std::move(callbacks));
}

Network::~Network() {
  timer_.cancel();
  transport_.reset();  // closes sockets without calling back
}

Result<std::vector<Multiaddr>> Network::start() {
  std::vector<Multiaddr> dialable;
  for (const auto& address : options_.listen) {
    if (!is_stream_transport(address)) {
      spdlog::warn("not listening on {}: QUIC is not supported yet", address.to_string());
      continue;
    }
    auto bound = transport_->listen(address);
    if (!bound) return fail("cannot listen on " + address.to_string() + ": " + bound.error().text);
    for (auto& expanded : runtime::asio::expand_unspecified(*bound)) {
      dialable.push_back(expanded.with_peer_id(node_.peer_id()));
    }
    spdlog::info("listening on {}", bound->to_string());
  }
  swarm_.set_listen_addrs([&] {
    std::vector<Multiaddr> plain;
    for (const auto& addr : dialable) plain.push_back(addr.without_peer_id());
    return plain;
  }());
  return dialable;
}

void Network::connect(const Multiaddr& address, ConnectDone done) {
  auto expected = address.peer_id();
  if (expected && *expected == node_.peer_id()) {
    done(fail("that address is this node's own peer id"));
    return;
  }
  if (expected && swarm_.is_connected(*expected)) {
    done(*expected);  // already connected: nothing to dial
    return;
  }
  auto dial = transport_->dial(address);
  connects_[dial] = PendingConnect{expected, std::move(done), loop_.now() + options_.connect_timeout, std::nullopt};
  process();
}

void Network::on_open(const ConnectionInfo& info, std::optional<runtime::asio::DialId> dial) {
  const auto now = loop_.now();
  std::optional<PeerId> expected;
  if (dial) {
    auto pending = connects_.find(*dial);
    if (pending != connects_.end()) {
      pending->second.connection = info.id;
      expected = pending->second.expected;
    }
  }
  connection_info_[info.id] = info;
  auto direction = info.inbound ? swarm::Direction::inbound : swarm::Direction::outbound;
  if (!swarm_.add_connection(now, info.id, direction, info.local, info.remote, expected)) {
    spdlog::debug("refused connection {} from {}", info.id, info.remote.to_string());
  }
  process();
}

void Network::ping(const PeerId& peer, PingDone done) {
  auto request = next_ping_++;
  pings_[request] = PendingPing{std::move(done), loop_.now() + options_.ping_timeout};
  swarm_.ping(loop_.now(), peer, request);
  process();
}

bool Network::disconnect(const PeerId& peer) {
  if (!swarm_.is_connected(peer)) return false;
  swarm_.disconnect(peer);
  process();
  return true;
}

void Network::finish_connect(std::uint64_t key, Result<PeerId> result) {
  auto found = connects_.find(key);
  if (found == connects_.end()) return;
  auto done = std::move(found->second.done);
  connects_.erase(found);
  done(std::move(result));
}

void Network::process() {
  if (processing_) return;  // the outer call's loop picks up what this one would do
  processing_ = true;
  for (bool progressed = true; progressed;) {
    progressed = false;
    while (auto output = swarm_.poll_output()) {
      progressed = true;
      if (auto* transmit = std::get_if<swarm::swarm_output::Transmit>(&*output)) {
        transport_->send(transmit->connection, std::move(transmit->bytes));
      } else if (auto* close = std::get_if<swarm::swarm_output::Close>(&*output)) {
        transport_->close(close->connection);
      }
    }
    while (auto next = swarm_.poll_event()) {
      progressed = true;
      if (auto* connected = std::get_if<swarm::swarm_event::PeerConnected>(&*next)) {
        spdlog::info("connected to {} ({}, {})", connected->peer.to_string(), connected->remote_addr.to_string(),
                     connected->direction == swarm::Direction::inbound ? "inbound" : "outbound");
        for (auto& [key, pending] : connects_) {
          if (pending.connection == connected->connection) {
            finish_connect(key, connected->peer);
            break;
          }
        }
      } else if (auto* disconnected = std::get_if<swarm::swarm_event::PeerDisconnected>(&*next)) {
        spdlog::info("disconnected from {}: {}", disconnected->peer.to_string(), disconnected->reason);
      } else if (auto* failed = std::get_if<swarm::swarm_event::ConnectionFailed>(&*next)) {
        spdlog::info("connection {} failed: {}", failed->connection, failed->reason);
        for (auto& [key, pending] : connects_) {
          if (pending.connection == failed->connection) {
            finish_connect(key, fail(failed->reason));
            break;
          }
        }
      } else if (auto* identified = std::get_if<swarm::swarm_event::Identified>(&*next)) {
        spdlog::debug("identified {} as {}", identified->peer.to_string(),
                      identified->info.agent_version.value_or("?"));
      } else if (auto* pinged = std::get_if<swarm::swarm_event::PingResult>(&*next)) {
        auto pending = pings_.find(pinged->request);
        if (pending == pings_.end()) continue;
        auto done = std::move(pending->second.done);
        pings_.erase(pending);
        if (pinged->rtt) {
          done(*pinged->rtt);
        } else {
          done(fail(pinged->error));
        }
      }
    }
  }
  processing_ = false;

  // One timer for everything: the swarm's next deadline and our own.
  std::optional<Instant> next = swarm_.next_timeout();
  for (const auto& [key, pending] : connects_) {
    if (!next || pending.deadline < *next) next = pending.deadline;
  }
  for (const auto& [key, pending] : pings_) {
    if (!next || pending.deadline < *next) next = pending.deadline;
  }
  if (next) {
    timer_.arm_at(*next, [this] { on_timer(); });
  } else {
    timer_.cancel();
  }
}

void Network::on_timer() {
  const auto now = loop_.now();
  swarm_.handle_timeout(now);
  std::vector<std::uint64_t> expired_connects;
  for (const auto& [key, pending] : connects_) {
    if (now >= pending.deadline) expired_connects.push_back(key);
  }
  for (auto key : expired_connects) {
    auto connection = connects_.at(key).connection;
    finish_connect(key, fail("no connection within " + millis(options_.connect_timeout)));
    if (connection) transport_->close(*connection);
  }
  std::vector<swarm::RequestId> expired_pings;
  for (const auto& [request, pending] : pings_) {
    if (now >= pending.deadline) expired_pings.push_back(request);
  }
  for (auto request : expired_pings) {
    auto done = std::move(pings_.at(request).done);
    pings_.erase(request);
    done(fail("no answer within " + millis(options_.ping_timeout)));
  }
  process();
}

std::vector<PeerRow> Network::peers() const {
  std::vector<PeerRow> rows;
  for (const auto& connection : swarm_.connections()) {
    if (!connection.peer || !connection.established) continue;
    PeerRow row{*connection.peer, connection.remote_addr, "tcp",
                connection.direction == swarm::Direction::inbound ? "inbound" : "outbound",
                connection.rtt, {}, {}};
    if (auto info = connection_info_.find(connection.id); info != connection_info_.end()) {
      row.transport = info->second.transport == Transport::websocket ? "ws" : "tcp";
    }
    if (const auto* peer = swarm_.peerstore().find(*connection.peer)) {
      row.agent = peer->agent_version;
      row.protocols = peer->protocols;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::size_t Network::connection_count() const { return swarm_.connections().size(); }

}  // namespace taho::node
