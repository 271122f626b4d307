#include "proto/gossipsub/router.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "base/varint.hpp"

namespace taho::gossipsub {

namespace {

// A PRUNE's backoff comes from the peer: clamp it so adding it to an
// Instant cannot overflow.
constexpr std::uint64_t prune_backoff_seconds_max = 24 * 60 * 60;

std::string id_key(ByteView id) { return std::string(as_text(id)); }
Bytes id_bytes(std::string_view key) { return to_bytes(key); }

// Erases the entry a queue's view names (the view dies with the key).
template <class Map>
void erase_key(Map& map, std::string_view key) {
  if (const auto found = map.find(key); found != map.end()) map.erase(found);
}

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
      next_housekeeping_(now + options_.heartbeat_initial_delay),
      scores_(options_.score_params),
      adaptive_(options_.adaptive),
      current_interval_(options_.heartbeat_interval),
      next_heartbeat_(now + options_.heartbeat_initial_delay) {
  mcache_windows_.emplace_back();
}

double Router::score(const PeerId& peer) const { return options_.scoring ? scores_.score(peer) : 0.0; }

// ---------------------------------------------------------------- peers

void Router::add_peer(Instant /*now*/, const PeerId& peer, Protocol protocol) {
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    if (peers_.size() >= options_.peers_max) {
      ++stats_.peers_refused;
      return;
    }
    found = peers_.emplace(peer, PeerState{}).first;
    scores_.add_peer(peer);
  }
  found->second.protocol = protocol;
  if (subscriptions_.empty()) return;
  Rpc hello;
  for (const auto& topic : subscriptions_) hello.subscriptions.push_back({true, topic});
  enqueue(peer, std::move(hello));
}

void Router::remove_peer(Instant now, const PeerId& peer) {
  if (peers_.erase(peer) == 0) return;
  ++signals_.churn;
  // The score keeps counting the departed mesh as pruned (P3b) and is
  // retained, so reconnecting does not reset it.
  scores_.remove_peer(now, peer);
  for (auto& [topic, members] : mesh_) members.erase(peer);
  for (auto& [topic, members] : fanout_) members.erase(peer);
}

// ---------------------------------------------------------------- input

void Router::handle_rpc(Instant now, const PeerId& peer, const Rpc& rpc) { handle_rpc_of(now, peer, rpc); }

void Router::handle_rpc(Instant now, const PeerId& peer, Rpc&& rpc) { handle_rpc_of(now, peer, std::move(rpc)); }

template <class Rpc_>
void Router::handle_rpc_of(Instant now, const PeerId& peer, Rpc_&& rpc) {
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    ++stats_.unknown_peer_rpcs;
    return;
  }
  // Graylisted (v1.1): a peer this far below zero gets no attention at all.
  if (score(peer) < options_.score_thresholds.graylist_threshold) {
    ++stats_.graylisted_rpcs;
    return;
  }
  PeerState& state = found->second;
  handle_subscriptions(now, peer, state, rpc.subscriptions);
  // Moved from when the RPC is ours to take; a const RPC's messages come
  // out as const&& and are copied, and only the ones delivered.
  for (auto& message : rpc.publish) handle_message(now, peer, std::move(message));
  if (!rpc.control) return;
  const ControlMessage& control = *rpc.control;
  Rpc reply;
  handle_ihave(now, peer, state, control.ihave, reply);
  handle_iwant(peer, state, control.iwant, reply);
  handle_graft(now, peer, state, control.graft, reply);
  handle_prune(now, peer, control.prune);
  handle_idontwant(state, control.idontwant);
  if (!reply.empty()) enqueue(peer, std::move(reply));
}

void Router::handle_subscriptions(Instant /*now*/, const PeerId& peer, PeerState& state,
                                  const std::vector<SubOpts>& subscriptions) {
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
      if (auto mesh = mesh_.find(sub.topic); mesh != mesh_.end()) mesh_remove(sub.topic, mesh->second, peer);
      if (auto fanout = fanout_.find(sub.topic); fanout != fanout_.end()) fanout->second.erase(peer);
      emit(PeerUnsubscribed{peer, sub.topic});
    }
  }
}

