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
  (void)now;
  if (!connected || outbound_.count(peer)) return;
  // The newest version both sides speak.
  for (const auto& protocol : protocols()) {
    if (std::find(info.protocols.begin(), info.protocols.end(), protocol) == info.protocols.end()) continue;
    const auto token = next_token_++;
    outbound_.emplace(peer, Outbound{std::nullopt, token, Outbox(options_.peer_queue_bytes_max)});
    opening_.emplace(token, peer);
    opens_.push_back(GossipOpen{token, peer, protocol});
    return;
  }
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
  outbound_streams_.emplace(StreamKey{connection, stream}, peer);
  router_.add_peer(now, peer, *version);
  if (auto ip = peer_ips_.find(peer); ip != peer_ips_.end()) router_.set_peer_ip(peer, ip->second);
  flush(now, swarm);
}

void GossipBehaviour::on_open_failed(Instant now, std::uint64_t token) {
  (void)now;
  auto opening = opening_.find(token);
  if (opening == opening_.end()) return;
  auto out = outbound_.find(opening->second);
  if (out != outbound_.end() && out->second.token == token) outbound_.erase(out);
  opening_.erase(opening);
}

void GossipBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                        const swarm::swarm_event::StreamOpened& opened) {
  const std::size_t existing = static_cast<std::size_t>(std::count_if(
      inbound_.begin(), inbound_.end(), [&](const auto& entry) { return entry.second.peer == opened.peer; }));
  if (existing >= options_.inbound_streams_per_peer_max) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  const StreamKey key{opened.connection, opened.stream};
  inbound_.emplace(key, Inbound{opened.peer, gossipsub::FrameReader(options_.router.rpc_limits)});
  pump_inbound(now, swarm, key);
}

void GossipBehaviour::pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  while (true) {
    auto found = inbound_.find(key);
    if (found == inbound_.end()) return;
    Inbound& in = found->second;
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
  for (const auto& peer : broken) drop_peer(now, peer);
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
    drop_peer(now, peer);
    return true;
  }
  // Nothing comes in on our outbound stream; drain what might.
  if (auto chunk = swarm.read(now, connection, stream, kReadBytes); !chunk) {
    drop_peer(now, peer);
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
  peer_ips_.erase(peer);
  // A peer that was rate limited keeps its bucket: reconnecting must not refill it.
  if (auto rate = rates_.find(peer); rate != rates_.end() && rate->second.dropped == 0) rates_.erase(rate);
  for (auto it = inbound_.begin(); it != inbound_.end();) {
    it = it->second.peer == peer ? inbound_.erase(it) : std::next(it);
  }
}

void GossipBehaviour::handle_timeout(Instant now, swarm::Swarm& swarm) {
  if (auto due = router_.next_timeout(); due && now >= *due) router_.handle_timeout(now);
  flush(now, swarm);
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
