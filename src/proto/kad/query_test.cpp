#include "proto/kad/query.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>

#include "base/seeded_rng.hpp"

namespace taho::kad {
namespace {

using namespace std::chrono_literals;

PeerId random_peer(Rng& rng) {
  std::array<std::uint8_t, 32> key{};
  rng.fill(key);
  return PeerId::from_ed25519(key);
}

std::vector<Peer> as_peers(const std::vector<PeerId>& ids) {
  std::vector<Peer> peers;
  for (const PeerId& id : ids) peers.push_back(Peer{id, {}, ConnectionType::not_connected, 0});
  return peers;
}

class KadQuery : public ::testing::Test {
 protected:
  SeededRng rng{11};
  PeerId local = random_peer(rng);
  Bytes key = to_bytes("target");
  std::vector<PeerId> seeds = [&] {
    std::vector<PeerId> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(random_peer(rng));
    return ids;
  }();
};

TEST_F(KadQuery, AsksAtMostAlphaPeersAtOnceWithTheQueryKey) {
  Query query(local, MessageType::find_node, key, as_peers(seeds));
  std::vector<PeerId> asked;
  while (auto request = query.poll_request(Instant{})) {
    EXPECT_EQ(request->message.type, MessageType::find_node);
    EXPECT_EQ(request->message.key, key);
    asked.push_back(request->peer);
  }
  EXPECT_EQ(asked.size(), 3u);
  EXPECT_EQ(query.in_flight(), 3u);
  EXPECT_FALSE(query.finished());
  // Asked nearest first.
  for (std::size_t i = 1; i < asked.size(); ++i) {
    EXPECT_LT(distance(query.target(), keyspace_point(asked[i - 1])), distance(query.target(), keyspace_point(asked[i])));
  }
  query.handle_failure(Instant{}, asked[0]);
  EXPECT_TRUE(query.poll_request(Instant{}));
  EXPECT_FALSE(query.poll_request(Instant{}));
}

TEST_F(KadQuery, FinishesWhenEveryClosestPeerAnswered) {
  Query query(local, MessageType::find_node, key, as_peers(seeds));
  Instant now{};
  while (!query.finished()) {
    auto request = query.poll_request(now);
    ASSERT_TRUE(request);
    Message reply;
    reply.type = MessageType::find_node;
    query.handle_response(now, request->peer, reply);
  }
  const auto result = query.result();
  ASSERT_EQ(result.closest.size(), seeds.size());
  for (std::size_t i = 1; i < result.closest.size(); ++i) {
    EXPECT_LT(distance(query.target(), keyspace_point(result.closest[i - 1].id)),
              distance(query.target(), keyspace_point(result.closest[i].id)));
  }
}

TEST_F(KadQuery, LearnsCloserPeersFromAnswersAndSkipsItself) {
  Query query(local, MessageType::find_node, key, as_peers({seeds[0]}));
  const auto request = query.poll_request(Instant{});
  ASSERT_TRUE(request);
  Message reply;
  reply.closer_peers = as_peers({seeds[1], seeds[2], local});
  query.handle_response(Instant{}, seeds[0], reply);
  std::vector<PeerId> asked;
  while (auto next = query.poll_request(Instant{})) asked.push_back(next->peer);
  std::sort(asked.begin(), asked.end());
  std::vector<PeerId> expected{seeds[1], seeds[2]};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(asked, expected);
}

TEST_F(KadQuery, TimesOutSilentPeersAndMovesOn) {
  QueryOptions options;
  options.alpha = 1;
  options.request_timeout = 5s;
  Query query(local, MessageType::find_node, key, as_peers({seeds[0], seeds[1]}), options);
  const auto first = query.poll_request(Instant{1s});
  ASSERT_TRUE(first);
  EXPECT_EQ(query.next_timeout(), Instant{6s});
  query.handle_timeout(Instant{5s});
  EXPECT_FALSE(query.poll_request(Instant{5s}));  // not yet due
  query.handle_timeout(Instant{6s});
  const auto second = query.poll_request(Instant{6s});
  ASSERT_TRUE(second);
  EXPECT_NE(second->peer, first->peer);
  // A late answer from the timed-out peer changes nothing.
  query.handle_response(Instant{7s}, first->peer, Message{});
  query.handle_response(Instant{7s}, second->peer, Message{});
  EXPECT_TRUE(query.finished());
  ASSERT_EQ(query.result().closest.size(), 1u);
  EXPECT_EQ(query.result().closest[0].id, second->peer);
}

TEST_F(KadQuery, IgnoresUnsolicitedAnswers) {
  Query query(local, MessageType::find_node, key, as_peers({seeds[0]}));
  Message reply;
  reply.closer_peers = as_peers({seeds[1]});
  query.handle_response(Instant{}, seeds[0], reply);  // not asked yet
  query.handle_response(Instant{}, seeds[3], reply);  // never known
  ASSERT_TRUE(query.poll_request(Instant{}));
  EXPECT_FALSE(query.poll_request(Instant{}));  // seeds[1] was not learned
}

TEST_F(KadQuery, CollectsProvidersAndRecords) {
  Query providers_query(local, MessageType::get_providers, key, as_peers({seeds[0], seeds[1]}));
  Message reply;
  reply.provider_peers = as_peers({seeds[4]});
  for (int i = 0; i < 2; ++i) {
    const auto request = providers_query.poll_request(Instant{});
    ASSERT_TRUE(request);
    providers_query.handle_response(Instant{}, request->peer, reply);
  }
  ASSERT_EQ(providers_query.result().providers.size(), 1u);  // deduplicated
  EXPECT_EQ(providers_query.result().providers[0].id, seeds[4]);

  Query value_query(local, MessageType::get_value, key, as_peers({seeds[0]}));
  const auto request = value_query.poll_request(Instant{});
  ASSERT_TRUE(request);
  Message with_record;
  with_record.record = Record{key, to_bytes("v"), ""};
  value_query.handle_response(Instant{}, request->peer, with_record);
  ASSERT_EQ(value_query.result().records.size(), 1u);
  EXPECT_EQ(value_query.result().records[0].from, seeds[0]);
  EXPECT_EQ(value_query.result().records[0].record.value, to_bytes("v"));
}

TEST_F(KadQuery, StopEndsTheQuery) {
  Query query(local, MessageType::get_providers, key, as_peers(seeds));
  ASSERT_TRUE(query.poll_request(Instant{}));
  query.stop();
  EXPECT_TRUE(query.finished());
  EXPECT_FALSE(query.poll_request(Instant{}));
}

TEST_F(KadQuery, BoundsTheCandidates) {
  QueryOptions options;
  options.candidates_max = 10;
  Query query(local, MessageType::find_node, key, {}, options);
  std::vector<PeerId> many;
  for (int i = 0; i < 50; ++i) many.push_back(random_peer(rng));
  Query seeded(local, MessageType::find_node, key, as_peers(many), options);
  std::size_t asked = 0;
  while (!seeded.finished()) {
    auto request = seeded.poll_request(Instant{});
    ASSERT_TRUE(request);
    seeded.handle_response(Instant{}, request->peer, Message{});
    ++asked;
  }
  EXPECT_EQ(asked, 10u);
  // The ten kept are the ten nearest.
  std::sort(many.begin(), many.end(), [&](const PeerId& a, const PeerId& b) {
    return distance(seeded.target(), keyspace_point(a)) < distance(seeded.target(), keyspace_point(b));
  });
  const auto result = seeded.result();
  for (std::size_t i = 0; i < result.closest.size(); ++i) EXPECT_EQ(result.closest[i].id, many[i]);
  EXPECT_TRUE(query.finished());  // nothing to ask
}

}  // namespace
}  // namespace taho::kad
