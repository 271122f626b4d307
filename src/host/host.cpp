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
      content_(PeerId::from_ed25519(options_.swarm.identity.public_key()), options_.content_storage, now,
               options_.content),
      autonat_(PeerId::from_ed25519(options_.swarm.identity.public_key()), now,
               [&] {
                 AutonatOptions autonat = options_.autonat;
                 autonat.probe |= options_.kad.follow_reachability || options_.rendezvous.follow_reachability;
                 return autonat;
               }(),
               options_.can_dial ? options_.can_dial : std::function<bool(const Multiaddr&)>(has_tcp)),
      manager_(PeerId::from_ed25519(options_.swarm.identity.public_key()), rng, options_.connections,
               options_.can_dial ? options_.can_dial : std::function<bool(const Multiaddr&)>(has_tcp)),
      record_seq_(options_.swarm.peer_record_seq) {
  if (!options_.can_dial) options_.can_dial = has_tcp;
  protocols_ = {std::string(identify::protocol_id), std::string(ping::protocol_id)};  // the swarm's built-ins
  // Registered before any connection exists: connections offer the list
  // they were created with, and identify announces it. A fixed client-mode
  // DHT never registers kad. One that follows reachability registers it
  // from the start, so every connection can take DHT streams once we turn
  // server; while in client mode it refuses them, and identify push
  // corrects what the swarm's identify announced (see advertised_protocols).
  if (kad_.server() || options_.kad.follow_reachability) add_protocol(kad_.protocol());
  for (const auto& protocol : GossipBehaviour::protocols()) add_protocol(protocol);
  if (rendezvous_.server() || options_.rendezvous.follow_reachability) {
    add_protocol(std::string(RendezvousBehaviour::protocol()));
  }
  for (auto& protocol : content_.protocols()) add_protocol(std::move(protocol));
  if (autonat_.serving()) add_protocol(std::string(AutonatBehaviour::protocol()));
  add_protocol(std::string(IdentifyPush::protocol()));
  // A node with a store hears announcements (its index) and makes them.
  if (content_.enabled()) (void)gossip_.subscribe(now, swarm_, options_.content.announce_topic);
}

// ---- driver input

bool Host::add_connection(Instant now, swarm::ConnectionId id, swarm::Direction direction,
                          const Multiaddr& local_addr, const Multiaddr& remote_addr,
                          std::optional<PeerId> expected_peer, std::optional<DialId> dial) {
  if (dial && (dials_.count(*dial) || abandoned_dials_.count(*dial))) dial_connections_[id] = *dial;
  if (dial && probe_dials_.count(*dial)) probe_connections_[id] = *dial;
  const bool added = swarm_.add_connection(now, id, direction, local_addr, remote_addr, std::move(expected_peer));
  process_until_quiet(now);
  return added;
}

bool Host::add_muxed_connection(Instant now, swarm::ConnectionId id, swarm::Direction direction,
                                const Multiaddr& local_addr, const Multiaddr& remote_addr, const PeerId& remote_peer,
                                std::optional<DialId> dial) {
  if (dial && (dials_.count(*dial) || abandoned_dials_.count(*dial))) dial_connections_[id] = *dial;
  if (dial && probe_dials_.count(*dial)) probe_connections_[id] = *dial;
  const bool added = swarm_.add_muxed_connection(now, id, direction, local_addr, remote_addr, remote_peer);
  process_until_quiet(now);
  return added;
}

std::optional<swarm::StreamId> Host::handle_stream_opened(Instant now, swarm::ConnectionId id) {
  auto stream = swarm_.handle_stream_opened(now, id);
  process_until_quiet(now);
  return stream;
}

void Host::handle_stream_data(Instant now, swarm::ConnectionId id, swarm::StreamId stream, ByteView bytes) {
  swarm_.handle_stream_data(now, id, stream, bytes);
  process_until_quiet(now);
}

void Host::handle_stream_end(Instant now, swarm::ConnectionId id, swarm::StreamId stream) {
  swarm_.handle_stream_end(now, id, stream);
  process_until_quiet(now);
}

void Host::handle_stream_reset(Instant now, swarm::ConnectionId id, swarm::StreamId stream) {
  swarm_.handle_stream_reset(now, id, stream);
  process_until_quiet(now);
}

