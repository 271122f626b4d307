#include "host/host.hpp"

#include <algorithm>

#include "proto/identify/peer_record.hpp"

namespace taho::host {

namespace {

bool has_tcp(const Multiaddr& addr) {
  return addr.has(multiaddr::Protocol::tcp) && !addr.has(multiaddr::Protocol::p2p_circuit);
}

// The IP of a /ip4 or /ip6 address, as text; empty for anything else.
std::string ip_of(const Multiaddr& addr) {
  for (const auto& component : addr.components()) {
    if (component.protocol() == multiaddr::Protocol::ip4 || component.protocol() == multiaddr::Protocol::ip6) {
      return component.value_text();
    }
  }
  return {};
}

std::uint64_t seqno_of(const gossipsub::Message& message) {
  std::uint64_t value = 0;
  if (!message.seqno) return 0;
  for (auto byte : *message.seqno) value = value << 8 | byte;
  return value;
}

}  // namespace

Host::Host(HostOptions options, crypto::CryptoSuite& suite, Rng& rng, Instant now)
    : options_(std::move(options)),
      swarm_(options_.swarm, suite, rng),
      rng_(rng),
      kad_(PeerId::from_ed25519(options_.swarm.identity.public_key()), now, rng, options_.kad),
      gossip_(options_.swarm.identity, rng, now, options_.gossip),
      rendezvous_(PeerId::from_ed25519(options_.swarm.identity.public_key()), rng, options_.rendezvous),
      manager_(PeerId::from_ed25519(options_.swarm.identity.public_key()), rng, options_.connections,
               options_.can_dial ? options_.can_dial : std::function<bool(const Multiaddr&)>(has_tcp)),
      record_seq_(options_.swarm.peer_record_seq) {
  if (!options_.can_dial) options_.can_dial = has_tcp;
  // Registered before any connection exists: connections offer the list
  // they were created with, and identify announces it (a client-mode DHT
  // node must not announce the kad protocol).
  if (kad_.server()) swarm_.register_protocol(kad_.protocol());
  for (const auto& protocol : GossipBehaviour::protocols()) swarm_.register_protocol(protocol);
  if (rendezvous_.server()) swarm_.register_protocol(std::string(RendezvousBehaviour::protocol()));
}

// ---- driver input

bool Host::add_connection(Instant now, swarm::ConnectionId id, swarm::Direction direction,
                          const Multiaddr& local_addr, const Multiaddr& remote_addr,
                          std::optional<PeerId> expected_peer, std::optional<DialId> dial) {
  if (dial && dials_.count(*dial)) dial_connections_[id] = *dial;
  const bool added = swarm_.add_connection(now, id, direction, local_addr, remote_addr, std::move(expected_peer));
  process_until_quiet(now);
  return added;
}

void Host::handle_input(Instant now, swarm::ConnectionId id, ByteView bytes) {
  swarm_.handle_input(now, id, bytes);
  process_until_quiet(now);
}

void Host::handle_closed(Instant now, swarm::ConnectionId id, const std::string& reason) {
  swarm_.handle_closed(now, id, reason);
  process_until_quiet(now);
}

void Host::handle_dial_failed(Instant now, DialId dial, const std::string& reason) {
  dial_failed(now, dial, reason);
  process_until_quiet(now);
}

void Host::handle_timeout(Instant now) {
  swarm_.handle_timeout(now);
  kad_.handle_timeout(now, swarm_);
  gossip_.handle_timeout(now, swarm_);
  rendezvous_.handle_timeout(now);
  manager_.set_protected(gossip_.mesh_peers());
  manager_.handle_timeout(now);
  process_until_quiet(now);
}

void Host::process(Instant now) { process_until_quiet(now); }

// ---- dialing

void Host::dial(Instant now, const PeerId& peer, const Multiaddr& addr) {
  (void)now;
  if (dialing_.count(peer) || swarm_.is_connected(peer) || peer == local_peer()) return;
  const DialId id = next_dial_++;
  dials_.emplace(id, peer);
  dialing_[peer] = id;
  dial_outputs_.push_back(host_output::Dial{id, peer, addr.peer_id() ? addr : addr.with_peer_id(peer)});
}

void Host::dial_failed(Instant now, DialId dial, const std::string& reason) {
  (void)reason;
  auto found = dials_.find(dial);
  if (found == dials_.end()) return;
  const PeerId peer = found->second;
  dials_.erase(found);
  if (auto current = dialing_.find(peer); current != dialing_.end() && current->second == dial) dialing_.erase(current);
  for (auto it = dial_connections_.begin(); it != dial_connections_.end();) {
    it = it->second == dial ? dial_connections_.erase(it) : std::next(it);
  }
  manager_.handle_dial_failed(now, peer);
  kad_.on_dial_failed(now, peer);
}

// ---- commands

void Host::set_listen_addrs(Instant now, std::vector<Multiaddr> addrs) {
  listen_addrs_ = addrs;
  // Rendezvous registrations carry our signed peer record; a new one
  // (higher sequence number) re-registers everywhere.
  rendezvous_.set_signed_peer_record(now, identify::seal_peer_record(options_.swarm.identity, record_seq_++, addrs));
  swarm_.set_listen_addrs(std::move(addrs));
  process_until_quiet(now);
}

void Host::add_bootstrap(Instant now, const Multiaddr& addr) {
  auto peer = addr.peer_id();
  if (!peer || *peer == local_peer()) return;
  manager_.add_bootstrap(now, *peer, addr);
  rendezvous_.add_point(*peer);
  process_until_quiet(now);
}

void Host::add_rendezvous_point(Instant now, const Multiaddr& addr) { add_bootstrap(now, addr); }

void Host::add_discovered(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs, Source source) {
  manager_.add_known(now, peer, addrs, source);
  process_until_quiet(now);
}

void Host::disconnect(Instant now, const PeerId& peer) {
  swarm_.disconnect(peer);
  process_until_quiet(now);
}

swarm::RequestId Host::open_stream(Instant now, const PeerId& peer, std::string protocol) {
  const auto request = next_request_++;
  swarm_.open_stream(now, peer, std::move(protocol), request);
  process_until_quiet(now);
  return request;
}

swarm::RequestId Host::ping(Instant now, const PeerId& peer) {
  const auto request = next_request_++;
  swarm_.ping(now, peer, request);
  process_until_quiet(now);
  return request;
}

std::vector<Multiaddr> Host::provider_addrs() const { return listen_addrs_; }

QueryId Host::dht_find_peer(Instant now, const PeerId& peer) {
  const auto id = kad_.find_peer(now, peer);
  process_until_quiet(now);
  return id;
}

QueryId Host::dht_get_providers(Instant now, const Bytes& key) {
  const auto id = kad_.get_providers(now, key);
  process_until_quiet(now);
  return id;
}

QueryId Host::dht_provide(Instant now, const Bytes& key) {
  const auto id = kad_.provide(now, key, provider_addrs());
  process_until_quiet(now);
  return id;
}

QueryId Host::dht_put_value(Instant now, const kad::Record& record) {
  const auto id = kad_.put_value(now, record);
  process_until_quiet(now);
  return id;
}

QueryId Host::dht_get_value(Instant now, const Bytes& key) {
  const auto id = kad_.get_value(now, key);
  process_until_quiet(now);
  return id;
}

Expected<void, gossipsub::SubscribeError> Host::subscribe(Instant now, std::string_view topic) {
  auto result = gossip_.subscribe(now, swarm_, topic);
  process_until_quiet(now);
  return result;
}

void Host::unsubscribe(Instant now, std::string_view topic) {
  gossip_.unsubscribe(now, swarm_, topic);
  process_until_quiet(now);
}

Expected<Bytes, gossipsub::PublishError> Host::publish(Instant now, std::string_view topic, ByteView data) {
  auto result = gossip_.publish(now, swarm_, topic, data);
  process_until_quiet(now);
  return result;
}

// ---- event routing

void Host::process_until_quiet(Instant now) {
  if (processing_) return;  // the outer call's loop picks this up
  processing_ = true;
  for (bool progressed = true; progressed;) {
    progressed = drain_behaviours(now);
    while (auto event = swarm_.poll_event()) {
      progressed = true;
      on_swarm_event(now, *event);
    }
  }
  processing_ = false;
}

bool Host::drain_behaviours(Instant now) {
  bool progressed = false;
  gossip_.flush(now, swarm_);
  while (auto open = kad_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::kad, open->token};
    swarm_.open_stream(now, open->peer, open->protocol, request);
  }
  while (auto open = gossip_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::gossip, open->token};
    swarm_.open_stream(now, open->peer, open->protocol, request);
  }
  while (auto open = rendezvous_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::rendezvous, open->token};
    swarm_.open_stream(now, open->peer, std::string(RendezvousBehaviour::protocol()), request);
  }
  while (auto found = rendezvous_.poll_discovered()) {
    progressed = true;
    manager_.add_known(now, found->peer, found->addrs, Source::rendezvous);
  }
  while (auto wanted = kad_.poll_dial()) {
    progressed = true;
    manager_.add_known(now, wanted->peer, wanted->addrs, Source::dht);
    auto usable = std::find_if(wanted->addrs.begin(), wanted->addrs.end(), [&](const Multiaddr& addr) {
      return options_.can_dial(addr) && !is_loopback_addr(addr);
    });
    if (usable == wanted->addrs.end()) usable = std::find_if(wanted->addrs.begin(), wanted->addrs.end(), options_.can_dial);
    if (usable == wanted->addrs.end()) {
      kad_.on_dial_failed(now, wanted->peer);
      continue;
    }
    dial(now, wanted->peer, *usable);
  }
  while (auto event = kad_.poll_event()) {
    progressed = true;
    if (auto* learned = std::get_if<kad_event::PeerLearned>(&*event)) {
      manager_.add_known(now, learned->peer, learned->addrs, Source::dht);
    } else if (auto* finished = std::get_if<kad_event::QueryFinished>(&*event)) {
      events_.push_back(std::move(*finished));
    }
  }
  while (auto event = gossip_.poll_event()) {
    progressed = true;
    emit_gossip(*event);
  }
  while (auto action = manager_.poll_action()) {
    progressed = true;
    if (auto* dial_action = std::get_if<action::Dial>(&*action)) {
      dial(now, dial_action->peer, dial_action->addr);
    } else if (auto* ping_action = std::get_if<action::Ping>(&*action)) {
      const auto request = next_request_++;
      keepalive_pings_.insert(request);
      swarm_.ping(now, ping_action->peer, request);
    } else if (auto* disconnect_action = std::get_if<action::Disconnect>(&*action)) {
      swarm_.disconnect(disconnect_action->peer);
    }
  }
  return progressed;
}

