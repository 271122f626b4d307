#include "proto/gossipsub/router.hpp"

#include <algorithm>
#include <utility>

namespace taho::gossipsub {

namespace {

// A PRUNE's backoff comes from the peer: clamp it so adding it to an
// Instant cannot overflow.
constexpr std::uint64_t prune_backoff_seconds_max = 24 * 60 * 60;

std::string id_key(ByteView id) { return std::string(as_text(id)); }
Bytes id_bytes(const std::string& key) { return to_bytes(key); }

}  // namespace

std::optional<Protocol> parse_protocol(std::string_view id) {
  if (id == protocol_v1_2) return Protocol::v1_2;
  if (id == protocol_v1_1) return Protocol::v1_1;
  if (id == protocol_v1_0) return Protocol::v1_0;
  return std::nullopt;
}

Router::Router(const crypto::Ed25519KeyPair& key, Rng& rng, Instant now, Options options)
    : local_(PeerId::from_ed25519(key.public_key())),
      key_(key),
      rng_(rng),
      options_(std::move(options)),
      next_seqno_(rng.next_u64()),
      next_heartbeat_(now + options_.heartbeat_initial_delay) {
  mcache_windows_.emplace_back();
}

double Router::score(const PeerId& /*peer*/) const { return 0.0; }

// ---------------------------------------------------------------- peers

void Router::add_peer(Instant /*now*/, const PeerId& peer, Protocol protocol) {
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    if (peers_.size() >= options_.peers_max) {
      ++stats_.peers_refused;
      return;
    }
    found = peers_.emplace(peer, PeerState{}).first;
  }
  found->second.protocol = protocol;
  if (subscriptions_.empty()) return;
  Rpc hello;
  for (const auto& topic : subscriptions_) hello.subscriptions.push_back({true, topic});
  enqueue(peer, std::move(hello));
}

void Router::remove_peer(Instant /*now*/, const PeerId& peer) {
  peers_.erase(peer);
  for (auto& [topic, members] : mesh_) members.erase(peer);
  for (auto& [topic, members] : fanout_) members.erase(peer);
}

// ---------------------------------------------------------------- input

void Router::handle_rpc(Instant now, const PeerId& peer, const Rpc& rpc) {
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    ++stats_.unknown_peer_rpcs;
    return;
  }
  PeerState& state = found->second;
  handle_subscriptions(peer, state, rpc.subscriptions);
  for (const auto& message : rpc.publish) handle_message(now, peer, message);
  if (!rpc.control) return;
  const ControlMessage& control = *rpc.control;
  Rpc reply;
  handle_ihave(peer, state, control.ihave, reply);
  handle_iwant(peer, state, control.iwant, reply);
  handle_graft(now, peer, state, control.graft, reply);
  handle_prune(now, peer, control.prune);
  handle_idontwant(state, control.idontwant);
  if (!reply.empty()) enqueue(peer, std::move(reply));
}

void Router::handle_subscriptions(const PeerId& peer, PeerState& state, const std::vector<SubOpts>& subscriptions) {
  for (const auto& sub : subscriptions) {
    if (sub.subscribe) {
      if (state.topics.count(sub.topic) != 0) continue;
      if (state.topics.size() >= options_.topics_per_peer_max) {
        ++stats_.topics_per_peer_refused;
        continue;
      }
      state.topics.insert(sub.topic);
      emit(PeerSubscribed{peer, sub.topic});
    } else {
      if (state.topics.erase(sub.topic) == 0) continue;
      if (auto mesh = mesh_.find(sub.topic); mesh != mesh_.end()) mesh->second.erase(peer);
      if (auto fanout = fanout_.find(sub.topic); fanout != fanout_.end()) fanout->second.erase(peer);
      emit(PeerUnsubscribed{peer, sub.topic});
    }
  }
}