void Host::handle_stream_sent(Instant now, swarm::ConnectionId id, swarm::StreamId stream, std::size_t bytes) {
  swarm_.handle_stream_sent(now, id, stream, bytes);
  process_until_quiet(now);
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
  if (probe_dials_.count(dial)) {
    for (auto it = probe_connections_.begin(); it != probe_connections_.end();) {
      it = it->second == dial ? probe_connections_.erase(it) : std::next(it);
    }
    finish_probe_dial(now, dial, false, reason);
  } else {
    dial_failed(now, dial, reason);
  }
  process_until_quiet(now);
}

void Host::handle_timeout(Instant now) {
  start_due_attempts(now);
  swarm_.handle_timeout(now);
  kad_.handle_timeout(now, swarm_);
  gossip_.handle_timeout(now, swarm_);
  rendezvous_.handle_timeout(now);
  content_.handle_timeout(now, swarm_);
  autonat_.handle_timeout(now, swarm_);
  if (reachability_repush_due_ && now >= *reachability_repush_due_) {
    reachability_repush_due_.reset();
    push_identify_to_connected();
  }
  // A server's dial-back to us has done its job once our request is answered.
  for (const auto& [connection, peer] : probe_only_connections_) {
    if (!probe_connections_.count(connection) && !autonat_.awaiting_dial_back(peer)) {
      swarm_.close_connection(connection, "AutoNAT dial-back done");
    }
  }
  auto protected_peers = gossip_.mesh_peers();
  for (const auto& peer : content_.active_peers()) protected_peers.insert(peer);
  manager_.set_protected(std::move(protected_peers));
  manager_.handle_timeout(now);
  process_until_quiet(now);
}

void Host::process(Instant now) { process_until_quiet(now); }

// ---- dialing

void Host::dial(Instant now, const PeerId& peer, const Multiaddr& addr) {
  if (races_.count(peer) || swarm_.is_connected(peer) || peer == local_peer()) return;
  std::vector<DialAttempt> attempts;
  Instant due = now;
  for (auto& planned : dial_plan(peer, addr)) {
    attempts.push_back(DialAttempt{planned.peer_id() ? planned : planned.with_peer_id(peer), due, std::nullopt});
    due = due + options_.transport_fallback_delay;
  }
  races_[peer] = std::move(attempts);
  start_due_attempts(now);
}

// The address the caller chose, plus one address of another transport the
// peer is known by: QUIC or the transport that last worked goes first.
std::vector<Multiaddr> Host::dial_plan(const PeerId& peer, const Multiaddr& addr) const {
  const KnownPeer* known = manager_.find(peer);
  const std::string ip = ip_of(addr);
  // The best address of a transport: the caller's if it is of that
  // transport, else one on the same IP, else one not on loopback, else any.
  auto best_of = [&](Transport transport) -> std::optional<Multiaddr> {
    if (transport_of(addr) == transport) return addr;
    if (!known) return std::nullopt;
    std::optional<Multiaddr> fallback;
    std::optional<Multiaddr> remote;
    for (const auto& candidate : known->addrs) {
      if (transport_of(candidate) != transport || !options_.can_dial(candidate)) continue;
      if (!ip.empty() && ip_of(candidate) == ip) return candidate;
      if (!remote && !is_loopback_addr(candidate)) remote = candidate;
      if (!fallback) fallback = candidate;
    }
    return remote ? remote : fallback;
  };
  std::vector<Transport> order;
  if (auto preferred = preferred_transport(peer)) order.push_back(*preferred);
  for (auto transport : {Transport::quic, Transport::tcp, Transport::websocket}) {
    if (std::find(order.begin(), order.end(), transport) == order.end()) order.push_back(transport);
  }
  std::vector<Multiaddr> plan;
  bool stream_planned = false;  // TCP and WebSocket are one fallback: the first found
  for (auto transport : order) {
    const bool stream = transport != Transport::quic;
    if (stream && stream_planned) continue;
    if (auto chosen = best_of(transport)) {
      plan.push_back(*chosen);
      stream_planned |= stream;
    }
  }
  if (plan.empty()) plan.push_back(addr);
  return plan;
}

void Host::start_due_attempts(Instant now) {
  for (auto& [peer, attempts] : races_) {
    for (auto& attempt : attempts) {
      if (attempt.id || attempt.due > now) continue;
      const DialId id = next_dial_++;
      attempt.id = id;
      dials_.emplace(id, peer);
      dial_outputs_.push_back(host_output::Dial{id, peer, attempt.addr});
    }
  }
}

