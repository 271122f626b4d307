#include "host/kad_behaviour.hpp"

#include <algorithm>

namespace taho::host {

namespace {

constexpr std::size_t kReadBytes = 64 * 1024;
// How many requests one inbound stream may carry (js sends one; go may reuse).
constexpr std::size_t kRequestsPerInboundStreamMax = 16;

// Records we store for others: our own namespace only, small and non-empty.
// (go and js validate /pk and /ipns; taho nodes put under /taho/.)
Result<void> validate_record(const kad::Record& record) {
  static constexpr std::string_view prefix = "/taho/";
  if (record.key.size() <= prefix.size() ||
      !std::equal(prefix.begin(), prefix.end(), record.key.begin(),
                  [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; })) {
    return fail("record keys must start with /taho/");
  }
  if (record.value.empty()) return fail("empty record value");
  return {};
}

}  // namespace

KadBehaviour::KadBehaviour(const PeerId& local, Instant now, Rng& rng, KadOptions options)
    : local_(local),
      rng_(rng),
      options_([&] {
        if (options.follow_reachability) options.server = false;  // until AutoNAT says otherwise
        return std::move(options);
      }()),
      table_(local, now, kad::RoutingTableOptions{options_.query.bucket_size, 20, options_.refresh_interval}),
      records_(validate_record),
      handler_(table_, addresses_, providers_, records_, kad::HandlerOptions{options_.query.bucket_size}),
      next_refresh_(now + options_.refresh_interval),
      next_republish_(now + kad::provider_republish_interval) {}

// ---- routing table upkeep

void KadBehaviour::learn(const PeerId& peer, const std::vector<Multiaddr>& addrs) {
  if (peer == local_ || addrs.empty()) return;
  std::vector<Multiaddr> plain;
  for (const auto& addr : addrs) plain.push_back(addr.without_peer_id());
  addresses_.add(peer, plain);
}

void KadBehaviour::admit(Instant now, const PeerId& peer) {
  const auto inserted = table_.insert(now, peer);
  if (inserted.outcome == kad::RoutingTable::Outcome::pending && inserted.least_recently_seen) {
    // A full bucket keeps its old peer while it is still connected (alive);
    // otherwise the newcomer takes its place.
    const PeerId& oldest = *inserted.least_recently_seen;
    if (connected_.count(oldest)) {
      table_.insert(now, oldest);
    } else {
      table_.mark_failed(oldest);
      table_.insert(now, peer);
    }
  }
  if (!refreshed_once_ && table_.size() > 0) {
    // The first peer in the table: look ourselves up soon to fill the table.
    refreshed_once_ = true;
    next_refresh_ = std::min(next_refresh_, now + options_.first_refresh_delay);
  }
}

void KadBehaviour::on_identified(Instant now, const PeerId& peer, const identify::Info& info) {
  const bool server =
      std::find(info.protocols.begin(), info.protocols.end(), options_.protocol) != info.protocols.end();
  if (!server) {
    // An identify-push that drops the protocol: the peer went to client
    // mode and answers no more requests. (A push without any protocols
    // says nothing about them.)
    if (!info.protocols.empty() && table_.contains(peer)) table_.mark_failed(peer);
    return;
  }
  learn(peer, info.listen_addrs);
  admit(now, peer);
}

void KadBehaviour::on_connected(Instant now, const PeerId& peer) {
  connected_.insert(peer);
  for (auto& [token, request] : requests_) {
    if (request.peer != peer || request.state != Request::State::waiting_connection) continue;
    request.state = Request::State::opening;
    request.deadline = now + options_.query.request_timeout;
    opens_.push_back(KadOpen{token, peer, options_.protocol});
  }
}

void KadBehaviour::on_disconnected(Instant now, const PeerId& peer) {
  (void)now;
  connected_.erase(peer);
}

void KadBehaviour::on_dial_failed(Instant now, const PeerId& peer) {
  std::vector<std::uint64_t> failed;
  for (const auto& [token, request] : requests_) {
    if (request.peer == peer && request.state == Request::State::waiting_connection) failed.push_back(token);
  }
  for (auto token : failed) finish_request(now, token, std::nullopt, true);
  if (!failed.empty()) table_.mark_failed(peer);
  drive(now);
}

// ---- queries

QueryId KadBehaviour::start(Instant now, QueryKind kind, Bytes key, kad::MessageType type) {
  const QueryId id = next_query_++;
  std::vector<kad::Peer> seeds;
  for (const PeerId& peer : table_.closest(kad::keyspace_point(key), options_.query.bucket_size)) {
    seeds.push_back(kad::Peer{peer, addresses_.addresses(peer), kad::ConnectionType::not_connected, 0});
  }
  QueryState state{kind, key, kad::Query(local_, type, key, seeds, options_.query), std::nullopt, {}, 0, {}, 0};
  for (const auto& seed : seeds) state.depth[seed.id] = 1;
  queries_.emplace(id, std::move(state));
  if (seeds.empty()) {
    // Nobody to ask: lookups of stored things still answer from our own
    // stores (a node whose only peers are DHT clients holds their records).
    const bool local_answer = kind == QueryKind::get_providers || kind == QueryKind::get_value;
    finish_query(now, id, local_answer ? std::nullopt
                                       : std::optional<std::string>("the routing table is empty: no DHT server peer "
                                                                    "is connected yet"));
  } else if (queries_.size() > options_.queries_max) {
    finish_query(now, id, "too many DHT queries running (queries_max)");
  }
  table_.record_lookup(now, kad::keyspace_point(key));
  return id;
}

QueryId KadBehaviour::find_peer(Instant now, const PeerId& peer) {
  const auto id = start(now, QueryKind::find_peer, peer.bytes(), kad::MessageType::find_node);
  drive(now);
  return id;
}

QueryId KadBehaviour::find_node(Instant now, const Bytes& key) {
  const auto id = start(now, QueryKind::find_node, key, kad::MessageType::find_node);
  drive(now);
  return id;
}

QueryId KadBehaviour::get_providers(Instant now, const Bytes& key) {
  const auto id = start(now, QueryKind::get_providers, key, kad::MessageType::get_providers);
  drive(now);
  return id;
}

QueryId KadBehaviour::provide(Instant now, const Bytes& key, const std::vector<Multiaddr>& our_addrs) {
  providers_.add(now, key, local_, our_addrs);
  provided_[key] = our_addrs;
  const auto id = start(now, QueryKind::provide, key, kad::MessageType::find_node);
  if (auto query = queries_.find(id); query != queries_.end()) query->second.provider_addrs = our_addrs;
  drive(now);
  return id;
}

QueryId KadBehaviour::put_value(Instant now, const kad::Record& record) {
  auto stored = records_.put(now, record);
  const auto id = start(now, QueryKind::put_value, record.key, kad::MessageType::find_node);
  if (auto query = queries_.find(id); query != queries_.end()) query->second.record = record;
  if (!stored) {
    // Refuse locally what every other taho node would refuse.
    if (queries_.count(id)) finish_query(now, id, "record refused: " + std::string(kad::to_string(stored.error().code)) + ": " + stored.error().detail);
  }
  drive(now);
  return id;
}

QueryId KadBehaviour::get_value(Instant now, const Bytes& key) {
  const auto id = start(now, QueryKind::get_value, key, kad::MessageType::get_value);
  drive(now);
  return id;
}

std::vector<kad::ProviderRecord> KadBehaviour::local_providers(Instant now, const Bytes& key) const {
  return providers_.providers(now, key);
}

void KadBehaviour::drive(Instant now) {
  std::vector<QueryId> done;
  for (auto& [id, state] : queries_) {
    while (requests_.size() < options_.requests_in_flight_max) {
      auto request = state.query.poll_request(now);
      if (!request) break;
      ++state.requests;
      send(now, id, request->peer, request->addrs, std::move(request->message), true);
    }
    if (state.query.finished()) done.push_back(id);
  }
  for (auto id : done) finish_query(now, id);
}

void KadBehaviour::send(Instant now, QueryId query, const PeerId& peer, const std::vector<Multiaddr>& addrs,
                        kad::Message message, bool expects_reply) {
  const auto token = next_token_++;
  Request request{query, peer, std::move(message), Request::State::waiting_connection, std::nullopt,
                  kad::FrameReader{}, Outbox(options_.stream_buffer_bytes_max), expects_reply,
                  now + options_.query.request_timeout};
  ++stats_.requests_sent;
  if (connected_.count(peer)) {
    request.state = Request::State::opening;
    opens_.push_back(KadOpen{token, peer, options_.protocol});
  } else {
    learn(peer, addrs);
    auto known = addresses_.addresses(peer);
    if (known.empty()) {
      requests_.emplace(token, std::move(request));
      finish_request(now, token, std::nullopt, true);
      return;
    }
    dials_.push_back(KadDial{peer, std::move(known)});
  }
  requests_.emplace(token, std::move(request));
}

void KadBehaviour::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                      swarm::ConnectionId connection, swarm::StreamId stream) {
  auto found = requests_.find(token);
  if (found == requests_.end()) {
    swarm.reset(now, connection, stream);
    return;
  }
  Request& request = found->second;
  request.state = Request::State::open;
  request.stream = StreamKey{connection, stream};
  request_streams_[*request.stream] = token;
  request.outbox.push(kad::encode_frame(request.message));
  pump_request(now, swarm, token);
}