void Router::handle_message(Instant now, const PeerId& peer, const Message& message) {
  if (!subscribed(message.topic)) {
    ++stats_.unsubscribed_topic_messages;
    return;
  }
  const MessageId id = id_key(message_id(message));
  if (seen_.count(id) != 0) {
    ++stats_.duplicate_messages;
    return;
  }
  auto author = validate_strict(message);
  if (!author) {
    ++stats_.invalid_messages;
    emit(InvalidMessage{peer, std::move(author).error()});
    return;
  }
  if (*author == local_) {  // our own message, relayed back after it left the seen cache
    ++stats_.duplicate_messages;
    return;
  }
  remember(now, id);
  // v1.2: tell the mesh early so large messages are not sent to us twice.
  if (message.data.size() >= options_.idontwant_message_bytes_min) send_idontwant(id, message.topic, peer);
  cache(id, message);
  emit(Delivered{peer, *author, id_bytes(id), message});
  forward(message, id, {peer, *author});
}

void Router::handle_ihave(const PeerId& /*peer: for IWANT promises, with scoring*/, PeerState& state, const std::vector<ControlIHave>& ihaves, Rpc& reply) {
  std::vector<Bytes> wanted;
  std::unordered_set<MessageId> asked;
  for (const auto& ihave : ihaves) {
    if (!subscribed(ihave.topic)) continue;
    if (state.ihave_this_heartbeat >= options_.ihave_per_peer_per_heartbeat_max) {
      ++stats_.ihave_ignored;
      break;
    }
    ++state.ihave_this_heartbeat;
    for (const auto& raw_id : ihave.message_ids) {
      if (state.iwant_ids_this_heartbeat >= options_.iwant_ids_per_peer_per_heartbeat_max) break;
      MessageId id = id_key(raw_id);
      if (seen_.count(id) != 0 || !asked.insert(id).second) continue;
      ++state.iwant_ids_this_heartbeat;
      wanted.push_back(raw_id);
    }
  }
  if (!wanted.empty()) control_of(reply).iwant.push_back({std::move(wanted)});
}

void Router::handle_iwant(const PeerId& peer, PeerState& state, const std::vector<ControlIWant>& iwants, Rpc& reply) {
  // Keep the reply one RPC the peer will accept.
  const std::size_t reply_bytes_max = options_.rpc_limits.rpc_bytes_max / 2;
  std::size_t reply_bytes = 0;
  std::unordered_set<MessageId> answered;
  for (const auto& iwant : iwants) {
    for (const auto& raw_id : iwant.message_ids) {
      if (reply.publish.size() >= options_.iwant_replies_per_rpc_max) return;
      MessageId id = id_key(raw_id);
      const auto cached = mcache_.find(id);
      if (cached == mcache_.end() || state.dont_want.count(id) != 0 || !answered.insert(id).second) continue;
      // A peer asking again and again for one message is amplifying, not missing it.
      std::size_t& served = cached->second.served[peer];
      if (served >= options_.gossip_retransmission) {
        ++stats_.iwant_retransmissions_refused;
        continue;
      }
      const std::size_t bytes = cached->second.message.data.size() + 256;  // data plus signature, key, ids
      if (reply_bytes + bytes > reply_bytes_max) return;
      ++served;
      reply_bytes += bytes;
      reply.publish.push_back(cached->second.message);
    }
  }
}

void Router::handle_graft(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlGraft>& grafts,
                          Rpc& reply) {
  for (const auto& graft : grafts) {
    if (!subscribed(graft.topic)) {
      ++stats_.grafts_refused;
      control_of(reply).prune.push_back(make_prune(graft.topic, state));
      continue;
    }
    auto& mesh = mesh_[graft.topic];
    if (mesh.count(peer) != 0) continue;
    // A GRAFT during backoff, or into a full mesh, is answered with PRUNE
    // (gossipsub v1.1; scoring will add the behaviour penalty).
    if (in_backoff(now, graft.topic, peer) || mesh.size() >= options_.mesh_n_high || score(peer) < 0) {
      ++stats_.grafts_refused;
      control_of(reply).prune.push_back(make_prune(graft.topic, state));
      continue;
    }
    mesh.insert(peer);
  }
}