void Host::dial_failed(Instant now, DialId dial, const std::string& reason) {
  (void)reason;
  for (auto it = dial_connections_.begin(); it != dial_connections_.end();) {
    it = it->second == dial ? dial_connections_.erase(it) : std::next(it);
  }
  if (abandoned_dials_.erase(dial)) return;
  auto found = dials_.find(dial);
  if (found == dials_.end()) return;
  const PeerId peer = found->second;
  dials_.erase(found);
  if (auto race = races_.find(peer); race != races_.end()) {
    auto& attempts = race->second;
    attempts.erase(std::remove_if(attempts.begin(), attempts.end(),
                                  [&](const DialAttempt& attempt) { return attempt.id == dial; }),
                   attempts.end());
    if (!attempts.empty()) {
      // The next transport need not wait for its delay any more.
      for (auto& attempt : attempts) {
        if (!attempt.id) {
          attempt.due = std::min(attempt.due, now);
          break;
        }
      }
      start_due_attempts(now);
      return;
    }
    races_.erase(race);
  }
  if (swarm_.is_connected(peer)) return;  // it dialed us meanwhile
  manager_.handle_dial_failed(now, peer);
  kad_.on_dial_failed(now, peer);
  content_.on_dial_failed(now, swarm_, peer);
}

// A connection of a race another attempt already won goes at once; the
// first connection of a race ends it and teaches us the peer's transport.
bool Host::close_race_loser(const swarm::swarm_event::PeerConnected& connected, std::optional<DialId> dial) {
  if (dial && abandoned_dials_.erase(*dial)) {
    swarm_.close_connection(connected.connection, "another transport connected first");
    return true;
  }
  // An inbound connection leaves our race alone: crossed dials are settled
  // by close_duplicate_connection, which both ends apply alike.
  if (auto race = races_.find(connected.peer); dial && race != races_.end()) {
    for (const auto& attempt : race->second) {
      if (!attempt.id || attempt.id == dial) continue;
      if (dials_.erase(*attempt.id)) abandoned_dials_.insert(*attempt.id);
    }
    if (dial) dials_.erase(*dial);
    races_.erase(race);
  }
  if (dial) {
    if (preferred_transports_.size() >= options_.preferred_transports_max &&
        !preferred_transports_.count(connected.peer)) {
      preferred_transports_.erase(preferred_transports_.begin());
    }
    preferred_transports_[connected.peer] = transport_of(connected.remote_addr);
  }
  return false;
}

std::optional<Transport> Host::preferred_transport(const PeerId& peer) const {
  auto found = preferred_transports_.find(peer);
  if (found == preferred_transports_.end()) return std::nullopt;
  return found->second;
}

// ---- commands