void Host::emit_gossip(const gossipsub::Event& event) {
  if (const auto* delivered = std::get_if<gossipsub::Delivered>(&event)) {
    events_.push_back(GossipMessage{delivered->message.topic, delivered->author, delivered->propagation_source,
                                    seqno_of(delivered->message), delivered->message.data, delivered->id});
  }
}

void Host::on_swarm_event(Instant now, swarm::SwarmEvent& event) {
  using namespace swarm::swarm_event;
  if (auto* connected = std::get_if<PeerConnected>(&event)) {
    dial_connections_.erase(connected->connection);
    if (auto dialing = dialing_.find(connected->peer); dialing != dialing_.end()) {
      dials_.erase(dialing->second);
      dialing_.erase(dialing);
    }
    // A duplicate connection is closed at once; the event still goes out
    // (the peer is connected, through the other connection).
    if (!close_duplicate_connection(*connected)) {
      manager_.handle_connected(now, connected->peer, connected->direction == swarm::Direction::inbound);
      if (auto ip = ip_of(connected->remote_addr); !ip.empty()) gossip_.set_peer_ip(connected->peer, ip);
      kad_.on_connected(now, connected->peer);
    }
  } else if (auto* disconnected = std::get_if<PeerDisconnected>(&event)) {
    if (!swarm_.is_connected(disconnected->peer)) {
      manager_.handle_disconnected(now, disconnected->peer);
      kad_.on_disconnected(now, disconnected->peer);
      gossip_.on_disconnected(now, disconnected->peer);
      rendezvous_.on_disconnected(disconnected->peer);
    }
  } else if (auto* failed = std::get_if<ConnectionFailed>(&event)) {
    if (auto dial = dial_connections_.find(failed->connection); dial != dial_connections_.end()) {
      const DialId id = dial->second;
      dial_connections_.erase(dial);
      dial_failed(now, id, failed->reason);
    }
  } else if (auto* identified = std::get_if<Identified>(&event)) {
    manager_.add_known(now, identified->peer, identified->info.listen_addrs, Source::inbound);
    kad_.on_identified(now, identified->peer, identified->info);
    gossip_.on_identified(now, identified->peer, identified->info, swarm_.is_connected(identified->peer));
    rendezvous_.on_identified(now, identified->peer, identified->info);
  } else if (auto* pinged = std::get_if<PingResult>(&event)) {
    if (keepalive_pings_.erase(pinged->request)) {
      manager_.handle_ping(now, pinged->peer, pinged->rtt);
      // The keep-alive's view of the link feeds gossipsub's adaptive heartbeat.
      if (const auto* known = manager_.find(pinged->peer)) {
        const double loss = pinged->rtt ? 0.0 : 1.0;
        gossip_.router().report_link_quality(pinged->peer, loss, known->rtt.value_or(std::chrono::seconds(1)));
      }
      return;
    }
  } else if (auto* opened = std::get_if<StreamOpened>(&event)) {
    return on_stream_opened(now, *opened);
  } else if (auto* open_failed = std::get_if<StreamOpenFailed>(&event)) {
    return on_stream_open_failed(now, *open_failed);
  } else if (auto* readable = std::get_if<StreamReadable>(&event)) {
    if (kad_.on_stream_event(now, swarm_, readable->connection, readable->stream, false) ||
        gossip_.on_stream_event(now, swarm_, readable->connection, readable->stream, false) ||
        rendezvous_.on_stream_event(now, swarm_, readable->connection, readable->stream, false)) {
      return;
    }
  } else if (auto* writable = std::get_if<StreamWritable>(&event)) {
    if (kad_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        gossip_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        rendezvous_.on_stream_event(now, swarm_, writable->connection, writable->stream, false)) {
      return;
    }
  } else if (auto* closed = std::get_if<StreamClosed>(&event)) {
    if (kad_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        gossip_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        rendezvous_.on_stream_event(now, swarm_, closed->connection, closed->stream, true)) {
      return;
    }
  }
  events_.push_back(std::move(event));
}

