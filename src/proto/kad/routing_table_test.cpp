#include "proto/kad/routing_table.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "base/seeded_rng.hpp"

namespace taho::kad {
namespace {

PeerId random_peer(Rng& rng) {
  std::array<std::uint8_t, 32> key{};
  rng.fill(key);
  return PeerId::from_ed25519(key);
}

// A random peer whose point falls in bucket `bucket` of `table`.
PeerId peer_in_bucket(const RoutingTable& table, std::size_t bucket, Rng& rng) {
  while (true) {
    PeerId peer = random_peer(rng);
    if (common_prefix_length(table.local_point(), keyspace_point(peer)) == bucket) return peer;
  }
}

TEST(KadKeyspace, DistanceAndPrefix) {
  KeyspacePoint a{};
  KeyspacePoint b{};
  EXPECT_EQ(common_prefix_length(a, b), 256u);
  b[0] = 0x20;
  EXPECT_EQ(common_prefix_length(a, b), 2u);
  EXPECT_EQ(distance(a, b)[0], 0x20);
  b[0] = 0;
  b[31] = 1;
  EXPECT_EQ(common_prefix_length(a, b), 255u);
  // keyspace_point is SHA-256 of the bytes.
  EXPECT_EQ(to_hex(keyspace_point(to_bytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(KadKeyspace, RandomPointHasTheRequestedPrefix) {
  SeededRng rng(1);
  KeyspacePoint base{};
  rng.fill(base);
  for (std::size_t prefix : {0u, 1u, 7u, 8u, 9u, 100u, 255u}) {
    EXPECT_EQ(common_prefix_length(base, random_point_with_prefix(base, prefix, rng)), prefix);
  }
}

TEST(KadRoutingTable, RefusesSelfAndClients) {
  SeededRng rng(2);
  const PeerId local = random_peer(rng);
  RoutingTable table(local, Instant{});
  EXPECT_EQ(table.insert(Instant{}, local).outcome, RoutingTable::Outcome::refused);
  EXPECT_EQ(table.insert(Instant{}, random_peer(rng), PeerMode::client).outcome, RoutingTable::Outcome::refused);
  EXPECT_EQ(table.size(), 0u);
}

TEST(KadRoutingTable, FullBucketKeepsOldPeersAndQueuesTheNewcomer) {
  SeededRng rng(3);
  RoutingTable table(random_peer(rng), Instant{}, RoutingTableOptions{.bucket_size = 3});
  std::vector<PeerId> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back(peer_in_bucket(table, 0, rng));
    EXPECT_EQ(table.insert(Instant{std::chrono::seconds(i)}, members.back()).outcome, RoutingTable::Outcome::added);
  }
  // Refreshing the first makes the second the least recently seen.
  EXPECT_EQ(table.insert(Instant{std::chrono::seconds(5)}, members[0]).outcome, RoutingTable::Outcome::updated);
  const PeerId newcomer = peer_in_bucket(table, 0, rng);
  const auto result = table.insert(Instant{std::chrono::seconds(6)}, newcomer);
  EXPECT_EQ(result.outcome, RoutingTable::Outcome::pending);
  ASSERT_TRUE(result.least_recently_seen);
  EXPECT_EQ(*result.least_recently_seen, members[1]);
  EXPECT_FALSE(table.contains(newcomer));
  EXPECT_EQ(table.size(), 3u);

  // The pinged peer was dead: the newcomer takes its place.
  EXPECT_TRUE(table.mark_failed(members[1]));
  EXPECT_FALSE(table.contains(members[1]));
  EXPECT_TRUE(table.contains(newcomer));
  EXPECT_EQ(table.size(), 3u);
  EXPECT_FALSE(table.mark_failed(members[1]));
}

TEST(KadRoutingTable, OtherBucketsAreUnaffectedByAFullOne) {
  SeededRng rng(4);
  RoutingTable table(random_peer(rng), Instant{}, RoutingTableOptions{.bucket_size = 1});
  EXPECT_EQ(table.insert(Instant{}, peer_in_bucket(table, 0, rng)).outcome, RoutingTable::Outcome::added);
  EXPECT_EQ(table.insert(Instant{}, peer_in_bucket(table, 0, rng)).outcome, RoutingTable::Outcome::pending);
  EXPECT_EQ(table.insert(Instant{}, peer_in_bucket(table, 1, rng)).outcome, RoutingTable::Outcome::added);
  EXPECT_EQ(table.size(), 2u);
}

TEST(KadRoutingTable, ClosestMatchesBruteForce) {
  SeededRng rng(5);
  RoutingTable table(random_peer(rng), Instant{});
  std::vector<PeerId> all;
  for (int i = 0; i < 300; ++i) {
    const PeerId peer = random_peer(rng);
    if (table.insert(Instant{}, peer).outcome == RoutingTable::Outcome::added) all.push_back(peer);
  }
  EXPECT_EQ(table.size(), all.size());
  KeyspacePoint target{};
  rng.fill(target);
  std::sort(all.begin(), all.end(), [&](const PeerId& a, const PeerId& b) {
    return distance(target, keyspace_point(a)) < distance(target, keyspace_point(b));
  });
  const auto closest = table.closest(target, 20);
  ASSERT_EQ(closest.size(), 20u);
  EXPECT_TRUE(std::equal(closest.begin(), closest.end(), all.begin()));
  EXPECT_EQ(table.closest(target, 10'000).size(), all.size());
}

TEST(KadRoutingTable, BucketsNeedRefreshAfterTenMinutesWithoutLookup) {
  SeededRng rng(6);
  RoutingTable table(random_peer(rng), Instant{});
  table.insert(Instant{}, peer_in_bucket(table, 2, rng));
  EXPECT_TRUE(table.buckets_needing_refresh(Instant{std::chrono::minutes(9)}).empty());
  const Instant later{std::chrono::minutes(10)};
  EXPECT_EQ(table.buckets_needing_refresh(later), (std::vector<std::size_t>{0, 1, 2}));
  table.record_lookup(later, random_point_with_prefix(table.local_point(), 1, rng));
  EXPECT_EQ(table.buckets_needing_refresh(later), (std::vector<std::size_t>{0, 2}));
}

}  // namespace
}  // namespace taho::kad