template <class Message_>
void Router::handle_message(Instant now, const PeerId& peer, Message_&& message) {
  if (!subscribed(message.topic)) {
    ++stats_.unsubscribed_topic_messages;
    return;
  }
  const bool signed_policy = options_.signature_policy == SignaturePolicy::strict_sign;
  const MessageId id = id_of(message);
  // Seen before: never verified again, whoever relays it.
  if (seen_.find(id) != seen_.end()) {
    ++stats_.duplicate_messages;
    handle_duplicate(now, peer, id);
    return;
  }
  PeerId author = peer;
  if (signed_policy) {
    auto signer = validate_strict(message);
    if (!signer) {
      ++stats_.invalid_messages;
      // A key type we cannot verify is our limit, not the relayer's fault.
      if (signer.error().code != validation::Errc::unsupported_key) scores_.invalid_delivery(peer, message.topic);
      emit(InvalidMessage{peer, std::move(signer).error()});
      return;
    }
    author = std::move(*signer);
  } else if (auto valid = validate_strict_no_sign(message); !valid) {
    ++stats_.invalid_messages;
    scores_.invalid_delivery(peer, message.topic);
    emit(InvalidMessage{peer, std::move(valid).error()});
    return;
  }
  if (signed_policy && author == local_) {  // our own message, relayed back after it left the seen cache
    ++stats_.duplicate_messages;
    return;
  }
  remember(now, id);
  ++signals_.new_messages;
  if (const auto promise = promises_.find(id); promise != promises_.end()) {  // the mesh missed it; gossip repaired
    promises_.erase(promise);
    ++signals_.promises_due;
    ++signals_.iwant_requested;
    ++stats_.iwant_repairs;
  }
  // v1.2: tell the mesh early so large messages are not sent to us twice.
  if (message.data.size() >= options_.idontwant_message_bytes_min) send_idontwant(id, message.topic, peer);
  DeliveryRecord& record = record_delivery(now, id, message.topic, peer);
  if (!options_.validate_messages) {
    accept_message(now, id, Message(std::forward<Message_>(message)), peer, std::move(author));
    return;
  }
  if (pending_.size() >= options_.pending_validations_max) {
    ++stats_.validations_dropped;
    record.status = DeliveryStatus::ignored;
    return;
  }
  emit(ValidationRequired{peer, author, id_bytes(id), message});
  pending_.emplace(id, PendingValidation{Message(std::forward<Message_>(message)), peer, std::move(author),
                                         now + options_.validation_timeout});
}

void Router::handle_duplicate(Instant now, const PeerId& peer, std::string_view id) {
  // Whoever delivered it, the promise is kept.
  if (const auto promise = promises_.find(id); promise != promises_.end()) {
    promises_.erase(promise);
    ++signals_.promises_due;
  }
  const auto found = deliveries_.find(id);
  if (found == deliveries_.end()) return;
  DeliveryRecord& record = found->second;
  if (std::find(record.peers.begin(), record.peers.end(), peer) != record.peers.end()) return;
  switch (record.status) {
    case DeliveryStatus::pending:
      record.peers.push_back(peer);
      break;
    case DeliveryStatus::valid:
      // A mesh peer that was only a little late still did its job (P3).
      if (now - record.validated_at <= options_.score_params.topic(record.topic).mesh_message_deliveries_window) {
        scores_.near_first_delivery(peer, record.topic);
        record.peers.push_back(peer);
      }
      break;
    case DeliveryStatus::invalid:
      scores_.invalid_delivery(peer, record.topic);
      record.peers.push_back(peer);
      break;
    case DeliveryStatus::ignored:
      break;
  }
}

void Router::accept_message(Instant now, std::string_view id, Message message, const PeerId& source, PeerId author) {
  std::span<const PeerId> earlier_senders;
  if (auto found = deliveries_.find(id); found != deliveries_.end()) {
    DeliveryRecord& record = found->second;
    record.status = DeliveryStatus::valid;
    record.validated_at = now;
    for (std::size_t i = 0; i < record.peers.size(); ++i) {
      if (i == 0) scores_.first_delivery(record.peers[i], record.topic);
      else scores_.near_first_delivery(record.peers[i], record.topic);
    }
    earlier_senders = record.peers;
  }
  // One encoding for the whole mesh, the cache and later IWANT answers.
  const SharedEncoding encoded(encode_message(message));
  cache(id, message.topic, encoded);
  forward(message.topic, id, encoded, source, author, earlier_senders);
  emit(Delivered{source, std::move(author), id_bytes(id), std::move(message)});
}

