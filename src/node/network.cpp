#include "node/network.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <type_traits>

#include "crypto/os_rng.hpp"
#include "node/quic_transport.hpp"
#include "runtime/asio/network_interfaces.hpp"

namespace taho::node {
namespace {

using runtime::asio::ConnectionInfo;
using runtime::asio::Transport;

bool is_stream_transport(const Multiaddr& address) {
  // TCP and WebSocket; QUIC (/udp/.../quic-v1) is QuicTransport's.
  return address.has(multiaddr::Protocol::tcp) && !address.has(multiaddr::Protocol::p2p_circuit);
}

host::HostOptions host_options(const Node& node, const NetworkOptions& options) {
  host::HostOptions host;
  host.swarm.identity = node.identity();
  host.swarm.agent_version = node.agent_version();
  host.swarm.peer_record_seq = options.peer_record_seq;
  host.swarm.connections_max = options.connections_max;
  host.kad.protocol = options.dht_protocol;
  host.kad.server = options.dht_server == config::ServiceMode::on;
  host.kad.follow_reachability = options.dht_server == config::ServiceMode::automatic;
  host.rendezvous.server = options.rendezvous_server == config::ServiceMode::on;
  host.rendezvous.follow_reachability = options.rendezvous_server == config::ServiceMode::automatic;
  host.gossip.router.rpc_limits.message_data_bytes_max = options.gossip_message_bytes_max;
  host.gossip.peer_messages_per_second = options.gossip_messages_per_peer_per_second;
  host.gossip.peer_message_burst = 2 * options.gossip_messages_per_peer_per_second;
  host.gossip.router.heartbeat_interval = options.heartbeat;
  host.connections.tick_interval = options.heartbeat;
  host.connections.min_peers = options.min_peers;
  host.connections.max_peers = options.max_peers;
  host.can_dial = is_stream_transport;
  // ---- QUIC hook: dialable beside TCP and WebSocket
  host.can_dial = [](const Multiaddr& address) {
    return is_stream_transport(address) || QuicTransport::handles(address);
  };
  host.content = options.content;
  host.content_storage = options.content_storage;
  return host;
}

double seconds_between(Instant from, Instant to) { return std::chrono::duration<double>(to - from).count(); }

// Bytes asked of the swarm per read() call.
constexpr std::size_t kStreamReadBytes = 256 * 1024;

std::string millis(Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

}  // namespace

Network::Network(runtime::asio::EventLoop& loop, Node& node, NetworkOptions options)
    : loop_(loop), node_(node), options_(std::move(options)), rng_(std::make_unique<crypto::OsRng>()),
      host_(host_options(node, options_), suite_, *rng_, loop.now()), timer_(loop) {
  runtime::asio::StreamTransportCallbacks callbacks;
  callbacks.on_open = [this](const ConnectionInfo& info) { on_open(info, std::nullopt); };
  callbacks.on_dialed = [this](runtime::asio::DialId dial, const ConnectionInfo& info) { on_open(info, dial); };
  callbacks.on_dial_failed = [this](runtime::asio::DialId dial, std::string error) {
    if (auto host_dial = host_dials_.find(dial); host_dial != host_dials_.end()) {
      const auto id = host_dial->second;
      host_dials_.erase(host_dial);
      spdlog::debug("dial failed: {}", error);
      host_.handle_dial_failed(loop_.now(), id, error);
    } else {
      finish_connect(dial, fail(std::move(error)));
    }
    process();
  };
  callbacks.on_data = [this](runtime::asio::ConnectionId id, ByteView data) {
    host_.handle_input(loop_.now(), id, data);
    process();
  };
  callbacks.on_closed = [this](runtime::asio::ConnectionId id, std::string reason) {
    connection_info_.erase(id);
    host_.handle_closed(loop_.now(), id, reason);
    process();
  };
  // Register before listening: a connection offers the protocols it was created with.
  host_.register_protocol(std::string(echo::protocol_id));
  host_.register_protocol(std::string(perf::protocol_id));
  transport_ = std::make_unique<runtime::asio::StreamTransport>(loop, runtime::asio::StreamTransportOptions{},
                                                                std::move(callbacks));
  start_quic();
}

Network::~Network() {
  timer_.cancel();
  transport_.reset();  // closes sockets without calling back
}

Result<std::vector<Multiaddr>> Network::start() {
  std::vector<Multiaddr> dialable;
  for (const auto& address : options_.listen) {
    if (QuicTransport::handles(address)) {  // ---- QUIC hook
      auto bound = quic_->listen(address);
      if (!bound) return fail("cannot listen on " + address.to_string() + ": " + bound.error().text);
      for (auto& expanded : runtime::asio::expand_unspecified(*bound)) {
        dialable.push_back(expanded.with_peer_id(node_.peer_id()));
      }
      spdlog::info("listening on {}", bound->to_string());
      continue;
    }
    if (!is_stream_transport(address)) {
      spdlog::warn("not listening on {}: no transport for it", address.to_string());
      continue;
    }
    auto bound = transport_->listen(address);
    if (!bound) return fail("cannot listen on " + address.to_string() + ": " + bound.error().text);
    for (auto& expanded : runtime::asio::expand_unspecified(*bound)) {
      dialable.push_back(expanded.with_peer_id(node_.peer_id()));
    }
    spdlog::info("listening on {}", bound->to_string());
  }
  host_.set_listen_addrs(loop_.now(), [&] {
    std::vector<Multiaddr> plain;
    for (const auto& addr : dialable) plain.push_back(addr.without_peer_id());
    return plain;
  }());
  process();
  return dialable;
}

void Network::connect(const Multiaddr& address, ConnectDone done) {
  auto expected = address.peer_id();
  if (expected && *expected == node_.peer_id()) {
    done(fail("that address is this node's own peer id"));
    return;
  }
  if (expected && connection_over(*expected, host::transport_of(address))) {
    done(*expected);  // already connected (over this address's transport): nothing to dial
    return;
  }
  if (QuicTransport::handles(address)) {  // ---- QUIC hook
    auto dial = quic_->dial(address);
    if (!dial) return done(unexpected(std::move(dial).error()));
    connects_[*dial] = PendingConnect{expected, std::move(done), loop_.now() + options_.connect_timeout, std::nullopt};
    process();
    return;
  }
  auto dial = transport_->dial(address);
  connects_[dial] = PendingConnect{expected, std::move(done), loop_.now() + options_.connect_timeout, std::nullopt};
  process();
}

void Network::on_open(const ConnectionInfo& info, std::optional<runtime::asio::DialId> dial) {
  const auto now = loop_.now();
  std::optional<PeerId> expected;
  std::optional<host::DialId> host_dial;
  if (dial) {
    auto pending = connects_.find(*dial);
    if (pending != connects_.end()) {
      pending->second.connection = info.id;
      expected = pending->second.expected;
    }
    if (auto found = host_dials_.find(*dial); found != host_dials_.end()) {
      host_dial = found->second;
      host_dials_.erase(found);
    }
  }
  connection_info_[info.id] = info;
  auto direction = info.inbound ? swarm::Direction::inbound : swarm::Direction::outbound;
  if (!host_.add_connection(now, info.id, direction, info.local, info.remote, expected, host_dial)) {
    // Above a limit: the swarm keeps no state for it, so the socket goes now.
    spdlog::debug("refused connection {} from {}", info.id, info.remote.to_string());
    connection_info_.erase(info.id);
    transport_->close(info.id);
  }
  process();
}

void Network::ping(const PeerId& peer, PingDone done) {
  auto request = host_.ping(loop_.now(), peer);
  pings_[request] = PendingPing{std::move(done), loop_.now() + options_.ping_timeout};
  process();
}

bool Network::disconnect(const PeerId& peer) {
  if (!host_.swarm().is_connected(peer)) return false;
  host_.disconnect(loop_.now(), peer);
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
  const auto now = loop_.now();
  for (bool progressed = true; progressed;) {
    progressed = false;
    host_.process(now);  // what stream I/O through host_.swarm() queued
    while (auto output = host_.poll_output()) {
      progressed = true;
      if (quic_->handle_output(*output)) continue;  // ---- QUIC hook: its streams and connections
      if (auto* transmit = std::get_if<swarm::swarm_output::Transmit>(&*output)) {
        transport_->send(transmit->connection, std::move(transmit->bytes));
      } else if (auto* close = std::get_if<swarm::swarm_output::Close>(&*output)) {
        transport_->close(close->connection);
      } else if (auto* quic_dial = std::get_if<host::host_output::Dial>(&*output);
                 quic_dial && QuicTransport::handles(quic_dial->addr)) {  // ---- QUIC hook
        spdlog::debug("dialing {} ({})", quic_dial->peer.to_string(), quic_dial->addr.to_string());
        if (auto dialed = quic_->dial(quic_dial->addr)) {
          host_dials_[*dialed] = quic_dial->id;
        } else {
          host_.handle_dial_failed(now, quic_dial->id, dialed.error().text);
        }
      } else if (auto* dial = std::get_if<host::host_output::Dial>(&*output)) {
        spdlog::debug("dialing {} ({})", dial->peer.to_string(), dial->addr.to_string());
        host_dials_[transport_->dial(dial->addr)] = dial->id;
      }
    }
    while (auto next = host_.poll_event()) {
      progressed = true;
      if (auto* event = std::get_if<swarm::SwarmEvent>(&*next)) {
        on_swarm_event(now, *event);
      } else if (auto* message = std::get_if<host::GossipMessage>(&*next)) {
        on_gossip(*message);
      } else if (auto* finished = std::get_if<host::kad_event::QueryFinished>(&*next)) {
        on_query_finished(*finished);
      } else if (auto* progress = std::get_if<host::content_event::FetchProgress>(&*next)) {
        on_fetch_progress(*progress);
      } else if (auto* fetched = std::get_if<host::content_event::FetchFinished>(&*next)) {
        on_fetch_finished(*fetched);
      }
    }
  }
  processing_ = false;

  // One timer for everything: the host's next deadline and our own.
  std::optional<Instant> next = host_.next_timeout();
  for (const auto& [id, query] : queries_) {
    if (!next || query.deadline < *next) next = query.deadline;
  }
  for (const auto& [key, pending] : connects_) {
    if (!next || pending.deadline < *next) next = pending.deadline;
  }
  for (const auto& [key, pending] : pings_) {
    if (!next || pending.deadline < *next) next = pending.deadline;
  }
  for (const auto& [key, transfer] : transfers_) {
    if (!next || transfer.deadline < *next) next = transfer.deadline;
  }
  if (next) {
    timer_.arm_at(*next, [this] { on_timer(); });
  } else {
    timer_.cancel();
  }
  quic_->flush();  // ---- QUIC hook: send what the stream outputs queued (re-enters process() safely)
}

void Network::on_swarm_event(Instant now, swarm::SwarmEvent& event) {
    if (auto* connected = std::get_if<swarm::swarm_event::PeerConnected>(&event)) {
      spdlog::info("connected to {} ({}, {})", connected->peer.to_string(), connected->remote_addr.to_string(),
                   connected->direction == swarm::Direction::inbound ? "inbound" : "outbound");
      for (auto& [key, pending] : connects_) {
        if (pending.connection == connected->connection) {
          finish_connect(key, connected->peer);
          break;
        }
      }
    } else if (auto* disconnected = std::get_if<swarm::swarm_event::PeerDisconnected>(&event)) {
      spdlog::info("disconnected from {}: {}", disconnected->peer.to_string(), disconnected->reason);
      std::vector<StreamKey> orphans;
      for (const auto& [key, stream] : streams_) {
        if (key.first == disconnected->connection) orphans.push_back(key);
      }
      for (const auto& key : orphans) {
        finish_stream(now, key, "the connection closed: " + disconnected->reason);
      }
    } else if (auto* failed = std::get_if<swarm::swarm_event::ConnectionFailed>(&event)) {
      // Debug, not info: a flood of abandoned connections must not flood the log.
      spdlog::debug("connection {} failed: {}", failed->connection, failed->reason);
      for (auto& [key, pending] : connects_) {
        if (pending.connection == failed->connection) {
          finish_connect(key, fail(failed->reason));
          break;
        }
      }
    } else if (auto* identified = std::get_if<swarm::swarm_event::Identified>(&event)) {
      spdlog::debug("identified {} as {}", identified->peer.to_string(),
                    identified->info.agent_version.value_or("?"));
    } else if (auto* opened = std::get_if<swarm::swarm_event::StreamOpened>(&event)) {
      on_stream_opened(now, *opened);
    } else if (auto* open_failed = std::get_if<swarm::swarm_event::StreamOpenFailed>(&event)) {
      auto request = stream_requests_.find(open_failed->request);
      if (request == stream_requests_.end()) return;
      const auto transfer = request->second;
      stream_requests_.erase(request);
      finish_transfer(transfer, "cannot open " + open_failed->protocol + ": " + open_failed->error, now);
    } else if (auto* readable = std::get_if<swarm::swarm_event::StreamReadable>(&event)) {
      pump_stream(now, {readable->connection, readable->stream});
    } else if (auto* writable = std::get_if<swarm::swarm_event::StreamWritable>(&event)) {
      pump_stream(now, {writable->connection, writable->stream});
    } else if (auto* stream_closed = std::get_if<swarm::swarm_event::StreamClosed>(&event)) {
      const StreamKey key{stream_closed->connection, stream_closed->stream};
      if (streams_.count(key)) {
        pump_stream(now, key);  // the end of the stream may be unread yet
        if (streams_.count(key)) {
          finish_stream(now, key, stream_closed->reset ? "the peer reset the stream" : "the stream closed early");
        }
      }
    } else if (auto* pinged = std::get_if<swarm::swarm_event::PingResult>(&event)) {
      auto pending = pings_.find(pinged->request);
      if (pending == pings_.end()) return;
      auto done = std::move(pending->second.done);
      pings_.erase(pending);
      if (pinged->rtt) {
        done(*pinged->rtt);
      } else {
        done(fail(pinged->error));
      }
    }
}

void Network::track_query(host::QueryId id, DhtDone done) {
  // Its QueryFinished waits in the host's queue until process() runs.
  queries_[id] = PendingQuery{std::move(done), loop_.now() + options_.dht_timeout};
  process();
}

void Network::on_query_finished(host::kad_event::QueryFinished& finished) {
  auto found = queries_.find(finished.id);
  if (found == queries_.end()) return;  // timed out already
  auto done = std::move(found->second.done);
  queries_.erase(found);
  if (finished.error) return done(fail(*finished.error));
  done(std::move(finished));
}

void Network::dht_find_peer(const PeerId& peer, DhtDone done) {
  track_query(host_.dht_find_peer(loop_.now(), peer), std::move(done));
}

void Network::dht_providers(const Bytes& key, DhtDone done) {
  track_query(host_.dht_get_providers(loop_.now(), key), std::move(done));
}

void Network::dht_provide(const Bytes& key, DhtDone done) {
  track_query(host_.dht_provide(loop_.now(), key), std::move(done));
}

Result<Network::SubscriptionId> Network::subscribe(const std::string& topic, OnMessage on_message) {
  const bool first = std::none_of(subscriptions_.begin(), subscriptions_.end(),
                                  [&](const auto& entry) { return entry.second.topic == topic; });
  if (first) {
    if (auto subscribed = host_.subscribe(loop_.now(), topic); !subscribed) {
      return fail(subscribed.error().code == gossipsub::subscribe::Errc::topic_too_long ? "topic too long"
                                                                                          : "too many topics");
    }
  }
  const auto id = next_subscription_++;
  subscriptions_.emplace(id, Subscription{topic, std::move(on_message)});
  process();
  return id;
}

void Network::unsubscribe(SubscriptionId id) {
  auto found = subscriptions_.find(id);
  if (found == subscriptions_.end()) return;
  const std::string topic = found->second.topic;
  subscriptions_.erase(found);
  const bool last = std::none_of(subscriptions_.begin(), subscriptions_.end(),
                                 [&](const auto& entry) { return entry.second.topic == topic; });
  if (last) host_.unsubscribe(loop_.now(), topic);
  process();
}

Expected<Bytes, gossipsub::PublishError> Network::publish(const std::string& topic, ByteView data) {
  auto published = host_.publish(loop_.now(), topic, data);
  process();
  if (published) return std::move(*published);
  gossipsub::PublishError error = published.error();
  switch (error.code) {
    case gossipsub::publish::Errc::no_peers: error.detail = "no peer subscribes to " + topic + " yet"; break;
    case gossipsub::publish::Errc::duplicate: error.detail = "the same message was published already"; break;
    case gossipsub::publish::Errc::data_too_large:
      error.detail = "the message is larger than the limit of " + std::to_string(options_.gossip_message_bytes_max) +
                     " bytes";
      break;
    case gossipsub::publish::Errc::too_many_topics: error.detail = "publishing to too many topics at once"; break;
  }
  return unexpected(std::move(error));
}

void Network::on_gossip(const host::GossipMessage& message) {
  // Copy the callbacks first: one may unsubscribe (or subscribe) while it runs.
  std::vector<OnMessage> receivers;
  for (const auto& [id, subscription] : subscriptions_) {
    if (subscription.topic == message.topic) receivers.push_back(subscription.on_message);
  }
  for (const auto& receive : receivers) receive(message);
}

host::FetchId Network::fetch(const content::Hash& root, std::optional<content::ByteRange> range,
                             FetchProgressFn on_progress, FetchDoneFn on_done) {
  const auto id = host_.fetch(loop_.now(), root, range);
  // Its events wait in the host's queue until process() runs.
  fetches_[id] = PendingFetch{std::move(on_progress), std::move(on_done)};
  process();
  return id;
}

void Network::cancel_fetch(host::FetchId id) {
  host_.cancel_fetch(loop_.now(), id);
  process();
}

void Network::announce_content(const content::Hash& root, std::uint64_t size) {
  host_.announce_content(loop_.now(), root, size);
  process();
}

void Network::withdraw_content(const content::Hash& root) {
  host_.withdraw_content(loop_.now(), root);
  process();
}

std::vector<host::HolderInfo> Network::content_holders(const content::Hash& root) const {
  return host_.content_holders(root);
}

void Network::import_holder_index(const std::vector<host::HolderRecord>& records) {
  host_.import_holder_index(loop_.now(), records);
  process();
}

void Network::on_fetch_progress(const host::content_event::FetchProgress& progress) {
  auto found = fetches_.find(progress.id);
  if (found == fetches_.end() || !found->second.on_progress) return;
  auto on_progress = found->second.on_progress;  // the callback may cancel the fetch
  on_progress(progress);
}

void Network::on_fetch_finished(const host::content_event::FetchFinished& finished) {
  auto found = fetches_.find(finished.id);
  if (found == fetches_.end()) return;
  auto on_done = std::move(found->second.on_done);
  fetches_.erase(found);
  if (on_done) on_done(finished);
}

void Network::add_bootstrap(const Multiaddr& address) {
  host_.add_bootstrap(loop_.now(), address);
  process();
}

void Network::add_rendezvous_point(const Multiaddr& address) {
  host_.add_rendezvous_point(loop_.now(), address);
  process();
}

void Network::add_discovered(const PeerId& peer, const std::vector<Multiaddr>& addrs, host::Source source) {
  host_.add_discovered(loop_.now(), peer, addrs, source);
  process();
}

std::vector<host::KnownPeer> Network::known_peers() const {
  std::vector<host::KnownPeer> peers;
  for (const auto& [peer, known] : host_.connections().known()) peers.push_back(known);
  return peers;
}

void Network::on_timer() {
  const auto now = loop_.now();
  host_.handle_timeout(now);
  std::vector<host::QueryId> expired_queries;
  for (const auto& [id, query] : queries_) {
    if (now >= query.deadline) expired_queries.push_back(id);
  }
  for (auto id : expired_queries) {
    auto done = std::move(queries_.at(id).done);
    queries_.erase(id);
    done(fail("the DHT query did not finish within " + millis(options_.dht_timeout)));
  }
  std::vector<std::uint64_t> expired_connects;
  for (const auto& [key, pending] : connects_) {
    if (now >= pending.deadline) expired_connects.push_back(key);
  }
  for (auto key : expired_connects) {
    auto connection = connects_.at(key).connection;
    finish_connect(key, fail("no connection within " + millis(options_.connect_timeout)));
    if (connection && quic_->owns(*connection)) {
      quic_->close(*connection);  // ---- QUIC hook
    } else if (connection) {
      transport_->close(*connection);
    }
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
  std::vector<std::uint64_t> expired_transfers;
  for (const auto& [id, transfer] : transfers_) {
    if (now >= transfer.deadline) expired_transfers.push_back(id);
  }
  for (auto id : expired_transfers) finish_transfer(id, "not finished within " + millis(options_.transfer_timeout), now);
  process();
}

std::uint64_t Network::start_transfer(Transfer transfer) {
  const auto id = next_transfer_++;
  transfer.started = loop_.now();
  transfer.deadline = transfer.started + options_.transfer_timeout;
  transfers_.emplace(id, std::move(transfer));
  return id;
}

void Network::perf(const PeerId& peer, std::uint64_t upload_bytes, std::uint64_t download_bytes, PerfDone done) {
  if (download_bytes > perf::download_bytes_max) {
    done(fail("perf: at most " + std::to_string(perf::download_bytes_max) + " bytes can be downloaded"));
    return;
  }
  Transfer transfer{peer, std::move(done), upload_bytes, download_bytes, 1, 1, {}, {}, std::nullopt, {}};
  const auto id = start_transfer(std::move(transfer));
  const auto request = host_.open_stream(loop_.now(), peer, std::string(perf::protocol_id));
  stream_requests_[request] = id;
  process();
}

void Network::echo(const PeerId& peer, std::size_t streams, std::uint64_t bytes_per_stream, EchoDone done) {
  if (streams == 0 || streams > options_.echo_streams_max) {
    done(fail("echo: give 1 to " + std::to_string(options_.echo_streams_max) + " streams"));
    return;
  }
  if (bytes_per_stream > echo::payload_bytes_max) {
    done(fail("echo: at most " + std::to_string(echo::payload_bytes_max) + " bytes per stream"));
    return;
  }
  Transfer transfer{peer, std::move(done), bytes_per_stream, 0, streams, streams, {}, {}, std::nullopt, {}};
  const auto id = start_transfer(std::move(transfer));
  for (std::size_t i = 0; i < streams && transfers_.count(id); ++i) {
    const auto request = host_.open_stream(loop_.now(), peer, std::string(echo::protocol_id));
    stream_requests_[request] = id;
  }
  process();
}

void Network::on_stream_opened(Instant now, const swarm::swarm_event::StreamOpened& opened) {
  const StreamKey key{opened.connection, opened.stream};
  if (opened.direction == swarm::Direction::inbound) {
    if (opened.protocol == echo::protocol_id) {
      streams_.emplace(key, AppStream{echo::Server{}, 0, false, false});
    } else if (opened.protocol == perf::protocol_id) {
      streams_.emplace(key, AppStream{perf::Server{}, 0, false, false});
    } else {
      host_.swarm().reset(now, opened.connection, opened.stream);
      return;
    }
    pump_stream(now, key);
    return;
  }
  auto request = stream_requests_.find(opened.request);
  if (request == stream_requests_.end()) {
    host_.swarm().reset(now, opened.connection, opened.stream);  // its transfer already ended
    return;
  }
  const auto id = request->second;
  stream_requests_.erase(request);
  auto transfer = transfers_.find(id);
  if (transfer == transfers_.end()) {
    host_.swarm().reset(now, opened.connection, opened.stream);
    return;
  }
  if (opened.protocol == perf::protocol_id) {
    auto client = perf::Client::create(transfer->second.upload_bytes, transfer->second.download_bytes);
    if (!client) return finish_transfer(id, client.error().text, now);
    transfer->second.started = now;  // the upload is timed from the open stream
    streams_.emplace(key, AppStream{std::move(*client), id, false, false});
  } else {
    auto client = echo::Client::create(opened.request, transfer->second.upload_bytes);
    if (!client) return finish_transfer(id, client.error().text, now);
    streams_.emplace(key, AppStream{std::move(*client), id, false, false});
  }
  transfer->second.streams.push_back(key);
  pump_stream(now, key);
}

void Network::pump_stream(Instant now, const StreamKey& key) {
  for (bool progressed = true; progressed;) {
    progressed = false;
    auto found = streams_.find(key);
    if (found == streams_.end()) return;
    AppStream& stream = found->second;
    const auto [connection, id] = key;

    // Write what the core has, as far as the stream's window allows.
    std::optional<std::string> error;
    bool write_blocked = false;
    std::visit([&](auto& core) {
      while (!error && !write_blocked) {
        const auto out = core.pending_output();
        if (out.empty()) break;
        auto written = host_.swarm().write(now, connection, id, out);
        if (!written) {
          error = "write failed: " + written.error().text;
          break;
        }
        core.consume_output(*written);
        if (*written > 0) progressed = true;
        if (*written < out.size()) write_blocked = true;  // StreamWritable follows
      }
      if (!error && !write_blocked && !stream.write_closed && core.close_write_due() && core.pending_output().empty()) {
        if (auto closed = host_.swarm().close_write(now, connection, id); !closed) {
          error = "close failed: " + closed.error().text;
          return;
        }
        stream.write_closed = true;
        progressed = true;
      }
    }, stream.core);
    if (error) return finish_stream(now, key, error);
    if (stream.write_closed && std::holds_alternative<perf::Client>(stream.core)) {
      auto transfer = transfers_.find(stream.transfer);
      if (transfer != transfers_.end() && !transfer->second.upload_finished) transfer->second.upload_finished = now;
    }

    // Read while the core takes input; an echo server reads only what it can hold.
    std::visit([&](auto& core) {
      if (stream.read_ended || !core.wants_input()) return;
      std::size_t room = kStreamReadBytes;
      if constexpr (std::is_same_v<std::decay_t<decltype(core)>, echo::Server>) room = core.input_room();
      auto chunk = host_.swarm().read(now, connection, id, room);
      if (!chunk) {
        error = "read failed: " + chunk.error().text;
        return;
      }
      if (!chunk->data.empty()) {
        progressed = true;
        if (auto fed = core.handle_data(chunk->data); !fed) {
          error = fed.error().text;
          return;
        }
      }
      if (chunk->finished) {
        progressed = true;
        stream.read_ended = true;
        if constexpr (std::is_same_v<std::decay_t<decltype(core)>, echo::Server>) {
          core.handle_end();
        } else if (auto ended = core.handle_end(); !ended) {
          error = ended.error().text;
        }
      }
    }, stream.core);
    if (error) return finish_stream(now, key, error);

    // Both directions done: the stream has served its purpose.
    if (stream.write_closed && stream.read_ended) return finish_stream(now, key, std::nullopt);
  }
}

void Network::finish_stream(Instant now, const StreamKey& key, const std::optional<std::string>& error) {
  auto found = streams_.find(key);
  if (found == streams_.end()) return;
  const auto transfer_id = found->second.transfer;
  const bool client = transfer_id != 0;
  streams_.erase(found);
  if (error) {
    host_.swarm().reset(now, key.first, key.second);
    if (!client) spdlog::debug("inbound stream {}/{} failed: {}", key.first, key.second, *error);
  }
  if (!client) return;
  auto transfer = transfers_.find(transfer_id);
  if (transfer == transfers_.end()) return;
  auto& streams = transfer->second.streams;
  streams.erase(std::remove(streams.begin(), streams.end(), key), streams.end());
  if (error) return finish_transfer(transfer_id, *error, now);
  if (transfer->second.streams_left > 0) --transfer->second.streams_left;
  if (transfer->second.streams_left == 0) finish_transfer(transfer_id, std::nullopt, now);
}

void Network::finish_transfer(std::uint64_t id, const std::optional<std::string>& error, Instant now) {
  auto found = transfers_.find(id);
  if (found == transfers_.end()) return;
  Transfer transfer = std::move(found->second);
  transfers_.erase(found);
  // Streams still running for a failed transfer are reset; requests still
  // opening are dropped (on_stream_opened resets them when they arrive).
  for (const auto& key : transfer.streams) {
    if (streams_.erase(key)) host_.swarm().reset(now, key.first, key.second);
  }
  for (auto it = stream_requests_.begin(); it != stream_requests_.end();) {
    it = it->second == id ? stream_requests_.erase(it) : std::next(it);
  }
  if (auto* perf_done = std::get_if<PerfDone>(&transfer.done)) {
    if (error) return (*perf_done)(fail("perf with " + transfer.peer.to_string() + ": " + *error));
    const auto upload_end = transfer.upload_finished.value_or(now);
    (*perf_done)(PerfResult{transfer.upload_bytes, transfer.download_bytes,
                            seconds_between(transfer.started, upload_end), seconds_between(upload_end, now)});
  } else if (auto* echo_done = std::get_if<EchoDone>(&transfer.done)) {
    if (error) return (*echo_done)(fail("echo with " + transfer.peer.to_string() + ": " + *error));
    (*echo_done)(EchoResult{transfer.upload_bytes * transfer.streams_total, seconds_between(transfer.started, now)});
  }
}

std::vector<PeerRow> Network::peers() const {
  std::vector<PeerRow> rows;
  for (const auto& connection : host_.swarm().connections()) {
    if (!connection.peer || !connection.established) continue;
    PeerRow row{*connection.peer, "", connection.remote_addr, "tcp",
                connection.direction == swarm::Direction::inbound ? "inbound" : "outbound",
                connection.rtt, {}, {}};
    if (auto info = connection_info_.find(connection.id); info != connection_info_.end()) {
      row.transport = info->second.transport == Transport::websocket ? "ws" : "tcp";
    }
    if (connection.transport_muxed) row.transport = "quic";  // ---- QUIC hook
    if (auto source = host_.source_of(*connection.peer)) row.source = std::string(host::to_string(*source));
    if (const auto* peer = host_.swarm().peerstore().find(*connection.peer)) {
      row.agent = peer->agent_version;
      row.protocols = peer->protocols;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::size_t Network::connection_count() const { return host_.swarm().connection_count(); }

}  // namespace taho::node

// ---- QUIC and transport choice (issue #5)
namespace taho::node {

void Network::start_quic() {
  QuicTransportCallbacks callbacks;
  callbacks.on_connected = [this](const quic_link::Up& link, std::optional<QuicDialId> dial) {
    std::optional<host::DialId> host_dial;
    if (dial) {
      if (auto pending = connects_.find(*dial); pending != connects_.end()) pending->second.connection = link.id;
      if (auto found = host_dials_.find(*dial); found != host_dials_.end()) {
        host_dial = found->second;
        host_dials_.erase(found);
      }
    }
    const auto direction = link.inbound ? swarm::Direction::inbound : swarm::Direction::outbound;
    const bool added =
        host_.add_muxed_connection(loop_.now(), link.id, direction, link.local, link.remote, link.peer, host_dial);
    if (!added) spdlog::debug("refused QUIC connection {} from {}", link.id, link.remote.to_string());
    return added;
  };
  callbacks.on_dial_failed = [this](QuicDialId dial, std::string error) {
    if (auto host_dial = host_dials_.find(dial); host_dial != host_dials_.end()) {
      const auto id = host_dial->second;
      host_dials_.erase(host_dial);
      spdlog::debug("QUIC dial failed: {}", error);
      host_.handle_dial_failed(loop_.now(), id, error);
    } else {
      finish_connect(dial, fail(std::move(error)));
    }
  };
  callbacks.on_closed = [this](swarm::ConnectionId id, std::string reason) {
    host_.handle_closed(loop_.now(), id, reason);
  };
  callbacks.on_activity = [this] { process(); };
  quic_ = std::make_unique<QuicTransport>(loop_, host_, node_.identity(), *rng_, runtime::asio::QuicSocketOptions{},
                                          std::move(callbacks));
}

std::optional<swarm::ConnectionId> Network::connection_over(const PeerId& peer, host::Transport transport) const {
  for (const auto& connection : host_.swarm().connections()) {
    if (connection.peer == peer && connection.established && host::transport_of(connection.remote_addr) == transport) {
      return connection.id;
    }
  }
  return std::nullopt;
}

void Network::ping_over(const PeerId& peer, std::optional<host::Transport> transport, TransportPingDone done) {
  const auto now = loop_.now();
  std::optional<swarm::ConnectionId> connection;
  if (transport) {
    connection = connection_over(peer, *transport);
  } else {
    for (const auto& summary : host_.swarm().connections()) {
      if (summary.peer == peer && summary.established) {
        connection = summary.id;
        break;
      }
    }
  }
  if (connection) {
    std::string name;
    for (const auto& summary : host_.swarm().connections()) {
      if (summary.id == *connection) name = std::string(host::to_string(host::transport_of(summary.remote_addr)));
    }
    const auto request = host_.ping_connection(now, *connection);
    pings_[request] = PendingPing{[done = std::move(done), name](Result<Duration> rtt) {
                                    if (!rtt) return done(unexpected(std::move(rtt).error()));
                                    done(TransportPing{*rtt, name});
                                  },
                                  now + options_.ping_timeout};
    process();
    return;
  }
  if (!transport) return done(fail("not connected to " + peer.to_string()));
  // No connection over that transport yet: dial one of the peer's known
  // addresses of it, then ping over the new connection.
  std::vector<Multiaddr> known;
  if (const auto* entry = host_.connections().find(peer)) known = entry->addrs;
  if (const auto* info = host_.swarm().peerstore().find(peer)) {
    for (const auto& addr : info->addrs) known.push_back(addr);
  }
  std::optional<Multiaddr> chosen;
  for (const auto& addr : known) {
    if (host::transport_of(addr) != *transport) continue;
    if (*transport == host::Transport::quic ? !QuicTransport::handles(addr) : !is_stream_transport(addr)) continue;
    if (!chosen || (host::is_loopback_addr(*chosen) && !host::is_loopback_addr(addr))) chosen = addr;
  }
  if (!chosen) {
    return done(fail("no " + std::string(host::to_string(*transport)) + " address known for " + peer.to_string()));
  }
  connect(chosen->peer_id() ? *chosen : chosen->with_peer_id(peer),
          [this, peer, transport, done = std::move(done)](Result<PeerId> connected) mutable {
            if (!connected) return done(unexpected(std::move(connected).error()));
            if (!connection_over(peer, *transport)) {
              return done(fail("connected, but not over " + std::string(host::to_string(*transport))));
            }
            ping_over(peer, transport, std::move(done));
          });
}

}  // namespace taho::node