void KadBehaviour::on_open_failed(Instant now, std::uint64_t token, const std::string& error) {
  (void)error;
  finish_request(now, token, std::nullopt, true);
  drive(now);
}

void KadBehaviour::pump_request(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto found = requests_.find(token);
  if (found == requests_.end() || !found->second.stream) return;
  Request& request = found->second;
  const auto [connection, stream] = *request.stream;
  if (auto flushed = request.outbox.flush(now, swarm, connection, stream); !flushed) {
    return finish_request(now, token, std::nullopt, true);
  }
  if (request.outbox.empty() && !request.expects_reply) {
    // ADD_PROVIDER has no answer: done once written; closing our side ends it.
    (void)swarm.close_write(now, connection, stream);
    return finish_request(now, token, std::nullopt, false);
  }
  while (true) {
    auto chunk = swarm.read(now, connection, stream, kReadBytes);
    if (!chunk) return finish_request(now, token, std::nullopt, true);
    if (!chunk->data.empty() && !request.reader.handle_data(chunk->data)) {
      return finish_request(now, token, std::nullopt, true);
    }
    if (auto reply = request.reader.poll_message()) {
      (void)swarm.close_write(now, connection, stream);
      return finish_request(now, token, std::move(*reply), false);
    }
    if (chunk->finished) return finish_request(now, token, std::nullopt, true);
    if (chunk->data.empty()) return;
  }
}