bool Router::report_validation(Instant now, ByteView raw_id, Verdict verdict) {
  const MessageId id = id_key(raw_id);
  const auto found = pending_.find(id);
  if (found == pending_.end()) return false;
  PendingValidation pending = std::move(found->second);
  pending_.erase(found);
  const auto record = deliveries_.find(id);
  switch (verdict) {
    case Verdict::accept:
      accept_message(now, id, std::move(pending.message), pending.source, std::move(pending.author));
      break;
    case Verdict::reject:
      ++stats_.validations_rejected;
      if (record != deliveries_.end()) {
        record->second.status = DeliveryStatus::invalid;
        for (const auto& peer : record->second.peers) scores_.invalid_delivery(peer, record->second.topic);
      }
      break;
    case Verdict::ignore:
      ++stats_.validations_ignored;
      if (record != deliveries_.end()) {
        record->second.status = DeliveryStatus::ignored;
        record->second.peers.clear();
      }
      break;
  }
  return true;
}

void Router::set_application_score(const PeerId& peer, double value) { scores_.set_application_score(peer, value); }

void Router::set_peer_ip(const PeerId& peer, std::string ip) {
  if (peers_.count(peer) == 0) return;
  scores_.set_ip(peer, std::move(ip));
}

void Router::report_link_quality(const PeerId& peer, double loss_fraction, Duration rtt) {
  const auto found = peers_.find(peer);
  if (found == peers_.end()) return;
  found->second.link_loss = std::isfinite(loss_fraction) ? std::clamp(loss_fraction, 0.0, 1.0) : 0.0;
  found->second.link_rtt = std::max(rtt, Duration{0});
  found->second.link_reported = true;
}

void Router::handle_ihave(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlIHave>& ihaves,
                          Rpc& reply) {
  if (ihaves.empty()) return;
  if (score(peer) < options_.score_thresholds.gossip_threshold) {
    ++stats_.gossip_refused;
    return;
  }
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
      if (seen_.count(as_text(raw_id)) != 0) continue;
      MessageId id = id_key(raw_id);
      if (!asked.insert(id).second) continue;
      ++state.iwant_ids_this_heartbeat;
      wanted.push_back(raw_id);
      // The peer promised this message: if it never comes, that is P7.
      if (promises_.count(id) != 0) continue;
      if (promises_.size() >= options_.iwant_promises_max) {
        ++stats_.iwant_promises_dropped;
        continue;
      }
      promises_.emplace(std::move(id), Promise{peer, now + options_.iwant_followup_time});
    }
  }
  if (!wanted.empty()) control_of(reply).iwant.push_back({std::move(wanted)});
}

void Router::handle_iwant(const PeerId& peer, PeerState& state, const std::vector<ControlIWant>& iwants, Rpc& reply) {
  if (iwants.empty()) return;
  if (score(peer) < options_.score_thresholds.gossip_threshold) {
    ++stats_.gossip_refused;
    return;
  }
  // Keep the reply one RPC the peer will accept.
  const std::size_t reply_bytes_max = options_.rpc_limits.rpc_bytes_max / 2;
  std::size_t reply_bytes = 0;
  std::unordered_set<std::string_view> answered;  // views of mcache_'s keys
  for (const auto& iwant : iwants) {
    for (const auto& raw_id : iwant.message_ids) {
      if (reply.publish.size() >= options_.iwant_replies_per_rpc_max) return;
      const auto cached = mcache_.find(as_text(raw_id));
      if (cached == mcache_.end() || state.dont_want.count(as_text(raw_id)) != 0) continue;
      if (!answered.insert(cached->first).second) continue;
      // A peer asking again and again for one message is amplifying, not missing it.
      std::size_t& served = cached->second.served[peer];
      if (served >= options_.gossip_retransmission) {
        ++stats_.iwant_retransmissions_refused;
        continue;
      }
      const std::size_t bytes = cached->second.encoded.bytes().size() + varint::kEncodedBytesMax + 1;  // with its field header
      if (reply_bytes + bytes > reply_bytes_max) return;
      ++served;
      reply_bytes += bytes;
      reply.publish_encoded.push_back(cached->second.encoded);
    }
  }
}