void Host::set_listen_addrs(Instant now, std::vector<Multiaddr> addrs) {
  listen_addrs_ = addrs;
  // Rendezvous registrations carry our signed peer record; a new one
  // (higher sequence number) re-registers everywhere.
  signed_record_ = identify::seal_peer_record(options_.swarm.identity, record_seq_++, addrs);
  rendezvous_.set_signed_peer_record(now, signed_record_);
  autonat_.set_listen_addrs(now, addrs);
  content_.set_listen_addrs(addrs);
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

swarm::RequestId Host::ping_connection(Instant now, swarm::ConnectionId connection) {
  const auto request = next_request_++;
  swarm_.ping_connection(now, connection, request);
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

// ---- content exchange

FetchId Host::fetch(Instant now, const content::Hash& root, std::optional<content::ByteRange> range) {
  const auto id = content_.fetch(now, swarm_, root, range);
  process_until_quiet(now);
  return id;
}

void Host::cancel_fetch(Instant now, FetchId id) {
  content_.cancel_fetch(now, swarm_, id);
  process_until_quiet(now);
}

void Host::announce_content(Instant now, const content::Hash& root, std::uint64_t size) {
  content_.announce_content(now, root, size);
  process_until_quiet(now);
}

void Host::withdraw_content(Instant now, const content::Hash& root) {
  content_.withdraw_content(now, root);
  process_until_quiet(now);
}

std::vector<HolderInfo> Host::content_holders(const content::Hash& root) const { return content_.content_holders(root); }

std::vector<HolderRecord> Host::export_holder_index() const { return content_.export_holder_index(); }

void Host::import_holder_index(Instant now, const std::vector<HolderRecord>& records) {
  content_.import_holder_index(now, records);
  process_until_quiet(now);
}

void Host::dial_any(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs, Source source) {
  manager_.add_known(now, peer, addrs, source);
  auto usable = std::find_if(addrs.begin(), addrs.end(), [&](const Multiaddr& addr) {
    return options_.can_dial(addr) && !is_loopback_addr(addr);
  });
  if (usable == addrs.end()) usable = std::find_if(addrs.begin(), addrs.end(), options_.can_dial);
  if (usable == addrs.end()) {
    content_.on_dial_failed(now, swarm_, peer);
    return;
  }
  dial(now, peer, *usable);
}

void Host::run_content_command(Instant now, ContentCommand& command) {
  if (auto* publish = std::get_if<content_command::Publish>(&command)) {
    // No peer on the topic yet is fine: the periodic re-announce and the
    // holdings exchange reach peers that come later.
    (void)gossip_.publish(now, swarm_, options_.content.announce_topic, publish->data);
  } else if (auto* provide = std::get_if<content_command::Provide>(&command)) {
    (void)kad_.provide(now, provide->key, provider_addrs());
  } else if (auto* lookup = std::get_if<content_command::FindProviders>(&command)) {
    content_queries_[kad_.get_providers(now, lookup->key)] = lookup->token;
  } else if (auto* wanted = std::get_if<content_command::Dial>(&command)) {
    dial_any(now, wanted->peer, wanted->addrs, Source::dht);
  }
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
  while (auto open = content_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::content, open->token};
    swarm_.open_stream(now, open->peer, open->protocol, request, open->negotiation);
  }
  while (auto open = autonat_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::autonat, open->token};
    swarm_.open_stream(now, open->peer, std::string(AutonatBehaviour::protocol()), request);
  }
  while (auto dial_back = autonat_.poll_dial_back()) {
    progressed = true;
    probe_dial(now, dial_back->peer, dial_back->addr, dial_back->token);
  }
  while (auto changed = autonat_.poll_event()) {
    progressed = true;
    apply_reachability(now);
  }
  while (auto open = identify_push_.poll_open()) {
    progressed = true;
    const auto request = next_request_++;
    requests_[request] = OwnedRequest{Owner::identify_push, open->token};
    swarm_.open_stream(now, open->peer, std::string(IdentifyPush::protocol()), request);
  }
  while (auto pushed = identify_push_.poll_received()) {
    progressed = true;
    on_identify_info(now, pushed->peer, pushed->info);
  }
  while (auto command = content_.poll_command()) {
    progressed = true;
    run_content_command(now, *command);
  }
  while (auto event = content_.poll_event()) {
    progressed = true;
    std::visit([&](auto&& value) { events_.push_back(std::move(value)); }, std::move(*event));
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
      if (auto owned = content_queries_.find(finished->id); owned != content_queries_.end()) {
        const auto token = owned->second;
        content_queries_.erase(owned);
        std::vector<std::pair<PeerId, std::vector<Multiaddr>>> providers;
        for (const auto& provider : finished->result.providers) providers.push_back({provider.id, provider.addrs});
        content_.on_providers(now, swarm_, token, providers);
      } else {
        events_.push_back(std::move(*finished));
      }
    }
  }
  while (auto event = gossip_.poll_event()) {
    progressed = true;
    emit_gossip(now, *event);
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

void Host::emit_gossip(Instant now, const gossipsub::Event& event) {
  if (const auto* delivered = std::get_if<gossipsub::Delivered>(&event)) {
    if (content_.enabled() && delivered->message.topic == options_.content.announce_topic) {
      content_.on_announcement(now, delivered->author, delivered->message.data);
      return;
    }
    events_.push_back(GossipMessage{delivered->message.topic, delivered->author, delivered->propagation_source,
                                    seqno_of(delivered->message), delivered->message.data, delivered->id});
  }
}

void Host::on_swarm_event(Instant now, swarm::SwarmEvent& event) {
  using namespace swarm::swarm_event;
  if (on_probe_connection_event(now, event)) return;
  if (auto* connected = std::get_if<PeerConnected>(&event)) {
    std::optional<DialId> dial;
    if (auto found = dial_connections_.find(connected->connection); found != dial_connections_.end()) {
      dial = found->second;
      dial_connections_.erase(found);
    }
    // A duplicate connection is closed at once; the event still goes out
    // (the peer is connected, through the other connection).
    established_at_[connected->connection] = now;
    if (!close_race_loser(*connected, dial) && !close_duplicate_connection(now, *connected)) {
      manager_.handle_connected(now, connected->peer, connected->direction == swarm::Direction::inbound);
      if (auto ip = ip_of(connected->remote_addr); !ip.empty()) gossip_.set_peer_ip(connected->peer, ip);
      kad_.on_connected(now, connected->peer);
      content_.on_connected(now, swarm_, connected->peer);
    }
  } else if (auto* disconnected = std::get_if<PeerDisconnected>(&event)) {
    established_at_.erase(disconnected->connection);
    content_.on_connection_closed(now, swarm_, disconnected->connection);
    if (!swarm_.is_connected(disconnected->peer)) {
      content_.on_disconnected(now, swarm_, disconnected->peer);
      manager_.handle_disconnected(now, disconnected->peer);
      kad_.on_disconnected(now, disconnected->peer);
      gossip_.on_disconnected(now, disconnected->peer);
      rendezvous_.on_disconnected(disconnected->peer);
      autonat_.on_disconnected(disconnected->peer);
    }
  } else if (auto* failed = std::get_if<ConnectionFailed>(&event)) {
    if (auto dial = dial_connections_.find(failed->connection); dial != dial_connections_.end()) {
      const DialId id = dial->second;
      dial_connections_.erase(dial);
      dial_failed(now, id, failed->reason);
    }
  } else if (auto* identified = std::get_if<Identified>(&event)) {
    manager_.add_known(now, identified->peer, identified->info.listen_addrs, Source::inbound);
    on_identify_info(now, identified->peer, identified->info);
    gossip_.on_identified(now, identified->peer, identified->info, swarm_.is_connected(identified->peer));
    content_.on_identified(now, swarm_, identified->peer, identified->info);
    // The swarm's identify announced every registered protocol; when the DHT
    // or rendezvous is in client mode, correct it at once.
    if (advertised_protocols().size() != protocols_.size()) push_identify(identified->peer);
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
        rendezvous_.on_stream_event(now, swarm_, readable->connection, readable->stream, false) ||
        autonat_.on_stream_event(now, swarm_, readable->connection, readable->stream, false) ||
        identify_push_.on_stream_event(now, swarm_, readable->connection, readable->stream, false) ||
        content_.on_stream_event(now, swarm_, readable->connection, readable->stream, false)) {
      return;
    }
  } else if (auto* writable = std::get_if<StreamWritable>(&event)) {
    if (kad_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        gossip_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        rendezvous_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        autonat_.on_stream_event(now, swarm_, writable->connection, writable->stream, false) ||
        content_.on_stream_event(now, swarm_, writable->connection, writable->stream, false)) {
      return;
    }
  } else if (auto* closed = std::get_if<StreamClosed>(&event)) {
    if (kad_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        gossip_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        rendezvous_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        autonat_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        identify_push_.on_stream_event(now, swarm_, closed->connection, closed->stream, true) ||
        content_.on_stream_event(now, swarm_, closed->connection, closed->stream, true)) {
      return;
    }
  }
  events_.push_back(std::move(event));
}

