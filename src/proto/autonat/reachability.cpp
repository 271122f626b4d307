#include "proto/autonat/reachability.hpp"

#include <algorithm>

namespace taho::autonat {

std::string_view to_string(Reachability reachability) {
  switch (reachability) {
    case Reachability::unknown: return "unknown";
    case Reachability::reachable: return "public";
    case Reachability::unreachable: return "private";
  }
  return "unknown";
}

ReachabilityTracker::ReachabilityTracker(Instant now, ReachabilityOptions options)
    : options_(options), next_probe_(now + options_.first_probe_delay) {}

std::optional<PeerId> ReachabilityTracker::choose_server(Instant now, std::span<const PeerId> candidates) const {
  std::optional<PeerId> oldest;
  Instant oldest_asked{};
  for (const auto& candidate : candidates) {
    auto found = servers_.find(candidate);
    if (found == servers_.end()) return candidate;  // never asked: the most to learn
    if (now - found->second.asked < options_.server_reuse_interval) continue;
    if (!oldest || found->second.asked < oldest_asked) {
      oldest = candidate;
      oldest_asked = found->second.asked;
    }
  }
  return oldest;
}

void ReachabilityTracker::on_probe_started(Instant now, const PeerId& server) {
  probing_ = true;
  if (!servers_.count(server) && servers_.size() >= options_.servers_kept_max) {
    // Forget the server asked longest ago.
    auto oldest = std::min_element(servers_.begin(), servers_.end(), [](const auto& a, const auto& b) {
      return a.second.asked < b.second.asked;
    });
    servers_.erase(oldest);
  }
  auto& entry = servers_[server];
  entry.asked = now;
}

void ReachabilityTracker::on_no_server(Instant now) {
  probing_ = false;
  next_probe_ = now + options_.probe_interval;
}

bool ReachabilityTracker::on_probe_result(Instant now, const PeerId& server, ProbeOutcome outcome) {
  probing_ = false;
  const Reachability before = reachability_;
  auto found = servers_.find(server);
  if (found != servers_.end() && outcome != ProbeOutcome::inconclusive) {
    found->second.outcome = outcome;
    found->second.asked = now;
  }
  recompute();
  schedule(now);
  return reachability_ != before;
}

void ReachabilityTracker::on_addresses_changed(Instant now) {
  // The verdict stands until new evidence, but the evidence starts over.
  servers_.clear();
  confidence_ = 0;
  probing_ = false;
  next_probe_ = std::min(next_probe_, now + options_.first_probe_delay);
}

void ReachabilityTracker::recompute() {
  // The latest success, and the failures heard after it.
  std::optional<Instant> last_success;
  std::size_t successes = 0;
  for (const auto& [peer, result] : servers_) {
    if (result.outcome != ProbeOutcome::dialed_back) continue;
    ++successes;
    if (!last_success || result.asked > *last_success) last_success = result.asked;
  }
  std::size_t failures_since = 0;
  for (const auto& [peer, result] : servers_) {
    if (result.outcome == ProbeOutcome::dial_failed && (!last_success || result.asked > *last_success)) {
      ++failures_since;
    }
  }
  if (failures_since >= options_.failures_for_private) {
    reachability_ = Reachability::unreachable;
    confidence_ = std::min(failures_since - options_.failures_for_private + 1, options_.confidence_max);
  } else if (last_success) {
    reachability_ = Reachability::reachable;
    // Later failures (fewer than needed to flip) lower the confidence.
    const std::size_t agreeing = successes > failures_since ? successes - failures_since : 0;
    confidence_ = std::min(std::max<std::size_t>(agreeing, 1), options_.confidence_max);
  } else if (reachability_ != Reachability::unknown && failures_since == 0) {
    confidence_ = 0;  // a verdict from before an address change, not yet reconfirmed
  } else if (reachability_ == Reachability::reachable) {
    confidence_ = 0;  // failures after an address change, not yet enough to flip
  }
}

void ReachabilityTracker::schedule(Instant now) {
  const bool settled = reachability_ != Reachability::unknown && confidence_ >= options_.confidence_max;
  next_probe_ = now + (settled ? options_.refresh_interval : options_.probe_interval);
}

}  // namespace taho::autonat