// A second connection to a peer we are connected to already goes, so each
// pair keeps one. Two nodes that dial each other at the same moment both
// keep the connection dialed by the smaller peer id (they agree without
// talking). Two dials of ours (say mDNS and the connection manager racing)
// keep the older; the remote, whose ends are both inbound, leaves it to us.
bool Host::close_duplicate_connection(const swarm::swarm_event::PeerConnected& connected) {
  std::vector<swarm::ConnectionId> same_direction;
  std::vector<swarm::ConnectionId> other_direction;
  for (const auto& summary : swarm_.connections()) {
    if (summary.id == connected.connection || summary.peer != connected.peer || !summary.established) continue;
    (summary.direction == connected.direction ? same_direction : other_direction).push_back(summary.id);
  }
  if (other_direction.empty()) {
    if (same_direction.empty() || connected.direction != swarm::Direction::outbound) return false;
    swarm_.close_connection(connected.connection, "a second connection of ours to the same peer");
    return true;
  }
  const bool we_dialed = connected.direction == swarm::Direction::outbound;
  const bool smaller_dialed = we_dialed == (local_peer().bytes() < connected.peer.bytes());
  if (!smaller_dialed) {
    swarm_.close_connection(connected.connection, "duplicate of a crossed dial");
    return true;
  }
  for (auto id : other_direction) swarm_.close_connection(id, "duplicate of a crossed dial");
  return false;
}