// A second connection to a peer we are connected to already goes, so each
// pair keeps one. Two nodes that dial each other at the same moment both
// keep the connection dialed by the smaller peer id (they agree without
// talking). Only a connection established within one upgrade timeout of the
// new one can have crossed it: an older one stays, whoever dialed. Then a
// dial of ours goes (two dials of ours, say mDNS and the connection manager
// racing, keep the older too), and an inbound one is left to its dialer,
// which applies the same rule, or is an AutoNAT dial-back that its server
// closes by itself.
bool Host::close_duplicate_connection(Instant now, const swarm::swarm_event::PeerConnected& connected) {
  std::vector<swarm::ConnectionId> crossed;  // the other direction, young enough to have crossed ours
  bool older = false;                        // any other connection that stays
  // Connections over different transports are not duplicates: `taho ping
  // --transport` may ask for a second one, and a race closes its own loser.
  const Transport transport = transport_of(connected.remote_addr);
  for (const auto& summary : swarm_.connections()) {
    if (summary.id == connected.connection || summary.peer != connected.peer || !summary.established ||
        transport_of(summary.remote_addr) != transport) {
      continue;
    }
    const auto since = established_at_.find(summary.id);
    const bool young = since != established_at_.end() && now - since->second <= options_.swarm.upgrade_timeout;
    if (summary.direction != connected.direction && young) {
      crossed.push_back(summary.id);
    } else {
      older = true;
    }
  }
  if (crossed.empty()) {
    if (!older || connected.direction != swarm::Direction::outbound) return false;
    swarm_.close_connection(connected.connection, "a second connection of ours to the same peer");
    return true;
  }
  const bool we_dialed = connected.direction == swarm::Direction::outbound;
  const bool smaller_dialed = we_dialed == (local_peer().bytes() < connected.peer.bytes());
  if (!smaller_dialed) {
    swarm_.close_connection(connected.connection, "duplicate of a crossed dial");
    return true;
  }
  for (auto id : crossed) swarm_.close_connection(id, "duplicate of a crossed dial");
  return false;
}