void Router::handle_graft(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlGraft>& grafts,
                          Rpc& reply) {
  for (const auto& graft : grafts) {
    if (!subscribed(graft.topic)) {
      ++stats_.grafts_refused;
      control_of(reply).prune.push_back(make_prune(graft.topic, peer, state));
      continue;
    }
    auto& mesh = mesh_[graft.topic];
    if (mesh.count(peer) != 0) continue;
    // A GRAFT during backoff, or into a full mesh, is answered with PRUNE;
    // during backoff it is also misbehaviour (v1.1, P7).
    const bool backing_off = in_backoff(now, graft.topic, peer);
    if (backing_off) {
      ++stats_.graft_backoff_violations;
      scores_.add_penalty(peer, 1);
    }
    if (backing_off || mesh.size() >= options_.mesh_n_high || score(peer) < 0) {
      ++stats_.grafts_refused;
      control_of(reply).prune.push_back(make_prune(graft.topic, peer, state));
      continue;
    }
    mesh_add(now, graft.topic, mesh, peer);
  }
}

void Router::handle_prune(Instant now, const PeerId& peer, const std::vector<ControlPrune>& prunes) {
  for (const auto& prune : prunes) {
    auto mesh = mesh_.find(prune.topic);
    if (mesh != mesh_.end()) mesh_remove(prune.topic, mesh->second, peer);
    // Only topics we take part in get a backoff entry, so a peer cannot grow the map.
    if (!subscribed(prune.topic) && fanout_.count(prune.topic) == 0) continue;
    const Duration backoff = prune.backoff ? std::chrono::seconds(std::min(*prune.backoff, prune_backoff_seconds_max))
                                           : options_.prune_backoff;
    add_backoff(now, prune.topic, peer, backoff);
    if (prune.peers.empty()) continue;
    // Peer exchange (v1.1): only from peers we have reason to trust.
    if (score(peer) < options_.score_thresholds.accept_px_threshold) {
      ++stats_.px_refused;
      continue;
    }
    PeerExchange exchange{peer, prune.topic, {}};
    for (const auto& info : prune.peers) {
      if (!info.peer_id) continue;
      auto named = PeerId::from_bytes(*info.peer_id);
      if (!named || *named == local_ || peers_.count(*named) != 0) continue;
      exchange.peers.push_back(std::move(*named));
    }
    ++stats_.px_accepted;
    if (!exchange.peers.empty()) emit(std::move(exchange));
  }
}

