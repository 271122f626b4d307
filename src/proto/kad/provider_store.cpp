#include "proto/kad/provider_store.hpp"

#include <algorithm>

namespace taho::kad {

bool ProviderStore::add(Instant now, const Bytes& key, const PeerId& provider, const std::vector<Multiaddr>& addrs) {
  auto found = records_.find(key);
  if (found == records_.end()) {
    if (records_.size() >= limits_.keys_max) {
      expire(now);
      if (records_.size() >= limits_.keys_max) return false;
    }
    found = records_.emplace(key, std::vector<ProviderRecord>{}).first;
  }
  auto& list = found->second;
  std::erase_if(list, [&](const ProviderRecord& record) { return record.expires <= now || record.provider == provider; });
  if (list.size() >= limits_.providers_per_key_max) {
    list.erase(list.begin());  // the oldest announcement makes room
  }
  list.push_back({provider, addrs, now + provider_ttl});
  return true;
}

std::vector<ProviderRecord> ProviderStore::providers(Instant now, const Bytes& key) const {
  std::vector<ProviderRecord> live;
  const auto found = records_.find(key);
  if (found == records_.end()) return live;
  for (const ProviderRecord& record : found->second) {
    if (record.expires > now) live.push_back(record);
  }
  return live;
}

void ProviderStore::expire(Instant now) {
  for (auto it = records_.begin(); it != records_.end();) {
    std::erase_if(it->second, [&](const ProviderRecord& record) { return record.expires <= now; });
    it = it->second.empty() ? records_.erase(it) : std::next(it);
  }
}

}  // namespace taho::kad