void Host::on_stream_opened(Instant now, const swarm::swarm_event::StreamOpened& opened) {
  if (opened.direction == swarm::Direction::inbound) {
    if (opened.protocol == kad_.protocol()) return kad_.on_inbound_stream(now, swarm_, opened);
    if (gossipsub::parse_protocol(opened.protocol)) return gossip_.on_inbound_stream(now, swarm_, opened);
    if (opened.protocol == RendezvousBehaviour::protocol()) return rendezvous_.on_inbound_stream(now, swarm_, opened);
    if (opened.protocol == AutonatBehaviour::protocol()) {
      return autonat_.on_inbound_stream(now, swarm_, opened, remote_addr_of(opened.connection));
    }
    if (opened.protocol == IdentifyPush::protocol()) return identify_push_.on_inbound_stream(now, swarm_, opened);
    if (content_.enabled() && (opened.protocol == blob::protocol_id || opened.protocol == blob::holdings_protocol_id)) {
      return content_.on_inbound_stream(now, swarm_, opened);
    }
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
  } else if (request.owner == Owner::content) {
    content_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream);
  } else if (request.owner == Owner::autonat) {
    autonat_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream);
  } else if (request.owner == Owner::identify_push) {
    identify_push_.on_outbound_stream(now, swarm_, request.token, opened.connection, opened.stream);
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
  } else if (request.owner == Owner::content) {
    content_.on_open_failed(now, swarm_, request.token);
  } else if (request.owner == Owner::autonat) {
    autonat_.on_open_failed(now, request.token);
  } else if (request.owner == Owner::identify_push) {
    identify_push_.on_open_failed(request.token);
  } else {
    gossip_.on_open_failed(now, swarm_, request.token);
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
                         rendezvous_.next_timeout(), manager_.next_timeout(), content_.next_timeout(),
                         autonat_.next_timeout(), reachability_repush_due_}) {
    if (candidate && (!next || *candidate < *next)) next = candidate;
  }
  for (const auto& [peer, attempts] : races_) {
    for (const auto& attempt : attempts) {
      if (!attempt.id && (!next || attempt.due < *next)) next = attempt.due;
    }
  }
  return next;
}

std::optional<Source> Host::source_of(const PeerId& peer) const {
  if (const auto* known = manager_.find(peer)) return known->source;
  return std::nullopt;
}

// ---- AutoNAT and what we announce

void Host::add_protocol(std::string protocol) {
  if (std::find(protocols_.begin(), protocols_.end(), protocol) == protocols_.end()) protocols_.push_back(protocol);
  swarm_.register_protocol(std::move(protocol));
}

std::vector<std::string> Host::advertised_protocols() const {
  std::vector<std::string> advertised;
  for (const auto& protocol : protocols_) {
    if (protocol == kad_.protocol() && !kad_.server()) continue;
    if (protocol == RendezvousBehaviour::protocol() && !rendezvous_.server()) continue;
    advertised.push_back(protocol);
  }
  return advertised;
}

void Host::push_identify(const PeerId& peer) {
  identify::Info info;
  info.protocol_version = std::string(identify::protocol_version_default);
  info.agent_version = options_.swarm.agent_version;
  info.public_key = PublicKey::ed25519(options_.swarm.identity.public_key());
  info.listen_addrs = listen_addrs_;
  info.protocols = advertised_protocols();
  if (!signed_record_.empty()) info.signed_peer_record = signed_record_;
  auto message = identify::encode_message(info);
  if (!message) return;  // cannot happen with our few protocols and addresses
  identify_push_.push(peer, std::move(*message));
}

