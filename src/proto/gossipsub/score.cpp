#include "proto/gossipsub/score.hpp"

#include <algorithm>
#include <cmath>

namespace taho::gossipsub {

const TopicScoreParams& PeerScoreParams::topic(const std::string& name) const {
  const auto found = topics.find(name);
  return found == topics.end() ? topic_defaults : found->second;
}

PeerScores::PeerStats* PeerScores::find(const PeerId& peer) {
  const auto found = peers_.find(peer);
  return found == peers_.end() ? nullptr : &found->second;
}

void PeerScores::add_peer(const PeerId& peer) {
  auto [entry, fresh] = peers_.try_emplace(peer);
  PeerStats& stats = entry->second;
  if (!fresh && !stats.connected) {
    stats.connected = true;
    if (stats.ip) ++peers_per_ip_[*stats.ip];
  }
}

void PeerScores::forget_ip(const PeerStats& stats) {
  if (!stats.ip) return;
  const auto count = peers_per_ip_.find(*stats.ip);
  if (count == peers_per_ip_.end()) return;
  if (--count->second == 0) peers_per_ip_.erase(count);
}

void PeerScores::remove_peer(Instant now, const PeerId& peer) {
  PeerStats* stats = find(peer);
  if (stats == nullptr || !stats->connected) return;
  for (auto& [topic, topic_stats] : stats->topics) {
    if (topic_stats.in_mesh) apply_mesh_failure(topic, topic_stats);
    topic_stats.in_mesh = false;
    topic_stats.mesh_deliveries_active = false;
  }
  forget_ip(*stats);
  stats->connected = false;
  stats->expires_at = now + params_.retain_score;
  // Bound the retained set: a peer with nothing against it need not be kept.
  const bool clean = score(peer) >= 0;
  const std::size_t disconnected = static_cast<std::size_t>(
      std::count_if(peers_.begin(), peers_.end(), [](const auto& entry) { return !entry.second.connected; }));
  if (clean || disconnected > params_.retained_peers_max) peers_.erase(peer);
}

void PeerScores::set_ip(const PeerId& peer, std::string ip) {
  PeerStats* stats = find(peer);
  if (stats == nullptr || !stats->connected) return;
  forget_ip(*stats);
  ++peers_per_ip_[ip];
  stats->ip = std::move(ip);
}

void PeerScores::set_application_score(const PeerId& peer, double score) {
  if (PeerStats* stats = find(peer)) stats->application_score = score;
}

void PeerScores::graft(Instant now, const PeerId& peer, const std::string& topic) {
  PeerStats* stats = find(peer);
  if (stats == nullptr) return;
  TopicStats& topic_stats = stats->topics[topic];
  topic_stats.in_mesh = true;
  topic_stats.grafted_at = now;
  topic_stats.mesh_time = Duration{0};
  topic_stats.mesh_deliveries_active = false;
}

void PeerScores::apply_mesh_failure(const std::string& topic, TopicStats& stats) const {
  const TopicScoreParams& params = params_.topic(topic);
  if (stats.mesh_deliveries_active && stats.mesh_deliveries < params.mesh_message_deliveries_threshold) {
    const double deficit = params.mesh_message_deliveries_threshold - stats.mesh_deliveries;
    stats.mesh_failure_penalty += deficit * deficit;
  }
}

void PeerScores::prune(const PeerId& peer, const std::string& topic) {
  PeerStats* stats = find(peer);
  if (stats == nullptr) return;
  const auto found = stats->topics.find(topic);
  if (found == stats->topics.end() || !found->second.in_mesh) return;
  apply_mesh_failure(topic, found->second);
  // From here P3b carries the deficit; P3 is for mesh members only.
  found->second.in_mesh = false;
  found->second.mesh_deliveries_active = false;
}

void PeerScores::first_delivery(const PeerId& peer, const std::string& topic) {
  PeerStats* stats = find(peer);
  if (stats == nullptr) return;
  const TopicScoreParams& params = params_.topic(topic);
  TopicStats& topic_stats = stats->topics[topic];
  topic_stats.first_deliveries = std::min(topic_stats.first_deliveries + 1, params.first_message_deliveries_cap);
  if (topic_stats.in_mesh) {
    topic_stats.mesh_deliveries = std::min(topic_stats.mesh_deliveries + 1, params.mesh_message_deliveries_cap);
  }
}

void PeerScores::near_first_delivery(const PeerId& peer, const std::string& topic) {
  PeerStats* stats = find(peer);
  if (stats == nullptr) return;
  const auto found = stats->topics.find(topic);
  if (found == stats->topics.end() || !found->second.in_mesh) return;
  const TopicScoreParams& params = params_.topic(topic);
  found->second.mesh_deliveries = std::min(found->second.mesh_deliveries + 1, params.mesh_message_deliveries_cap);
}

void PeerScores::invalid_delivery(const PeerId& peer, const std::string& topic) {
  if (PeerStats* stats = find(peer)) stats->topics[topic].invalid_deliveries += 1;
}

void PeerScores::add_penalty(const PeerId& peer, double count) {
  if (PeerStats* stats = find(peer)) stats->behaviour_penalty += count;
}

void PeerScores::refresh(Instant now) {
  const double elapsed =
      last_refresh_ ? std::chrono::duration<double>(now - *last_refresh_).count() : 0.0;
  last_refresh_ = now;
  const double intervals = elapsed / std::chrono::duration<double>(params_.decay_interval).count();
  auto decay = [&](double& counter, double factor) {
    counter *= std::pow(factor, intervals);
    if (counter < params_.decay_to_zero) counter = 0;
  };
  for (auto entry = peers_.begin(); entry != peers_.end();) {
    PeerStats& stats = entry->second;
    if (!stats.connected && stats.expires_at <= now) {
      entry = peers_.erase(entry);
      continue;
    }
    for (auto& [topic, topic_stats] : stats.topics) {
      const TopicScoreParams& params = params_.topic(topic);
      decay(topic_stats.first_deliveries, params.first_message_deliveries_decay);
      decay(topic_stats.mesh_deliveries, params.mesh_message_deliveries_decay);
      decay(topic_stats.mesh_failure_penalty, params.mesh_failure_penalty_decay);
      decay(topic_stats.invalid_deliveries, params.invalid_message_deliveries_decay);
      if (topic_stats.in_mesh) {
        topic_stats.mesh_time = now - topic_stats.grafted_at;
        if (topic_stats.mesh_time > params.mesh_message_deliveries_activation) topic_stats.mesh_deliveries_active = true;
      }
    }
    decay(stats.behaviour_penalty, params_.behaviour_penalty_decay);
    ++entry;
  }
}

double PeerScores::score(const PeerId& peer) const {
  const auto found = peers_.find(peer);
  if (found == peers_.end()) return 0;
  const PeerStats& stats = found->second;
  double topics_score = 0;
  for (const auto& [topic, topic_stats] : stats.topics) {
    const TopicScoreParams& params = params_.topic(topic);
    double topic_score = 0;
    if (topic_stats.in_mesh) {  // P1
      const double quanta = std::chrono::duration<double>(topic_stats.mesh_time).count() /
                            std::chrono::duration<double>(params.time_in_mesh_quantum).count();
      topic_score += params.time_in_mesh_weight * std::min(quanta, params.time_in_mesh_cap);
    }
    topic_score += params.first_message_deliveries_weight * topic_stats.first_deliveries;  // P2
    if (topic_stats.mesh_deliveries_active &&
        topic_stats.mesh_deliveries < params.mesh_message_deliveries_threshold) {  // P3
      const double deficit = params.mesh_message_deliveries_threshold - topic_stats.mesh_deliveries;
      topic_score += params.mesh_message_deliveries_weight * deficit * deficit;
    }
    topic_score += params.mesh_failure_penalty_weight * topic_stats.mesh_failure_penalty;  // P3b
    topic_score += params.invalid_message_deliveries_weight * topic_stats.invalid_deliveries *
                   topic_stats.invalid_deliveries;  // P4
    topics_score += params.topic_weight * topic_score;
  }
  if (params_.topic_score_cap > 0) topics_score = std::min(topics_score, params_.topic_score_cap);

  double total = topics_score + params_.app_specific_weight * stats.application_score;  // P5
  if (stats.ip && stats.connected && params_.ip_colocation_factor_whitelist.count(*stats.ip) == 0) {  // P6
    const auto count = peers_per_ip_.find(*stats.ip);
    const double peers = count == peers_per_ip_.end() ? 0 : static_cast<double>(count->second);
    if (peers > params_.ip_colocation_factor_threshold) {
      const double surplus = peers - params_.ip_colocation_factor_threshold;
      total += params_.ip_colocation_factor_weight * surplus * surplus;
    }
  }
  if (stats.behaviour_penalty > params_.behaviour_penalty_threshold) {  // P7
    const double excess = stats.behaviour_penalty - params_.behaviour_penalty_threshold;
    total += params_.behaviour_penalty_weight * excess * excess;
  }
  return total;
}

double PeerScores::behaviour_penalty(const PeerId& peer) const {
  const auto found = peers_.find(peer);
  return found == peers_.end() ? 0 : found->second.behaviour_penalty;
}

}  // namespace taho::gossipsub