void KadBehaviour::finish_request(Instant now, std::uint64_t token, std::optional<kad::Message> reply, bool failed) {
  auto found = requests_.find(token);
  if (found == requests_.end()) return;
  Request request = std::move(found->second);
  requests_.erase(found);
  if (request.stream) request_streams_.erase(*request.stream);
  if (failed) ++stats_.requests_failed;
  auto query = queries_.find(request.query);
  if (query == queries_.end()) return;
  QueryState& state = query->second;
  if (failed || !reply) {
    if (failed) {
      state.query.handle_failure(now, request.peer);
      // A peer we still hold a connection to is alive: one refused request
      // (e.g. a js server that cannot parse a BLAKE3 key) must not evict it.
      if (!connected_.count(request.peer)) table_.mark_failed(request.peer);
    }
    return;
  }
  // Depth bookkeeping for the hop count the tests and `dht stats` report.
  const std::size_t depth = state.depth.count(request.peer) ? state.depth[request.peer] : 1;
  state.rounds = std::max(state.rounds, depth);
  for (const auto& peer : reply->closer_peers) {
    if (!state.depth.count(peer.id)) state.depth[peer.id] = depth + 1;
    learn(peer.id, peer.addrs);
    if (peer.id != local_ && !peer.addrs.empty()) events_.push_back(kad_event::PeerLearned{peer.id, peer.addrs});
  }
  for (const auto& provider : reply->provider_peers) learn(provider.id, provider.addrs);
  state.query.handle_response(now, request.peer, *reply);
}

void KadBehaviour::finish_query(Instant now, QueryId id, std::optional<std::string> error) {
  auto found = queries_.find(id);
  if (found == queries_.end()) return;
  QueryState state = std::move(found->second);
  queries_.erase(found);
  ++stats_.queries_finished;
  kad::QueryResult result = state.query.result();
  // Outstanding requests of the query are abandoned (their streams end as
  // they answer or time out).
  for (auto& [token, request] : requests_) {
    if (request.query == id) request.query = 0;
  }
  if (state.kind == QueryKind::get_providers) {
    for (const auto& record : providers_.providers(now, state.key)) {
      const bool known = std::any_of(result.providers.begin(), result.providers.end(),
                                     [&](const kad::Peer& peer) { return peer.id == record.provider; });
      if (!known) result.providers.push_back(kad::Peer{record.provider, record.addrs, kad::ConnectionType::not_connected, 0});
    }
  }
  if (state.kind == QueryKind::get_value) {
    if (auto local = records_.get(now, state.key)) result.records.insert(result.records.begin(), {local_, *local});
  }
  if (!error && state.kind == QueryKind::provide) {
    kad::Message announce;
    announce.type = kad::MessageType::add_provider;
    announce.key = state.key;
    announce.provider_peers.push_back(kad::Peer{local_, state.provider_addrs, kad::ConnectionType::connected, 0});
    for (const auto& peer : result.closest) send(now, 0, peer.id, peer.addrs, announce, false);
  }
  if (!error && state.kind == QueryKind::put_value && state.record) {
    kad::Message put;
    put.type = kad::MessageType::put_value;
    put.key = state.key;
    put.record = state.record;
    for (const auto& peer : result.closest) send(now, 0, peer.id, peer.addrs, put, true);
  }
  if (state.kind == QueryKind::refresh) return;  // internal upkeep: nobody waits for it
  events_.push_back(kad_event::QueryFinished{id, state.kind, state.key, std::move(result), state.requests,
                                             state.rounds, std::move(error)});
}