void Host::apply_reachability(Instant now) {
  const bool reachable = autonat_.reachability() == autonat::Reachability::reachable;
  bool changed = false;
  if (options_.kad.follow_reachability && kad_.server() != reachable) {
    kad_.set_server(reachable);
    changed = true;
  }
  if (options_.rendezvous.follow_reachability && rendezvous_.server() != reachable) {
    rendezvous_.set_server(reachable);
    changed = true;
  }
  if (!changed) return;
  push_identify_to_connected();
  reachability_repush_due_ = now + options_.reachability_repush_after;
}

void Host::push_identify_to_connected() {
  std::set<PeerId> peers;
  for (const auto& summary : swarm_.connections()) {
    if (summary.peer && summary.established && !probe_only_connections_.count(summary.id)) peers.insert(*summary.peer);
  }
  for (const auto& peer : peers) push_identify(peer);
}

void Host::on_identify_info(Instant now, const PeerId& peer, const identify::Info& info) {
  kad_.on_identified(now, peer, info);
  rendezvous_.on_identified(now, peer, info);
  autonat_.on_identified(now, peer, info);
}

DialId Host::probe_dial(Instant now, const PeerId& peer, const Multiaddr& addr, std::uint64_t token) {
  const DialId id = next_dial_++;
  probe_dials_.emplace(id, ProbeDial{peer, token});
  const Multiaddr target = addr.peer_id() ? addr : addr.with_peer_id(peer);
  if (!options_.can_dial(target)) {
    finish_probe_dial(now, id, false, "no transport for " + addr.to_string());
    return id;
  }
  dial_outputs_.push_back(host_output::Dial{id, peer, target});
  return id;
}

void Host::finish_probe_dial(Instant now, DialId dial, bool connected, const std::string& detail) {
  auto found = probe_dials_.find(dial);
  if (found == probe_dials_.end()) return;
  const std::uint64_t token = found->second.token;
  probe_dials_.erase(found);
  autonat_.on_dial_back_result(now, swarm_, token, connected, detail);
}

Multiaddr Host::remote_addr_of(swarm::ConnectionId connection) const {
  for (const auto& summary : swarm_.connections()) {
    if (summary.id == connection) return summary.remote_addr;
  }
  return {};
}

// Events of probe connections stay in the host: they are no peer
// connections for the behaviours, the connection manager or the driver.
bool Host::on_probe_connection_event(Instant now, swarm::SwarmEvent& event) {
  using namespace swarm::swarm_event;
  if (auto* connected = std::get_if<PeerConnected>(&event)) {
    if (auto probe = probe_connections_.find(connected->connection); probe != probe_connections_.end()) {
      const DialId dial = probe->second;
      probe_connections_.erase(probe);
      auto wanted = probe_dials_.find(dial);
      const bool proved = wanted != probe_dials_.end() && wanted->second.peer == connected->peer;
      probe_only_connections_.insert_or_assign(connected->connection, connected->peer);
      swarm_.close_connection(connected->connection, "AutoNAT dial-back done");
      finish_probe_dial(now, dial, proved, proved ? "" : "another peer answered");
      return true;
    }
    // Client side: the server we asked dials us back on a new connection,
    // perhaps completing just after its answer (then its job is done). Taken
    // for a peer connection it could pass for a crossed dial and replace
    // ours, and then the server closes it.
    if (connected->direction == swarm::Direction::inbound && autonat_.claim_dial_back(now, connected->peer)) {
      probe_only_connections_.insert_or_assign(connected->connection, connected->peer);
      if (!autonat_.awaiting_dial_back(connected->peer)) {
        swarm_.close_connection(connected->connection, "AutoNAT dial-back done");
      }
      return true;
    }
    return false;
  }
  if (auto* disconnected = std::get_if<PeerDisconnected>(&event)) {
    return probe_only_connections_.erase(disconnected->connection) != 0;
  }
  if (auto* failed = std::get_if<ConnectionFailed>(&event)) {
    auto probe = probe_connections_.find(failed->connection);
    if (probe == probe_connections_.end()) return false;
    const DialId dial = probe->second;
    probe_connections_.erase(probe);
    finish_probe_dial(now, dial, false, failed->reason);
    return true;
  }
  return false;
}

}  // namespace taho::host
