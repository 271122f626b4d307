#include "host/gossip_behaviour.hpp"

#include <algorithm>

namespace taho::host {

namespace {
constexpr std::size_t kReadBytes = 256 * 1024;
}  // namespace

GossipBehaviour::GossipBehaviour(const crypto::Ed25519KeyPair& key, Rng& rng, Instant now, GossipOptions options)
    : router_(key, rng, now, options.router), options_(std::move(options)) {}

std::vector<std::string> GossipBehaviour::protocols() {
  return {std::string(gossipsub::protocol_v1_2), std::string(gossipsub::protocol_v1_1),
          std::string(gossipsub::protocol_v1_0)};
}

void GossipBehaviour::on_identified(Instant now, const PeerId& peer, const identify::Info& info, bool connected) {
  if (!connected) return;
  // The newest version both sides speak.
  for (const auto& protocol : protocols()) {
    if (std::find(info.protocols.begin(), info.protocols.end(), protocol) == info.protocols.end()) continue;
    Reopen& reopen = reopens_[peer];
    reopen.protocol = protocol;
    if (auto out = outbound_.find(peer); out != outbound_.end() && (out->second.stream || out->second.token)) return;
    // A fresh identify (a new connection, a push) is worth trying at once;
    // the failure count stays, so a stream that dies again backs off further.
    cancel_reopen(peer);
    open(peer, protocol);
    return;
  }
  // It no longer speaks gossipsub: a stream of ours lives on until it
  // ends, but none is opened again.
  cancel_reopen(peer);
  reopens_.erase(peer);
  if (auto out = outbound_.find(peer); out != outbound_.end() && !out->second.stream && !out->second.token) {
    drop_peer(now, peer);
  }
}

void GossipBehaviour::open(const PeerId& peer, const std::string& protocol) {
  const auto token = next_token_++;
  // A peer waiting for a reopen has an entry already, with what the router
  // queued for it meanwhile.
  auto out = outbound_.try_emplace(peer, Outbound{std::nullopt, 0, Outbox(options_.peer_queue_bytes_max)});
  out.first->second.token = token;
  opening_.emplace(token, peer);
  opens_.push_back(GossipOpen{token, peer, protocol});
  ++stats_.streams_opened;
}

void GossipBehaviour::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                         swarm::ConnectionId connection, swarm::StreamId stream,
                                         const std::string& protocol) {
  auto opening = opening_.find(token);
  auto version = gossipsub::parse_protocol(protocol);
  if (opening == opening_.end() || !version) {
    swarm.reset(now, connection, stream);
    return;
  }
  const PeerId peer = opening->second;
  opening_.erase(opening);
  auto out = outbound_.find(peer);
  if (out == outbound_.end() || out->second.token != token) {
    swarm.reset(now, connection, stream);
    return;
  }
  out->second.stream = StreamKey{connection, stream};
  out->second.opened = now;
  outbound_streams_.emplace(StreamKey{connection, stream}, peer);
  // For a reopened stream the router knows the peer still: this only sends
  // our subscriptions again, as the first RPCs of a new stream should be.
  router_.add_peer(now, peer, *version);
  out->second.routed = true;
  if (auto ip = peer_ips_.find(peer); ip != peer_ips_.end()) router_.set_peer_ip(peer, ip->second);
  // What the peer sent while the router did not know it waited unread.
  std::vector<StreamKey> waiting;
  for (const auto& [key, in] : inbound_) {
    if (in.peer == peer) waiting.push_back(key);
  }
  for (const auto& key : waiting) pump_inbound(now, swarm, key);
  flush(now, swarm);
}

bool GossipBehaviour::routed(const PeerId& peer) const {
  auto out = outbound_.find(peer);
  return out != outbound_.end() && out->second.routed;
}

void GossipBehaviour::on_open_failed(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto opening = opening_.find(token);
  if (opening == opening_.end()) return;
  const PeerId peer = opening->second;
  opening_.erase(opening);
  auto out = outbound_.find(peer);
  if (out != outbound_.end() && out->second.token == token) stream_lost(now, swarm, peer);
}

void GossipBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                        const swarm::swarm_event::StreamOpened& opened) {
  if (options_.inbound_streams_per_peer_max == 0) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  // At the limit the peer's oldest stream goes: the peer opened this one
  // because it stopped writing on an older one. Streams come one at a time,
  // so the limit is never exceeded by more than this one.
  std::size_t existing = 0;
  auto oldest = inbound_.end();
  for (auto it = inbound_.begin(); it != inbound_.end(); ++it) {
    if (it->second.peer != opened.peer) continue;
    ++existing;
    if (oldest == inbound_.end() || it->second.arrival < oldest->second.arrival) oldest = it;
  }
  if (existing >= options_.inbound_streams_per_peer_max) {
    const StreamKey old_key = oldest->first;
    inbound_.erase(oldest);
    ++stats_.inbound_streams_replaced;
    swarm.reset(now, old_key.first, old_key.second);
  }
  const StreamKey key{opened.connection, opened.stream};
  inbound_.emplace(key, Inbound{opened.peer, gossipsub::FrameReader(options_.router.rpc_limits), ++inbound_arrivals_});
  pump_inbound(now, swarm, key);
}

