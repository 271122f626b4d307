#include "proto/kad/routing_table.hpp"

#include <algorithm>

namespace taho::kad {

RoutingTable::RoutingTable(const PeerId& local, Instant now, const RoutingTableOptions& options)
    : local_(local), local_point_(keyspace_point(local)), options_(options) {
  for (Bucket& bucket : buckets_) bucket.last_lookup = now;
}

std::size_t RoutingTable::bucket_index(const PeerId& peer) const {
  // Only our own id shares all 256 bits; callers refuse it before asking.
  return std::min(common_prefix_length(local_point_, keyspace_point(peer)), key_bits - 1);
}

RoutingTable::InsertResult RoutingTable::insert(Instant now, const PeerId& peer, PeerMode mode) {
  if (mode == PeerMode::client || peer == local_) return {Outcome::refused, std::nullopt};
  Bucket& bucket = buckets_[bucket_index(peer)];
  const auto present = std::find_if(bucket.peers.begin(), bucket.peers.end(),
                                    [&](const Entry& entry) { return entry.id == peer; });
  if (present != bucket.peers.end()) {
    Entry refreshed{present->id, present->point, now};
    bucket.peers.erase(present);
    bucket.peers.push_back(std::move(refreshed));
    return {Outcome::updated, std::nullopt};
  }
  if (bucket.peers.size() < options_.bucket_size) {
    bucket.peers.push_back({peer, keyspace_point(peer), now});
    return {Outcome::added, std::nullopt};
  }
  auto& replacements = bucket.replacements;
  replacements.erase(std::remove(replacements.begin(), replacements.end(), peer), replacements.end());
  if (replacements.size() >= options_.replacements_per_bucket_max && !replacements.empty()) {
    replacements.erase(replacements.begin());  // the stalest candidate goes
  }
  if (options_.replacements_per_bucket_max > 0) replacements.push_back(peer);
  return {Outcome::pending, bucket.peers.front().id};
}

bool RoutingTable::mark_failed(const PeerId& peer) {
  if (peer == local_) return false;
  Bucket& bucket = buckets_[bucket_index(peer)];
  auto& replacements = bucket.replacements;
  const auto in_replacements = std::find(replacements.begin(), replacements.end(), peer);
  if (in_replacements != replacements.end()) {
    replacements.erase(in_replacements);
    return true;
  }
  const auto present = std::find_if(bucket.peers.begin(), bucket.peers.end(),
                                    [&](const Entry& entry) { return entry.id == peer; });
  if (present == bucket.peers.end()) return false;
  // The replacement inherits the evicted peer's last_seen: it has not been
  // confirmed live yet, so it should be the next one checked.
  const Instant last_seen = present->last_seen;
  bucket.peers.erase(present);
  if (!replacements.empty()) {
    const PeerId& promoted = replacements.back();
    bucket.peers.insert(bucket.peers.begin(), Entry{promoted, keyspace_point(promoted), last_seen});
    replacements.pop_back();
  }
  return true;
}

bool RoutingTable::contains(const PeerId& peer) const {
  if (peer == local_) return false;
  const Bucket& bucket = buckets_[bucket_index(peer)];
  return std::any_of(bucket.peers.begin(), bucket.peers.end(), [&](const Entry& entry) { return entry.id == peer; });
}

std::size_t RoutingTable::size() const {
  std::size_t total = 0;
  for (const Bucket& bucket : buckets_) total += bucket.peers.size();
  return total;
}

std::vector<PeerId> RoutingTable::peers() const {
  std::vector<PeerId> all;
  for (const Bucket& bucket : buckets_) {
    for (const Entry& entry : bucket.peers) all.push_back(entry.id);
  }
  return all;
}

std::vector<PeerId> RoutingTable::closest(const KeyspacePoint& target, std::size_t count) const {
  std::vector<std::pair<Distance, const PeerId*>> ranked;
  ranked.reserve(size());
  for (const Bucket& bucket : buckets_) {
    for (const Entry& entry : bucket.peers) ranked.emplace_back(distance(target, entry.point), &entry.id);
  }
  const std::size_t kept = std::min(count, ranked.size());
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(kept), ranked.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<PeerId> result;
  result.reserve(kept);
  for (std::size_t i = 0; i < kept; ++i) result.push_back(*ranked[i].second);
  return result;
}

void RoutingTable::record_lookup(Instant now, const KeyspacePoint& target) {
  const std::size_t index = std::min(common_prefix_length(local_point_, target), key_bits - 1);
  buckets_[index].last_lookup = now;
}

std::vector<std::size_t> RoutingTable::buckets_needing_refresh(Instant now) const {
  std::size_t deepest = 0;
  for (std::size_t index = 0; index < buckets_.size(); ++index) {
    if (!buckets_[index].peers.empty()) deepest = index;
  }
  std::vector<std::size_t> stale;
  for (std::size_t index = 0; index <= deepest; ++index) {
    if (now - buckets_[index].last_lookup >= options_.refresh_interval) stale.push_back(index);
  }
  return stale;
}

}  // namespace taho::kad