// ---- inbound requests

void KadBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened) {
  const StreamKey key{opened.connection, opened.stream};
  if (!options_.server || inbound_.size() >= options_.inbound_streams_max) {
    ++stats_.inbound_refused;
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  inbound_.emplace(key, Inbound{opened.peer, kad::FrameReader{}, Outbox(options_.stream_buffer_bytes_max), false});
  pump_inbound(now, swarm, key);
}

void KadBehaviour::pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = inbound_.find(key);
  if (found == inbound_.end()) return;
  Inbound& in = found->second;
  const auto drop = [&](bool bad) {
    if (bad) ++stats_.bad_requests;
    swarm.reset(now, key.first, key.second);
    inbound_.erase(key);
  };
  std::size_t served = 0;
  while (!in.ended) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) return drop(false);
    if (!chunk->data.empty() && !in.reader.handle_data(chunk->data)) return drop(true);
    while (auto request = in.reader.poll_message()) {
      if (++served > kRequestsPerInboundStreamMax) return drop(true);
      auto reply = handler_.handle_request(now, in.peer, *request);
      if (!reply) return drop(true);
      ++stats_.requests_served;
      if (*reply && !in.outbox.push(kad::encode_frame(**reply))) return drop(true);
    }
    if (chunk->finished) {
      if (!in.reader.handle_end()) return drop(true);
      in.ended = true;
    }
    if (chunk->data.empty()) break;
  }
  if (auto flushed = in.outbox.flush(now, swarm, key.first, key.second); !flushed) return drop(false);
  if (in.ended && in.outbox.empty()) {
    (void)swarm.close_write(now, key.first, key.second);
    inbound_.erase(key);
  }
}

bool KadBehaviour::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                   swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (auto request = request_streams_.find(key); request != request_streams_.end()) {
    const auto token = request->second;
    pump_request(now, swarm, token);
    if (closed && requests_.count(token)) finish_request(now, token, std::nullopt, true);
    drive(now);
    return true;
  }
  if (inbound_.count(key)) {
    pump_inbound(now, swarm, key);
    if (closed) inbound_.erase(key);
    return true;
  }
  return false;
}

// ---- time

void KadBehaviour::handle_timeout(Instant now, swarm::Swarm& swarm) {
  std::vector<std::uint64_t> expired;
  for (const auto& [token, request] : requests_) {
    if (now >= request.deadline) expired.push_back(token);
  }
  for (auto token : expired) {
    if (auto found = requests_.find(token); found != requests_.end() && found->second.stream) {
      swarm.reset(now, found->second.stream->first, found->second.stream->second);
    }
    finish_request(now, token, std::nullopt, true);
  }
  for (auto& [id, state] : queries_) {
    if (auto deadline = state.query.next_timeout(); deadline && now >= *deadline) state.query.handle_timeout(now);
  }
  if (now >= next_refresh_) {
    next_refresh_ = now + options_.refresh_interval;
    if (table_.size() > 0) {
      // Our own id fills the nearby buckets; a random key the far ones.
      start(now, QueryKind::refresh, local_.bytes(), kad::MessageType::find_node);
      Bytes random(32);
      rng_.fill(random);
      start(now, QueryKind::refresh, random, kad::MessageType::find_node);
    }
    providers_.expire(now);
    records_.expire(now);
  }
  if (now >= next_republish_) {
    next_republish_ = now + kad::provider_republish_interval;
    for (const auto& [key, addrs] : provided_) provide(now, key, addrs);
  }
  drive(now);
}

std::optional<Instant> KadBehaviour::next_timeout() const {
  Instant next = std::min(next_refresh_, next_republish_);
  for (const auto& [token, request] : requests_) next = std::min(next, request.deadline);
  for (const auto& [id, state] : queries_) {
    if (auto deadline = state.query.next_timeout()) next = std::min(next, *deadline);
  }
  return next;
}

// ---- output

std::optional<KadOpen> KadBehaviour::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = std::move(opens_.front());
  opens_.pop_front();
  return next;
}

std::optional<KadDial> KadBehaviour::poll_dial() {
  if (dials_.empty()) return std::nullopt;
  auto next = std::move(dials_.front());
  dials_.pop_front();
  return next;
}

std::optional<KadEvent> KadBehaviour::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto next = std::move(events_.front());
  events_.pop_front();
  return next;
}

KadStats KadBehaviour::stats() const {
  KadStats stats = stats_;
  stats.routing_table_peers = table_.size();
  stats.provider_keys = providers_.key_count();
  stats.records = records_.size();
  stats.queries_running = queries_.size();
  return stats;
}

}  // namespace taho::host
