#include "runtime/sim/network.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace taho::sim {

Network::Network(std::size_t node_count, std::uint64_t seed, LinkProfile default_link, NetworkLimits limits)
    : node_count_(node_count), rng_(seed), default_link_(default_link), limits_(limits) {}

double Network::uniform() {
  // 53 random bits: every double in [0, 1) this can return is exact.
  return static_cast<double>(rng_.next_u64() >> 11) * 0x1.0p-53;
}

void Network::set_link(NodeIndex from, NodeIndex to, const LinkProfile& profile) {
  if (!valid(from) || !valid(to)) return;
  links_[link_key(from, to)] = profile;
}

void Network::set_link_both_ways(NodeIndex a, NodeIndex b, const LinkProfile& profile) {
  set_link(a, b, profile);
  set_link(b, a, profile);
}

const LinkProfile& Network::link(NodeIndex from, NodeIndex to) const {
  const auto found = links_.find(link_key(from, to));
  return found == links_.end() ? default_link_ : found->second;
}

bool Network::reachable(NodeIndex from, NodeIndex to) const {
  if (!valid(from) || !valid(to)) return false;
  return group_of_.empty() || group_of_[from] == group_of_[to];
}

void Network::schedule(Instant at, Payload what) {
  std::size_t slot = slots_.size();
  if (free_slots_.empty()) {
    slots_.push_back(std::move(what));
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = std::move(what);
  }
  queue_.push_back(Queued{at, next_sequence_++, slot});
  std::push_heap(queue_.begin(), queue_.end(), LaterFirst{});
}

bool Network::send(NodeIndex from, NodeIndex to, Bytes payload) {
  if (!valid(from) || !valid(to) || queue_.size() >= limits_.queued_events_max) {
    ++stats_.refused;
    return false;
  }
  ++stats_.sent;
  stats_.bytes_sent += payload.size();
  if (!reachable(from, to)) {
    ++stats_.partitioned;
    return false;
  }
  const LinkProfile& profile = link(from, to);
  // Draw jitter before loss so a link's timing does not depend on whether
  // the loss probability is zero.
  const double jitter_draw = uniform();
  if (profile.loss > 0 && uniform() < profile.loss) {
    ++stats_.lost;
    return false;
  }
  LinkState& state = link_states_[link_key(from, to)];
  Instant departs = now_;
  if (profile.bandwidth_bytes_per_second > 0) {
    // The payload waits for what is ahead of it, then takes size/bandwidth.
    const double seconds = static_cast<double>(payload.size()) / static_cast<double>(profile.bandwidth_bytes_per_second);
    const auto transmit = std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
    departs = std::max(now_, state.busy_until) + transmit;
    state.busy_until = departs;
  }
  const auto jitter = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, std::nano>(static_cast<double>(profile.jitter.count()) * jitter_draw));
  Instant arrives = departs + std::max(profile.latency, Duration{0}) + std::max(jitter, Duration{0});
  if (profile.ordered) {
    arrives = std::max(arrives, state.last_arrival);
    state.last_arrival = arrives;
  }
  schedule(arrives, Delivery{from, to, std::move(payload)});
  return true;
}

void Network::wake_at(NodeIndex node, Instant at, std::uint64_t token) {
  if (!valid(node) || queue_.size() >= limits_.queued_events_max) {
    ++stats_.refused;
    return;
  }
  schedule(std::max(at, now_), Wakeup{node, token});
}

void Network::partition_at(Instant at, std::vector<std::vector<NodeIndex>> groups) {
  // Nodes named in no group share group 0; the named groups are 1, 2, ...
  Partition partition;
  partition.groups.assign(node_count_, 0);
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const NodeIndex node : groups[g]) {
      if (valid(node)) partition.groups[node] = static_cast<std::uint32_t>(g + 1);
    }
  }
  schedule(std::max(at, now_), std::move(partition));
}

void Network::heal_at(Instant at) { schedule(std::max(at, now_), Partition{}); }

std::optional<Instant> Network::next_event_time() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.front().at;
}

std::optional<Event> Network::step(Instant until) {
  while (!queue_.empty() && queue_.front().at <= until) {
    std::pop_heap(queue_.begin(), queue_.end(), LaterFirst{});
    const Queued next = queue_.back();
    queue_.pop_back();
    now_ = std::max(now_, next.at);
    Payload& what = slots_[next.slot];
    free_slots_.push_back(next.slot);  // reused only by a later schedule()
    if (auto* partition = std::get_if<Partition>(&what)) {
      group_of_ = std::move(partition->groups);
      continue;
    }
    if (auto* delivery = std::get_if<Delivery>(&what)) {
      // A partition that began while the payload was in flight cuts it off.
      if (!reachable(delivery->from, delivery->to)) {
        ++stats_.partitioned;
        delivery->payload = Bytes{};
        continue;
      }
      ++stats_.delivered;
      stats_.bytes_delivered += delivery->payload.size();
      return Event{now_, Delivery{delivery->from, delivery->to, std::move(delivery->payload)}};
    }
    return Event{now_, std::get<Wakeup>(what)};
  }
  now_ = std::max(now_, until);
  return std::nullopt;
}

}  // namespace taho::sim