void Host::on_stream_opened(Instant now, const swarm::swarm_event::StreamOpened& opened) {
  if (opened.direction == swarm::Direction::inbound) {
    if (opened.protocol == kad_.protocol()) return kad_.on_inbound_stream(now, swarm_, opened);
    if (gossipsub::parse_protocol(opened.protocol)) return gossip_.on_inbound_stream(now, swarm_, opened);
    if (opened.protocol == RendezvousBehaviour::protocol()) return rendezvous_.on_inbound_stream(now, swarm_, opened);
    events_.push_back(swarm::SwarmEvent{opened});
    return;
  }
  auto owned = requests_.find(opened.request);
  if (owned == requests_.end()) {
    events_.push_back(swarm::SwarmEvent{opened});
    return;
  }
  const OwnedRequest request = owned->second;
  requests_.erase(owned);
  if (request.owner == Owner::kad) {
    kad_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream);
  } else if (request.owner == Owner::rendezvous) {
    rendezvous_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream);
  } else {
    gossip_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream, opened.protocol);
  }
}

void Host::on_stream_open_failed(Instant now, const swarm::swarm_event::StreamOpenFailed& failed) {
  auto owned = requests_.find(failed.request);
  if (owned == requests_.end()) {
    events_.push_back(swarm::SwarmEvent{failed});
    return;
  }
  const OwnedRequest request = owned->second;
  requests_.erase(owned);
  if (request.owner == Owner::kad) {
    kad_.on_open_failed(now, request.token, failed.error);
  } else if (request.owner == Owner::rendezvous) {
    rendezvous_.on_open_failed(now, request.token, failed.error);
  } else {
    gossip_.on_open_failed(now, request.token);
  }
}

// ---- output

std::optional<HostOutput> Host::poll_output() {
  if (!dial_outputs_.empty()) {
    auto next = std::move(dial_outputs_.front());
    dial_outputs_.pop_front();
    return HostOutput{std::move(next)};
  }
  auto output = swarm_.poll_output();
  if (!output) return std::nullopt;
  return std::visit([](auto&& value) { return HostOutput{std::move(value)}; }, std::move(*output));
}

std::optional<HostEvent> Host::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::optional<Instant> Host::next_timeout() const {
  std::optional<Instant> next;
  for (auto candidate : {swarm_.next_timeout(), kad_.next_timeout(), gossip_.next_timeout(),
                         rendezvous_.next_timeout(), manager_.next_timeout()}) {
    if (candidate && (!next || *candidate < *next)) next = candidate;
  }
  return next;
}

std::optional<Source> Host::source_of(const PeerId& peer) const {
  if (const auto* known = manager_.find(peer)) return known->source;
  return std::nullopt;
}

}  // namespace taho::host