void Router::handle_prune(Instant now, const PeerId& peer, const std::vector<ControlPrune>& prunes) {
  for (const auto& prune : prunes) {
    auto mesh = mesh_.find(prune.topic);
    if (mesh != mesh_.end()) mesh->second.erase(peer);
    // Only topics we take part in get a backoff entry, so a peer cannot grow the map.
    if (!subscribed(prune.topic) && fanout_.count(prune.topic) == 0) continue;
    const Duration backoff = prune.backoff ? std::chrono::seconds(std::min(*prune.backoff, prune_backoff_seconds_max))
                                           : options_.prune_backoff;
    add_backoff(now, prune.topic, peer, backoff);
    // Peer exchange (prune.peers) is off, as in js-libp2p's defaults.
  }
}

void Router::handle_idontwant(PeerState& state, const std::vector<ControlIDontWant>& idontwants) {
  for (const auto& idontwant : idontwants) {
    for (const auto& raw_id : idontwant.message_ids) {
      if (state.protocol != Protocol::v1_2 || state.dont_want.size() >= options_.idontwant_per_peer_max) {
        ++stats_.idontwant_ignored;
        continue;
      }
      state.dont_want[id_key(raw_id)] = heartbeats_ + options_.idontwant_heartbeats;
    }
  }
}

// ---------------------------------------------------------------- commands

Expected<void, SubscribeError> Router::subscribe(Instant now, std::string_view topic_view) {
  std::string topic(topic_view);
  if (subscriptions_.count(topic) != 0) return {};
  if (topic.size() > options_.rpc_limits.topic_bytes_max) return unexpected(SubscribeError{subscribe::Errc::topic_too_long});
  if (subscriptions_.size() >= options_.subscriptions_max) return unexpected(SubscribeError{subscribe::Errc::too_many_topics});
  subscriptions_.insert(topic);
  for (const auto& [peer, state] : peers_) {
    Rpc announce;
    announce.subscriptions.push_back({true, topic});
    enqueue(peer, std::move(announce));
  }
  // Start the mesh from the fanout peers, then top it up to D (v1.0 JOIN).
  std::set<PeerId> mesh;
  if (auto fanout = fanout_.find(topic); fanout != fanout_.end()) {
    for (const auto& peer : fanout->second) {
      if (mesh.size() < options_.mesh_n && !in_backoff(now, topic, peer)) mesh.insert(peer);
    }
    fanout_.erase(fanout);
    fanout_last_publish_.erase(topic);
  }
  if (mesh.size() < options_.mesh_n) {
    const auto more = pick_peers(topic, options_.mesh_n - mesh.size(), [&](const PeerId& peer, const PeerState&) {
      return mesh.count(peer) == 0 && !in_backoff(now, topic, peer) && score(peer) >= 0;
    });
    mesh.insert(more.begin(), more.end());
  }
  for (const auto& peer : mesh) {
    Rpc graft;
    control_of(graft).graft.push_back({topic});
    enqueue(peer, std::move(graft));
  }
  mesh_[topic] = std::move(mesh);
  return {};
}

void Router::unsubscribe(Instant now, std::string_view topic_view) {
  const std::string topic(topic_view);
  if (subscriptions_.erase(topic) == 0) return;
  for (const auto& [peer, state] : peers_) {
    Rpc announce;
    announce.subscriptions.push_back({false, topic});
    enqueue(peer, std::move(announce));
  }
  if (auto mesh = mesh_.find(topic); mesh != mesh_.end()) {
    for (const auto& peer : mesh->second) {
      const auto state = peers_.find(peer);
      if (state == peers_.end()) continue;
      Rpc prune;
      control_of(prune).prune.push_back(make_prune(topic, state->second));
      enqueue(peer, std::move(prune));
      add_backoff(now, topic, peer, options_.prune_backoff);
    }
    mesh_.erase(mesh);
  }
}