// The peer's RPCs wait in its stream (flow control holds it back) until
// the router knows the peer: it drops an RPC from a peer it does not know,
// and the first one on a stream carries the peer's subscriptions. The
// peer's stream often arrives before ours is open, always when only ours
// is being reopened after a backoff.
void GossipBehaviour::pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  while (true) {
    auto found = inbound_.find(key);
    if (found == inbound_.end()) return;
    Inbound& in = found->second;
    if (!routed(in.peer)) return;
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) {
      inbound_.erase(found);
      return;
    }
    if (!chunk->data.empty()) {
      if (!in.reader.push(chunk->data)) {
        ++stats_.bad_frames;
        swarm.reset(now, key.first, key.second);
        inbound_.erase(found);
        return;
      }
      while (true) {
        auto rpc = in.reader.next();
        if (!rpc) {
          ++stats_.bad_frames;
          swarm.reset(now, key.first, key.second);
          inbound_.erase(key);
          return;
        }
        if (!*rpc) break;
        ++stats_.rpcs_received;
        if (!admit(now, in.peer, (*rpc)->publish.size())) continue;
        router_.handle_rpc(now, in.peer, std::move(**rpc));
      }
    }
    if (chunk->finished) {
      inbound_.erase(key);
      return;
    }
    if (chunk->data.empty()) return;
  }
}

void GossipBehaviour::flush(Instant now, swarm::Swarm& swarm) {
  while (auto send = router_.poll_send()) {
    auto out = outbound_.find(send->peer);
    if (out == outbound_.end()) continue;  // the router forgot it meanwhile
    ++stats_.rpcs_sent;
    if (!out->second.outbox.push(gossipsub::encode_framed(send->rpc))) ++stats_.rpcs_dropped_queue_full;
  }
  std::vector<PeerId> broken;
  for (auto& [peer, out] : outbound_) {
    if (!out.stream || out.outbox.empty()) continue;
    if (!out.outbox.flush(now, swarm, out.stream->first, out.stream->second)) broken.push_back(peer);
  }
  for (const auto& peer : broken) stream_lost(now, swarm, peer);
}

bool GossipBehaviour::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                      swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (inbound_.count(key)) {
    pump_inbound(now, swarm, key);
    if (closed) inbound_.erase(key);
    flush(now, swarm);
    return true;
  }
  auto out = outbound_streams_.find(key);
  if (out == outbound_streams_.end()) return false;
  const PeerId peer = out->second;
  if (closed) {
    stream_lost(now, swarm, peer);
    return true;
  }
  // Nothing comes in on our outbound stream; drain what might.
  if (auto chunk = swarm.read(now, connection, stream, kReadBytes); !chunk) {
    stream_lost(now, swarm, peer);
    return true;
  }
  flush(now, swarm);
  return true;
}

void GossipBehaviour::drop_peer(Instant now, const PeerId& peer) {
  auto out = outbound_.find(peer);
  if (out == outbound_.end()) return;
  if (out->second.stream) outbound_streams_.erase(*out->second.stream);
  opening_.erase(out->second.token);
  outbound_.erase(out);
  router_.remove_peer(now, peer);
}

// While a reopen is pending the router keeps the peer (its subscriptions,
// mesh slots and score): the peer's stream to us may well be alive, and an
// RPC on it from a peer the router had forgotten would be dropped, among
// them the subscriptions it sends first on its own reopened stream. What
// the router sends meanwhile waits in a fresh outbox (the old one may end
// in half a frame). Only when we give up, or the peer is gone, does the
// router forget it.
void GossipBehaviour::stream_lost(Instant now, swarm::Swarm& swarm, const PeerId& peer) {
  auto out = outbound_.find(peer);
  if (out == outbound_.end()) return;
  const bool stable = out->second.stream && now - out->second.opened >= options_.reopen_stable_after;
  if (!swarm.is_connected(peer) || !schedule_reopen(now, peer, stable)) {
    drop_peer(now, peer);  // not connected: on_disconnected follows and forgets the rest
    return;
  }
  if (out->second.stream) outbound_streams_.erase(*out->second.stream);
  opening_.erase(out->second.token);
  out->second = Outbound{std::nullopt, 0, Outbox(options_.peer_queue_bytes_max), Instant{}, out->second.routed};
}

bool GossipBehaviour::schedule_reopen(Instant now, const PeerId& peer, bool stable) {
  auto found = reopens_.find(peer);
  if (found == reopens_.end()) return false;
  Reopen& reopen = found->second;
  if (reopen.due) return true;
  if (stable) reopen.failures = 0;
  if (reopen.failures >= options_.reopen_attempts_max) {
    ++stats_.reopens_given_up;
    reopens_.erase(found);  // its next identify starts afresh
    return false;
  }
  Duration delay = options_.reopen_backoff_initial;
  for (std::size_t i = 0; i < reopen.failures && delay < options_.reopen_backoff_max; ++i) delay *= 2;
  delay = std::min(delay, options_.reopen_backoff_max);
  ++reopen.failures;
  reopen.due = now + delay;
  reopen_queue_.emplace(*reopen.due, peer);
  return true;
}

