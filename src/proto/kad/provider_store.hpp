// Provider records: "peer P can serve content K" (kad-dht/README.md
// "Content provider advertisement"). A record lives provider_ttl (48 h);
// providers re-announce every republish_interval (22 h) to stay listed.
// Bounded in keys and providers per key.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <vector>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::kad {

inline constexpr Duration provider_ttl = std::chrono::hours(48);
inline constexpr Duration provider_republish_interval = std::chrono::hours(22);

struct ProviderStoreLimits {
  std::size_t keys_max = 100'000;
  std::size_t providers_per_key_max = 20;
};

struct ProviderRecord {
  PeerId provider;
  std::vector<Multiaddr> addrs;
  Instant expires;
};

class ProviderStore {
 public:
  explicit ProviderStore(const ProviderStoreLimits& limits = {}) : limits_(limits) {}

  // Adds or renews `provider` for `key`. False when a bound refuses it.
  bool add(Instant now, const Bytes& key, const PeerId& provider, const std::vector<Multiaddr>& addrs);
  // Unexpired providers of `key`, most recently announced last.
  std::vector<ProviderRecord> providers(Instant now, const Bytes& key) const;
  // Drops expired records; call now and then (e.g. on each refresh tick).
  void expire(Instant now);
  std::size_t key_count() const { return records_.size(); }

 private:
  ProviderStoreLimits limits_;
  std::map<Bytes, std::vector<ProviderRecord>> records_;
};

}  // namespace taho::kad