Expected<Bytes, PublishError> Router::publish(Instant now, std::string_view topic_view, ByteView data) {
  const std::string topic(topic_view);
  if (data.size() > options_.rpc_limits.message_data_bytes_max) return unexpected(PublishError{publish::Errc::data_too_large});
  const bool joined = subscribed(topic);
  if (!joined && fanout_.count(topic) == 0 && fanout_.size() >= options_.fanout_topics_max) {
    return unexpected(PublishError{publish::Errc::too_many_topics});
  }
  Message message = sign_message(key_, topic, data, next_seqno_++);
  const MessageId id = id_key(message_id(message));
  if (seen_.count(id) != 0) return unexpected(PublishError{publish::Errc::duplicate});

  std::set<PeerId> recipients;
  if (!joined) {
    // Not subscribed: publish through the fanout, kept for fanout_ttl (v1.0).
    auto& fanout = fanout_[topic];
    if (fanout.size() < options_.mesh_n) {
      const auto more = pick_peers(topic, options_.mesh_n - fanout.size(), [&](const PeerId& peer, const PeerState&) {
        return fanout.count(peer) == 0 && score(peer) >= 0;
      });
      fanout.insert(more.begin(), more.end());
    }
    fanout_last_publish_[topic] = now;
    recipients = fanout;
  } else {
    recipients = mesh_[topic];
  }
  if (options_.flood_publish) {
    // v1.1 flood publishing: our own messages go to every peer in the topic.
    for (const auto& [peer, state] : peers_) {
      if (state.topics.count(topic) != 0 && score(peer) >= 0) recipients.insert(peer);
    }
  }
  if (recipients.empty()) {
    if (!joined && fanout_[topic].empty()) {
      fanout_.erase(topic);
      fanout_last_publish_.erase(topic);
    }
    return unexpected(PublishError{publish::Errc::no_peers, topic});
  }
  remember(now, id);
  cache(id, message);
  for (const auto& peer : recipients) {
    Rpc rpc;
    rpc.publish.push_back(message);
    enqueue(peer, std::move(rpc));
  }
  return id_bytes(id);
}

// ---------------------------------------------------------------- output

std::optional<Send> Router::poll_send() {
  if (sends_.empty()) return std::nullopt;
  Send next = std::move(sends_.front());
  sends_.pop_front();
  return next;
}

std::optional<Event> Router::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::vector<PeerId> Router::mesh_peers(std::string_view topic) const {
  const auto found = mesh_.find(std::string(topic));
  if (found == mesh_.end()) return {};
  return {found->second.begin(), found->second.end()};
}

std::vector<PeerId> Router::fanout_peers(std::string_view topic) const {
  const auto found = fanout_.find(std::string(topic));
  if (found == fanout_.end()) return {};
  return {found->second.begin(), found->second.end()};
}