void GossipBehaviour::cancel_reopen(const PeerId& peer) {
  auto found = reopens_.find(peer);
  if (found == reopens_.end() || !found->second.due) return;
  reopen_queue_.erase({*found->second.due, peer});
  found->second.due.reset();
}

void GossipBehaviour::reopen_due(Instant now, swarm::Swarm& swarm) {
  while (!reopen_queue_.empty() && reopen_queue_.begin()->first <= now) {
    const PeerId peer = reopen_queue_.begin()->second;
    reopen_queue_.erase(reopen_queue_.begin());
    auto found = reopens_.find(peer);
    if (found == reopens_.end()) continue;
    found->second.due.reset();
    if (!swarm.is_connected(peer)) {  // on_disconnected is on its way
      reopens_.erase(found);
      drop_peer(now, peer);
      continue;
    }
    if (auto out = outbound_.find(peer); out != outbound_.end() && (out->second.stream || out->second.token)) continue;
    open(peer, found->second.protocol);
    ++stats_.streams_reopened;
  }
}

bool GossipBehaviour::admit(Instant now, const PeerId& peer, std::size_t messages) {
  if (messages == 0) return true;  // control only: bounded by the router's own limits
  auto [it, fresh] = rates_.try_emplace(peer);
  RateBucket& bucket = it->second;
  if (fresh) {
    bucket.tokens = options_.peer_message_burst;
    bucket.refilled = now;
  }
  const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
  bucket.tokens = std::min(options_.peer_message_burst, bucket.tokens + elapsed * options_.peer_messages_per_second);
  bucket.refilled = now;
  if (bucket.tokens >= static_cast<double>(messages)) {
    bucket.tokens -= static_cast<double>(messages);
    return true;
  }
  ++stats_.rpcs_dropped_rate_limited;
  ++bucket.dropped;
  router_.set_application_score(peer, -static_cast<double>(bucket.dropped));
  return false;
}

void GossipBehaviour::set_peer_ip(const PeerId& peer, std::string ip) {
  router_.set_peer_ip(peer, ip);  // ignored by the router until it knows the peer
  peer_ips_.insert_or_assign(peer, std::move(ip));
}

void GossipBehaviour::on_disconnected(Instant now, const PeerId& peer) {
  drop_peer(now, peer);
  cancel_reopen(peer);
  reopens_.erase(peer);
  peer_ips_.erase(peer);
  // A peer that was rate limited keeps its bucket: reconnecting must not refill it.
  if (auto rate = rates_.find(peer); rate != rates_.end() && rate->second.dropped == 0) rates_.erase(rate);
  for (auto it = inbound_.begin(); it != inbound_.end();) {
    it = it->second.peer == peer ? inbound_.erase(it) : std::next(it);
  }
}

void GossipBehaviour::handle_timeout(Instant now, swarm::Swarm& swarm) {
  if (auto due = router_.next_timeout(); due && now >= *due) router_.handle_timeout(now);
  reopen_due(now, swarm);
  flush(now, swarm);
}

std::optional<Instant> GossipBehaviour::next_timeout() const {
  auto next = router_.next_timeout();
  if (!reopen_queue_.empty() && (!next || reopen_queue_.begin()->first < *next)) next = reopen_queue_.begin()->first;
  return next;
}

std::optional<swarm::ConnectionId> GossipBehaviour::outbound_connection(const PeerId& peer) const {
  auto out = outbound_.find(peer);
  if (out == outbound_.end() || !out->second.stream) return std::nullopt;
  return out->second.stream->first;
}

std::optional<GossipReopen> GossipBehaviour::reopen_of(const PeerId& peer) const {
  auto found = reopens_.find(peer);
  if (found == reopens_.end() || !found->second.due) return std::nullopt;
  return GossipReopen{*found->second.due, found->second.failures};
}

std::optional<GossipOpen> GossipBehaviour::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = std::move(opens_.front());
  opens_.pop_front();
  return next;
}

std::set<PeerId> GossipBehaviour::mesh_peers() const {
  std::set<PeerId> peers;
  for (const auto& topic : topics_) {
    for (const auto& peer : router_.mesh_peers(topic)) peers.insert(peer);
  }
  return peers;
}

Expected<void, gossipsub::SubscribeError> GossipBehaviour::subscribe(Instant now, swarm::Swarm& swarm,
                                                                     std::string_view topic) {
  auto subscribed = router_.subscribe(now, topic);
  if (subscribed) topics_.insert(std::string(topic));
  flush(now, swarm);
  return subscribed;
}

void GossipBehaviour::unsubscribe(Instant now, swarm::Swarm& swarm, std::string_view topic) {
  router_.unsubscribe(now, topic);
  topics_.erase(std::string(topic));
  flush(now, swarm);
}

Expected<Bytes, gossipsub::PublishError> GossipBehaviour::publish(Instant now, swarm::Swarm& swarm,
                                                                  std::string_view topic, ByteView data) {
  auto published = router_.publish(now, topic, data);
  flush(now, swarm);
  return published;
}

}  // namespace taho::host