void Router::handle_idontwant(PeerState& state, const std::vector<ControlIDontWant>& idontwants) {
  for (const auto& idontwant : idontwants) {
    for (const auto& raw_id : idontwant.message_ids) {
      if (state.protocol != Protocol::v1_2 || state.dont_want.size() >= options_.idontwant_per_peer_max) {
        ++stats_.idontwant_ignored;
        continue;
      }
      state.dont_want[id_key(raw_id)] = housekeeping_ticks_ + options_.idontwant_heartbeats;
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
      if (mesh.size() < options_.mesh_n && !in_backoff(now, topic, peer) && score(peer) >= 0) mesh.insert(peer);
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
  auto& joined = mesh_[topic];
  for (const auto& peer : mesh) {
    mesh_add(now, topic, joined, peer);
    Rpc graft;
    control_of(graft).graft.push_back({topic});
    enqueue(peer, std::move(graft));
  }
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
      scores_.prune(peer, topic);
      const auto state = peers_.find(peer);
      if (state == peers_.end()) continue;
      Rpc prune;
      control_of(prune).prune.push_back(make_prune(topic, peer, state->second));
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
  const bool signed_policy = options_.signature_policy == SignaturePolicy::strict_sign;
  Message message;
  if (signed_policy) {
    message = sign_message(key_, topic, data, next_seqno_++);
  } else {
    message.data = Bytes(data.begin(), data.end());
    message.topic = topic;
  }
  const MessageId id = id_of(message);
  if (seen_.find(id) != seen_.end()) return unexpected(PublishError{publish::Errc::duplicate});

  std::set<PeerId> recipients;
  if (!joined) {
    // Not subscribed: publish through the fanout, kept for fanout_ttl (v1.0).
    auto& fanout = fanout_[topic];
    if (fanout.size() < options_.mesh_n) {
      const auto more = pick_peers(topic, options_.mesh_n - fanout.size(), [&](const PeerId& peer, const PeerState&) {
        return fanout.count(peer) == 0 && score(peer) >= options_.score_thresholds.publish_threshold;
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
      if (state.topics.count(topic) != 0 && score(peer) >= options_.score_thresholds.publish_threshold) {
        recipients.insert(peer);
      }
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
  const SharedEncoding encoded(encode_message(message));
  cache(id, topic, encoded);
  for (const auto& peer : recipients) {
    Rpc rpc;
    rpc.publish_encoded.push_back(encoded);
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
  next_heartbeat_ = now + current_interval_;
}

void Router::heartbeat(Instant now) {
  ++heartbeats_;
  if (options_.scoring) scores_.refresh(now);
  check_promises(now);
  expire_validations(now);
  // The mesh as the last interval left it, before repairs, is a signal for
  // the adaptive heartbeat. Only a shortfall that grafting can fix counts:
  // a small network, or peers in backoff, are not helped by beating faster.
  signals_.mesh_deficit = 0;
  for (const auto& entry : mesh_) {
    const std::string& topic = entry.first;
    const std::set<PeerId>& mesh = entry.second;
    if (options_.mesh_n_low == 0 || mesh.size() >= options_.mesh_n_low) continue;
    std::size_t attainable = mesh.size();
    for (const auto& [peer, state] : peers_) {
      if (attainable >= options_.mesh_n_low) break;
      if (state.topics.count(topic) != 0 && mesh.count(peer) == 0 && !in_backoff(now, topic, peer) && score(peer) >= 0) {
        ++attainable;
      }
    }
    const double deficit = static_cast<double>(attainable - mesh.size()) / static_cast<double>(options_.mesh_n_low);
    signals_.mesh_deficit = std::max(signals_.mesh_deficit, deficit);
  }
  // Control for one peer travels in one RPC.
  std::map<PeerId, Rpc> batch;
  maintain_mesh(now, batch);
  maintain_fanout(now);
  emit_gossip(batch);
  for (auto& [peer, rpc] : batch) enqueue(peer, std::move(rpc));
  // Cache windows and budgets run on the configured interval even when the
  // heartbeat is faster, so messages stay retrievable as long as configured.
  if (now >= next_housekeeping_) {
    housekeeping(now);
    next_housekeeping_ = now + options_.heartbeat_interval;
  }
  current_interval_ = options_.adaptive_heartbeat ? adapt_interval() : options_.heartbeat_interval;
  signals_ = {};
}

void Router::check_promises(Instant now) {
  std::map<PeerId, double> broken;
  for (auto promise = promises_.begin(); promise != promises_.end();) {
    if (promise->second.deadline > now) {
      ++promise;
      continue;
    }
    broken[promise->second.peer] += 1;
    ++signals_.promises_broken;
    ++stats_.broken_promises;
    promise = promises_.erase(promise);
  }
  for (const auto& [peer, count] : broken) scores_.add_penalty(peer, count);
  signals_.promises_due += signals_.promises_broken;
}

void Router::expire_validations(Instant now) {
  std::erase_if(pending_, [&](const auto& entry) {
    if (entry.second.deadline > now) return false;
    ++stats_.validations_timed_out;
    if (auto record = deliveries_.find(entry.first); record != deliveries_.end()) {
      record->second.status = DeliveryStatus::ignored;
      record->second.peers.clear();
    }
    return true;
  });
}

void Router::housekeeping(Instant now) {
  ++housekeeping_ticks_;
  // Shift the message cache: the oldest window falls out.
  mcache_windows_.emplace_front();
  while (mcache_windows_.size() > std::max<std::size_t>(options_.mcache_windows, 1)) {
    for (const auto id : mcache_windows_.back()) erase_key(mcache_, id);
    mcache_windows_.pop_back();
  }
  while (!seen_order_.empty() && seen_order_.front().first + options_.seen_ttl <= now) {
    erase_key(seen_, seen_order_.front().second);
    seen_order_.pop_front();
  }
  // Delivery records live as long as seen entries; a valid message's list
  // of senders is only needed within the P3 window.
  while (!deliveries_order_.empty()) {
    const auto record = deliveries_.find(deliveries_order_.front());
    if (record != deliveries_.end() && record->second.first_seen + options_.seen_ttl > now) break;
    deliveries_order_.pop_front();
    if (record != deliveries_.end() && pending_.count(record->first) == 0) deliveries_.erase(record);
  }
  for (auto& [id, record] : deliveries_) {
    if (record.status == DeliveryStatus::valid && !record.peers.empty() &&
        now - record.validated_at > options_.score_params.topic(record.topic).mesh_message_deliveries_window) {
      record.peers.clear();
      record.peers.shrink_to_fit();
    }
  }
  for (auto topic = backoff_.begin(); topic != backoff_.end();) {
    std::erase_if(topic->second, [&](const auto& entry) { return entry.second <= now; });
    topic = topic->second.empty() ? backoff_.erase(topic) : std::next(topic);
  }
  for (auto& [peer, state] : peers_) {
    std::erase_if(state.dont_want, [&](const auto& entry) { return entry.second <= housekeeping_ticks_; });
    state.ihave_this_heartbeat = 0;
    state.iwant_ids_this_heartbeat = 0;
  }
}

Duration Router::adapt_interval() {
  // Losing peers is the churn that hurts; a small network is judged
  // against D so one departure among three peers is not a crisis.
  signals_.peers = std::max(peers_.size() + signals_.churn, options_.mesh_n);
  // Link quality of the peers that carry our messages: the mesh.
  std::set<PeerId> carriers;
  for (const auto& [topic, mesh] : mesh_) carriers.insert(mesh.begin(), mesh.end());
  double loss_sum = 0;
  std::vector<Duration> rtts;
  for (const auto& peer : carriers) {
    const auto state = peers_.find(peer);
    if (state == peers_.end() || !state->second.link_reported) continue;
    loss_sum += state->second.link_loss;
    rtts.push_back(state->second.link_rtt);
  }
  if (!rtts.empty()) {
    signals_.link_loss = loss_sum / static_cast<double>(rtts.size());
    std::nth_element(rtts.begin(), rtts.begin() + static_cast<std::ptrdiff_t>(rtts.size() / 2), rtts.end());
    signals_.link_rtt = rtts[rtts.size() / 2];
  }
  return adaptive_.next_interval(options_.heartbeat_interval, signals_);
}

void Router::maintain_mesh(Instant now, std::map<PeerId, Rpc>& batch) {
  const bool opportunistic_round = options_.scoring && options_.opportunistic_graft_heartbeats != 0 &&
                                   heartbeats_ % options_.opportunistic_graft_heartbeats == 0;
  for (auto& entry : mesh_) {
    // Named references, not structured bindings: lambdas below capture them.
    const std::string& topic = entry.first;
    std::set<PeerId>& mesh = entry.second;
    std::vector<PeerId> leaving;
    for (const auto& peer : mesh) {
      const auto state = peers_.find(peer);
      if (state == peers_.end() || state->second.topics.count(topic) == 0) {
        leaving.push_back(peer);
      } else if (score(peer) < 0) {
        // v1.1: a negative score is reason enough to leave the mesh.
        leaving.push_back(peer);
        ++stats_.pruned_for_score;
        control_of(batch[peer]).prune.push_back(make_prune(topic, peer, state->second));
        add_backoff(now, topic, peer, options_.prune_backoff);
      }
    }
    for (const auto& peer : leaving) mesh_remove(topic, mesh, peer);
    if (mesh.size() < options_.mesh_n_low) {
      const auto more = pick_peers(topic, options_.mesh_n - mesh.size(), [&](const PeerId& peer, const PeerState&) {
        return mesh.count(peer) == 0 && !in_backoff(now, topic, peer) && score(peer) >= 0;
      });
      for (const auto& peer : more) {
        mesh_add(now, topic, mesh, peer);
        control_of(batch[peer]).graft.push_back({topic});
      }
    }
    if (mesh.size() > options_.mesh_n_high) {
      // Keep the best D_score by score, then a random rest up to D (v1.1;
      // D_out needs connection direction, which the router is not told).
      std::vector<PeerId> members(mesh.begin(), mesh.end());
      for (std::size_t i = members.size() - 1; i > 0; --i) {
        std::swap(members[i], members[rng_.next_u64() % (i + 1)]);
      }
      if (options_.scoring) {
        const std::size_t best = std::min(options_.mesh_n_score, options_.mesh_n);
        std::stable_sort(members.begin(), members.end(),
                         [&](const PeerId& a, const PeerId& b) { return score(a) > score(b); });
        for (std::size_t i = members.size() - 1; i > best; --i) {
          std::swap(members[i], members[best + rng_.next_u64() % (i - best + 1)]);
        }
      }
      for (std::size_t i = options_.mesh_n; i < members.size(); ++i) {
        const PeerId& peer = members[i];
        mesh_remove(topic, mesh, peer);
        control_of(batch[peer]).prune.push_back(make_prune(topic, peer, peers_.at(peer)));
        add_backoff(now, topic, peer, options_.prune_backoff);
      }
    }
    if (opportunistic_round && mesh.size() > 1) graft_opportunistically(now, topic, mesh, batch);
  }
}

void Router::graft_opportunistically(Instant now, const std::string& topic, std::set<PeerId>& mesh,
                                     std::map<PeerId, Rpc>& batch) {
  // v1.1: a mesh whose median peer scores poorly takes in a few better
  // peers, so a mesh captured by mediocre (or sybil) peers can recover.
  std::vector<double> scores;
  for (const auto& peer : mesh) scores.push_back(score(peer));
  std::nth_element(scores.begin(), scores.begin() + static_cast<std::ptrdiff_t>(scores.size() / 2), scores.end());
  const double median = scores[scores.size() / 2];
  if (median >= options_.score_thresholds.opportunistic_graft_threshold) return;
  const auto better = pick_peers(topic, options_.opportunistic_graft_peers, [&](const PeerId& peer, const PeerState&) {
    return mesh.count(peer) == 0 && !in_backoff(now, topic, peer) && score(peer) > median;
  });
  for (const auto& peer : better) {
    ++stats_.opportunistic_grafts;
    mesh_add(now, topic, mesh, peer);
    control_of(batch[peer]).graft.push_back({topic});
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
        return members.count(peer) == 0 && score(peer) >= options_.score_thresholds.publish_threshold;
      });
      members.insert(more.begin(), more.end());
    }
    ++topic;
  }
}

void Router::emit_gossip(std::map<PeerId, Rpc>& batch) {
  // Ids per topic from the newest mcache_gossip_windows windows, as views
  // of the cache's keys and topics: nothing is copied until encoded.
  std::map<std::string_view, std::vector<std::string_view>> ids_by_topic;
  const std::size_t windows = std::min(options_.mcache_gossip_windows, mcache_windows_.size());
  for (std::size_t w = 0; w < windows; ++w) {
    for (const auto id : mcache_windows_[w]) {
      const auto cached = mcache_.find(id);
      if (cached == mcache_.end()) continue;
      const std::string& topic = cached->second.topic;
      if (mesh_.count(topic) == 0 && fanout_.count(topic) == 0) continue;
      ids_by_topic[topic].push_back(cached->first);
    }
  }
  for (auto& [topic_view, ids] : ids_by_topic) {
    const std::string topic(topic_view);
    if (ids.size() > options_.ihave_ids_max) {
      for (std::size_t i = ids.size() - 1; i > 0; --i) std::swap(ids[i], ids[rng_.next_u64() % (i + 1)]);
      ids.resize(options_.ihave_ids_max);
    }
    const auto mesh = mesh_.find(topic);
    const auto fanout = fanout_.find(topic);
    const auto targets = pick_peers(topic, options_.gossip_lazy, [&](const PeerId& peer, const PeerState&) {
      const bool in_mesh = mesh != mesh_.end() && mesh->second.count(peer) != 0;
      const bool in_fanout = fanout != fanout_.end() && fanout->second.count(peer) != 0;
      return !in_mesh && !in_fanout && score(peer) >= options_.score_thresholds.gossip_threshold;
    });
    if (targets.empty()) continue;
    // The same IHAVE for every target: encoded once, shared.
    const SharedEncoding ihave(encode_ihave(topic, ids));
    for (const auto& peer : targets) control_of(batch[peer]).ihave_encoded.push_back(ihave);
  }
}

// ---------------------------------------------------------------- helpers

void Router::forward(const std::string& topic, std::string_view id, const SharedEncoding& encoded, const PeerId& source,
                     const PeerId& author, std::span<const PeerId> earlier_senders) {
  const auto mesh = mesh_.find(topic);
  if (mesh == mesh_.end()) return;
  for (const auto& peer : mesh->second) {
    // Whoever sent it to us has it already.
    if (peer == source || peer == author ||
        std::find(earlier_senders.begin(), earlier_senders.end(), peer) != earlier_senders.end()) {
      continue;
    }
    const auto state = peers_.find(peer);
    if (state == peers_.end() || state->second.dont_want.find(id) != state->second.dont_want.end()) continue;
    Rpc rpc;
    rpc.publish_encoded.push_back(encoded);
    enqueue(peer, std::move(rpc));
  }
}

void Router::send_idontwant(std::string_view id, const std::string& topic, const PeerId& source) {
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

void Router::mesh_add(Instant now, const std::string& topic, std::set<PeerId>& mesh, const PeerId& peer) {
  if (mesh.insert(peer).second) scores_.graft(now, peer, topic);
}

void Router::mesh_remove(const std::string& topic, std::set<PeerId>& mesh, const PeerId& peer) {
  if (mesh.erase(peer) != 0) scores_.prune(peer, topic);
}

Router::DeliveryRecord& Router::record_delivery(Instant now, std::string_view id, const std::string& topic,
                                                const PeerId& first) {
  if (deliveries_.size() >= options_.delivery_records_max) {
    // Oldest first; a record still awaiting validation stays.
    while (!deliveries_order_.empty() && deliveries_.size() >= options_.delivery_records_max) {
      const auto oldest = deliveries_.find(deliveries_order_.front());
      deliveries_order_.pop_front();
      if (oldest != deliveries_.end() && pending_.count(oldest->first) == 0) {
        deliveries_.erase(oldest);
        ++stats_.delivery_records_evicted;
      }
    }
  }
  auto entry = deliveries_.find(id);
  if (entry == deliveries_.end()) {
    entry = deliveries_.try_emplace(std::string(id)).first;
    deliveries_order_.push_back(entry->first);
  }
  DeliveryRecord& record = entry->second;
  record = DeliveryRecord{DeliveryStatus::pending, topic, now, now, {first}};
  return record;
}

bool Router::remember(Instant now, std::string_view id) {
  if (seen_.find(id) != seen_.end()) return false;
  if (seen_.size() >= options_.seen_entries_max && !seen_order_.empty()) {
    erase_key(seen_, seen_order_.front().second);
    seen_order_.pop_front();
    ++stats_.seen_evicted;
  }
  const auto entry = seen_.emplace(std::string(id), now).first;
  seen_order_.emplace_back(now, entry->first);
  return true;
}

void Router::cache(std::string_view id, const std::string& topic, const SharedEncoding& encoded) {
  if (mcache_.find(id) != mcache_.end()) return;
  if (mcache_.size() >= options_.mcache_messages_max) {
    for (auto window = mcache_windows_.rbegin(); window != mcache_windows_.rend(); ++window) {
      if (window->empty()) continue;
      erase_key(mcache_, window->front());
      window->pop_front();
      ++stats_.mcache_evicted;
      break;
    }
  }
  const auto entry = mcache_.emplace(std::string(id), CachedMessage{encoded, topic, {}}).first;
  mcache_windows_.front().push_back(entry->first);
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

Router::MessageId Router::id_of(const Message& message) {
  if (options_.signature_policy == SignaturePolicy::strict_sign) {
    // message_id(), built straight into the key.
    MessageId id;
    id.reserve((message.key ? message.key->size() : 0) + (message.seqno ? message.seqno->size() : 0));
    if (message.key) id += as_text(*message.key);
    if (message.seqno) id += as_text(*message.seqno);
    return id;
  }
  // content_message_id(), on the reused hasher.
  id_hasher_.update(message.data);
  const auto digest = id_hasher_.finish();
  return std::string(as_text(ByteView(digest)));
}

ControlPrune Router::make_prune(const std::string& topic, const PeerId& peer, const PeerState& state) {
  ControlPrune prune;
  prune.topic = topic;
  // v1.0 peers know no backoff field, nor peer exchange.
  if (state.protocol == Protocol::v1_0) return prune;
  prune.backoff = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(options_.prune_backoff).count());
  // Peer exchange (v1.1): name well-behaved peers of the topic, never one
  // we would not graft ourselves. No signed records: the router has none.
  if (options_.do_px && score(peer) >= 0) {
    const std::size_t count = std::min(options_.prune_peers, options_.rpc_limits.peers_per_prune_max);
    const auto named = pick_peers(topic, count, [&](const PeerId& other, const PeerState&) {
      return other != peer && score(other) >= 0;
    });
    for (const auto& other : named) prune.peers.push_back(PeerInfo{other.bytes(), std::nullopt});
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