std::vector<PeerId> Router::topic_peers(std::string_view topic) const {
  std::vector<PeerId> out;
  for (const auto& [peer, state] : peers_) {
    if (state.topics.count(std::string(topic)) != 0) out.push_back(peer);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------- heartbeat

void Router::handle_timeout(Instant now) {
  if (!next_heartbeat_ || now < *next_heartbeat_) return;
  heartbeat(now);
  next_heartbeat_ = now + options_.heartbeat_interval;
}

void Router::heartbeat(Instant now) {
  ++heartbeats_;
  // Control for one peer travels in one RPC.
  std::map<PeerId, Rpc> batch;
  maintain_mesh(now, batch);
  maintain_fanout(now);
  emit_gossip(batch);
  for (auto& [peer, rpc] : batch) enqueue(peer, std::move(rpc));

  // Shift the message cache: the oldest window falls out.
  mcache_windows_.emplace_front();
  while (mcache_windows_.size() > std::max<std::size_t>(options_.mcache_windows, 1)) {
    for (const auto& id : mcache_windows_.back()) mcache_.erase(id);
    mcache_windows_.pop_back();
  }
  while (!seen_order_.empty() && seen_order_.front().first + options_.seen_ttl <= now) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
  }
  for (auto topic = backoff_.begin(); topic != backoff_.end();) {
    std::erase_if(topic->second, [&](const auto& entry) { return entry.second <= now; });
    topic = topic->second.empty() ? backoff_.erase(topic) : std::next(topic);
  }
  for (auto& [peer, state] : peers_) {
    std::erase_if(state.dont_want, [&](const auto& entry) { return entry.second <= heartbeats_; });
    state.ihave_this_heartbeat = 0;
    state.iwant_ids_this_heartbeat = 0;
  }
}

void Router::maintain_mesh(Instant now, std::map<PeerId, Rpc>& batch) {
  for (auto& entry : mesh_) {
    // Named references, not structured bindings: lambdas below capture them.
    const std::string& topic = entry.first;
    std::set<PeerId>& mesh = entry.second;
    std::erase_if(mesh, [&](const PeerId& peer) {
      const auto state = peers_.find(peer);
      return state == peers_.end() || state->second.topics.count(topic) == 0 || score(peer) < 0;
    });
    if (mesh.size() < options_.mesh_n_low) {
      const auto more = pick_peers(topic, options_.mesh_n - mesh.size(), [&](const PeerId& peer, const PeerState&) {
        return mesh.count(peer) == 0 && !in_backoff(now, topic, peer) && score(peer) >= 0;
      });
      for (const auto& peer : more) {
        mesh.insert(peer);
        control_of(batch[peer]).graft.push_back({topic});
      }
    }
    if (mesh.size() > options_.mesh_n_high) {
      // Without scores, keep a random D (v1.1 would keep the best D_score
      // and D_out outbound peers first).
      std::vector<PeerId> members(mesh.begin(), mesh.end());
      for (std::size_t i = members.size() - 1; i > 0; --i) {
        std::swap(members[i], members[rng_.next_u64() % (i + 1)]);
      }
      for (std::size_t i = options_.mesh_n; i < members.size(); ++i) {
        const PeerId& peer = members[i];
        mesh.erase(peer);
        control_of(batch[peer]).prune.push_back(make_prune(topic, peers_.at(peer)));
        add_backoff(now, topic, peer, options_.prune_backoff);
      }
    }
  }
}

void Router::maintain_fanout(Instant now) {
  for (auto topic = fanout_.begin(); topic != fanout_.end();) {
    const auto last = fanout_last_publish_.find(topic->first);
    if (last == fanout_last_publish_.end() || last->second + options_.fanout_ttl <= now) {
      if (last != fanout_last_publish_.end()) fanout_last_publish_.erase(last);
      topic = fanout_.erase(topic);
      continue;
    }
    auto& members = topic->second;
    const std::string& name = topic->first;
    std::erase_if(members, [&](const PeerId& peer) {
      const auto state = peers_.find(peer);
      return state == peers_.end() || state->second.topics.count(name) == 0;
    });
    if (members.size() < options_.mesh_n) {
      const auto more = pick_peers(name, options_.mesh_n - members.size(), [&](const PeerId& peer, const PeerState&) {
        return members.count(peer) == 0 && score(peer) >= 0;
      });
      members.insert(more.begin(), more.end());
    }
    ++topic;
  }
}

void Router::emit_gossip(std::map<PeerId, Rpc>& batch) {
  // Ids per topic from the newest mcache_gossip_windows windows.
  std::map<std::string, std::vector<Bytes>> ids_by_topic;
  const std::size_t windows = std::min(options_.mcache_gossip_windows, mcache_windows_.size());
  for (std::size_t w = 0; w < windows; ++w) {
    for (const auto& id : mcache_windows_[w]) {
      const auto cached = mcache_.find(id);
      if (cached == mcache_.end()) continue;
      const std::string& topic = cached->second.message.topic;
      if (mesh_.count(topic) == 0 && fanout_.count(topic) == 0) continue;
      ids_by_topic[topic].push_back(id_bytes(id));
    }
  }
  for (auto& [topic, ids] : ids_by_topic) {
    if (ids.size() > options_.ihave_ids_max) {
      for (std::size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng_.next_u64() % (i + 1)]);
      ids.resize(options_.ihave_ids_max);
    }
    const auto mesh = mesh_.find(topic);
    const auto fanout = fanout_.find(topic);
    const auto targets = pick_peers(topic, options_.gossip_lazy, [&](const PeerId& peer, const PeerState&) {
      const bool in_mesh = mesh != mesh_.end() && mesh->second.count(peer) != 0;
      const bool in_fanout = fanout != fanout_.end() && fanout->second.count(peer) != 0;
      return !in_mesh && !in_fanout && score(peer) >= 0;
    });
    for (const auto& peer : targets) control_of(batch[peer]).ihave.push_back({topic, ids});
  }
}

// ---------------------------------------------------------------- helpers

