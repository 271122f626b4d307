// The Kademlia routing table (kad-dht/README.md, Maymounkov & Mazières §2.2):
// 256 k-buckets indexed by the common prefix length of a peer's keyspace
// point with ours. Sans-IO: liveness checks are the driver's; the table says
// which peer to ping and the driver reports back.
//
// Policy for a full bucket: old live peers stay (they are the likeliest to
// stay up); the newcomer waits in the bucket's replacement cache and insert()
// names the least recently seen peer. If the driver finds that peer dead it
// calls mark_failed(), which evicts it and promotes the freshest replacement;
// if it answers, insert() it again to refresh it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/kad/keyspace.hpp"

namespace taho::kad {

// DHT server peers answer queries and belong in tables; client-mode peers
// (not advertising the kad protocol in identify) only ask and are never added.
enum class PeerMode { server, client };

struct RoutingTableOptions {
  std::size_t bucket_size = 20;               // k
  std::size_t replacements_per_bucket_max = 20;
  Duration refresh_interval = std::chrono::minutes(10);
};

class RoutingTable {
 public:
  enum class Outcome {
    added,    // a new peer, now in its bucket
    updated,  // already present: marked most recently seen
    pending,  // bucket full: kept as a replacement; ping `least_recently_seen`
    refused,  // ourselves, or a client-mode peer
  };
  struct InsertResult {
    Outcome outcome = Outcome::refused;
    std::optional<PeerId> least_recently_seen;  // set with pending
  };

  RoutingTable(const PeerId& local, Instant now, const RoutingTableOptions& options = {});

  const PeerId& local() const { return local_; }
  const KeyspacePoint& local_point() const { return local_point_; }

  InsertResult insert(Instant now, const PeerId& peer, PeerMode mode = PeerMode::server);
  // The driver found `peer` unreachable: evict it (also from the replacement
  // caches) and promote a replacement into its place. False if unknown.
  bool mark_failed(const PeerId& peer);
  bool contains(const PeerId& peer) const;
  std::size_t size() const;
  // Every peer of the table, bucket by bucket.
  std::vector<PeerId> peers() const;

  // Up to `count` peers closest to `target`, nearest first.
  std::vector<PeerId> closest(const KeyspacePoint& target, std::size_t count) const;

  // A lookup for `target` ran: the bucket it falls in counts as refreshed.
  void record_lookup(Instant now, const KeyspacePoint& target);
  // Buckets (common prefix lengths) not looked up for refresh_interval, from
  // 0 up to the deepest bucket holding a peer; refresh each with a lookup
  // of random_point_with_prefix(local_point(), bucket, rng).
  std::vector<std::size_t> buckets_needing_refresh(Instant now) const;

 private:
  struct Entry {
    PeerId id;
    KeyspacePoint point;  // cached: closest() ranks every entry
    Instant last_seen;
  };
  struct Bucket {
    std::vector<Entry> peers;         // least recently seen first
    std::vector<PeerId> replacements; // freshest last
    Instant last_lookup;
  };
  std::size_t bucket_index(const PeerId& peer) const;

  PeerId local_;
  KeyspacePoint local_point_;
  RoutingTableOptions options_;
  std::array<Bucket, key_bits> buckets_;
};

}  // namespace taho::kad