void Router::forward(const Message& message, const MessageId& id, const std::set<PeerId>& exclude) {
  const auto mesh = mesh_.find(message.topic);
  if (mesh == mesh_.end()) return;
  for (const auto& peer : mesh->second) {
    if (exclude.count(peer) != 0) continue;
    const auto state = peers_.find(peer);
    if (state == peers_.end() || state->second.dont_want.count(id) != 0) continue;
    Rpc rpc;
    rpc.publish.push_back(message);
    enqueue(peer, std::move(rpc));
  }
}

void Router::send_idontwant(const MessageId& id, const std::string& topic, const PeerId& source) {
  const auto mesh = mesh_.find(topic);
  if (mesh == mesh_.end()) return;
  for (const auto& peer : mesh->second) {
    if (peer == source) continue;
    const auto state = peers_.find(peer);
    if (state == peers_.end() || state->second.protocol != Protocol::v1_2) continue;
    Rpc rpc;
    control_of(rpc).idontwant.push_back({{id_bytes(id)}});
    enqueue(peer, std::move(rpc));
  }
}

bool Router::remember(Instant now, const MessageId& id) {
  if (seen_.count(id) != 0) return false;
  if (seen_.size() >= options_.seen_entries_max && !seen_order_.empty()) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
    ++stats_.seen_evicted;
  }
  seen_.emplace(id, now);
  seen_order_.emplace_back(now, id);
  return true;
}

void Router::cache(const MessageId& id, const Message& message) {
  if (mcache_.count(id) != 0) return;
  if (mcache_.size() >= options_.mcache_messages_max) {
    for (auto window = mcache_windows_.rbegin(); window != mcache_windows_.rend(); ++window) {
      if (window->empty()) continue;
      mcache_.erase(window->front());
      window->pop_front();
      ++stats_.mcache_evicted;
      break;
    }
  }
  mcache_.emplace(id, CachedMessage{message, {}});
  mcache_windows_.front().push_back(id);
}

void Router::add_backoff(Instant now, const std::string& topic, const PeerId& peer, Duration backoff) {
  auto& entries = backoff_[topic];
  const Instant until = now + backoff;
  const auto found = entries.find(peer);
  if (found != entries.end()) {
    found->second = std::max(found->second, until);
  } else if (entries.size() < options_.peers_max) {
    entries.emplace(peer, until);
  }
}

bool Router::in_backoff(Instant now, const std::string& topic, const PeerId& peer) const {
  const auto entries = backoff_.find(topic);
  if (entries == backoff_.end()) return false;
  const auto found = entries->second.find(peer);
  return found != entries->second.end() && now < found->second;
}

ControlPrune Router::make_prune(const std::string& topic, const PeerState& state) const {
  ControlPrune prune;
  prune.topic = topic;
  // v1.0 peers know no backoff field.
  if (state.protocol != Protocol::v1_0) {
    prune.backoff = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(options_.prune_backoff).count());
  }
  return prune;
}

template <class Accept>
std::vector<PeerId> Router::pick_peers(const std::string& topic, std::size_t count, Accept accept) {
  std::vector<PeerId> candidates;
  for (const auto& [peer, state] : peers_) {
    if (state.topics.count(topic) != 0 && accept(peer, state)) candidates.push_back(peer);
  }
  // Sorted first so the choice depends only on the Rng, not on hash order.
  std::sort(candidates.begin(), candidates.end());
  for (std::size_t i = candidates.size(); i > 1; --i) {
    std::swap(candidates[i - 1], candidates[rng_.next_u64() % i]);
  }
  if (candidates.size() > count) candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(count), candidates.end());
  return candidates;
}

void Router::enqueue(const PeerId& peer, Rpc rpc) {
  if (sends_.size() >= options_.send_queue_max) {
    ++stats_.sends_dropped;
    return;
  }
  sends_.push_back({peer, std::move(rpc)});
}

void Router::emit(Event event) {
  if (events_.size() >= options_.event_queue_max) {
    ++stats_.events_dropped;
    return;
  }
  events_.push_back(std::move(event));
}

ControlMessage& Router::control_of(Rpc& rpc) {
  if (!rpc.control) rpc.control.emplace();
  return *rpc.control;
}

}  // namespace taho::gossipsub
