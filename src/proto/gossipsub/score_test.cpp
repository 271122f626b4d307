#include "proto/gossipsub/score.hpp"

#include <gtest/gtest.h>

#include "crypto/ed25519.hpp"

namespace taho::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const std::string topic = "t";

PeerId peer_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  return PeerId::from_ed25519(crypto::Ed25519KeyPair::from_seed(seed)->public_key());
}

// Params with every term off, so each test turns on only the one it checks.
PeerScoreParams silent() {
  PeerScoreParams params;
  params.topic_defaults.time_in_mesh_weight = 0;
  params.topic_defaults.first_message_deliveries_weight = 0;
  params.topic_defaults.invalid_message_deliveries_weight = 0;
  params.app_specific_weight = 0;
  params.ip_colocation_factor_weight = 0;
  params.behaviour_penalty_weight = 0;
  return params;
}

Instant at(Duration d) { return Instant{} + d; }

TEST(PeerScore, UnknownPeersScoreZero) {
  PeerScores scores{PeerScoreParams{}};
  EXPECT_EQ(scores.score(peer_from(1)), 0.0);
  scores.add_penalty(peer_from(1), 100);  // ignored: not added
  EXPECT_EQ(scores.score(peer_from(1)), 0.0);
}

TEST(PeerScore, TimeInMeshGrowsPerQuantumUpToTheCap) {  // P1
  auto params = silent();
  params.topic_defaults.time_in_mesh_weight = 0.5;
  params.topic_defaults.time_in_mesh_cap = 20;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.refresh(at(seconds(0)));
  scores.graft(at(seconds(0)), peer, topic);
  scores.refresh(at(seconds(10)));
  EXPECT_DOUBLE_EQ(scores.score(peer), 5.0);
  scores.refresh(at(seconds(100)));
  EXPECT_DOUBLE_EQ(scores.score(peer), 10.0);  // capped at 20 quanta
  scores.prune(peer, topic);
  EXPECT_DOUBLE_EQ(scores.score(peer), 0.0);
}

TEST(PeerScore, FirstDeliveriesCountCapAndDecayWithTime) {  // P2
  auto params = silent();
  params.topic_defaults.first_message_deliveries_weight = 2;
  params.topic_defaults.first_message_deliveries_cap = 5;
  params.topic_defaults.first_message_deliveries_decay = 0.5;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.refresh(at(seconds(0)));
  for (int i = 0; i < 3; ++i) scores.first_delivery(peer, topic);
  EXPECT_DOUBLE_EQ(scores.score(peer), 6.0);
  for (int i = 0; i < 10; ++i) scores.first_delivery(peer, topic);
  EXPECT_DOUBLE_EQ(scores.score(peer), 10.0);
  // Decay follows elapsed time, whatever the refresh cadence.
  PeerScores stepwise(params);
  stepwise.add_peer(peer);
  stepwise.refresh(at(seconds(0)));
  for (int i = 0; i < 5; ++i) stepwise.first_delivery(peer, topic);
  for (int i = 1; i <= 10; ++i) stepwise.refresh(at(milliseconds(100 * i)));
  scores.refresh(at(seconds(1)));
  EXPECT_NEAR(scores.score(peer), 5.0, 1e-9);
  EXPECT_NEAR(stepwise.score(peer), 5.0, 1e-9);
  scores.refresh(at(seconds(20)));  // below decay_to_zero: exactly zero
  EXPECT_EQ(scores.score(peer), 0.0);
}

TEST(PeerScore, MeshDeliveryDeficitCountsOnlyAfterActivation) {  // P3, P3b
  auto params = silent();
  auto& t = params.topic_defaults;
  t.mesh_message_deliveries_weight = -1;
  t.mesh_message_deliveries_threshold = 4;
  t.mesh_message_deliveries_decay = 1.0;  // no decay, to read the counts directly
  t.mesh_message_deliveries_activation = seconds(5);
  t.mesh_failure_penalty_weight = -2;
  t.mesh_failure_penalty_decay = 1.0;
  PeerScores scores(params);
  const auto slow = peer_from(1);
  const auto good = peer_from(2);
  scores.add_peer(slow);
  scores.add_peer(good);
  scores.refresh(at(seconds(0)));
  scores.graft(at(seconds(0)), slow, topic);
  scores.graft(at(seconds(0)), good, topic);
  scores.first_delivery(slow, topic);
  for (int i = 0; i < 4; ++i) scores.near_first_delivery(good, topic);
  scores.refresh(at(seconds(3)));
  EXPECT_EQ(scores.score(slow), 0.0);  // not active yet
  scores.refresh(at(seconds(6)));
  EXPECT_DOUBLE_EQ(scores.score(slow), -9.0);  // deficit 3, squared
  EXPECT_DOUBLE_EQ(scores.score(good), 0.0);
  // Pruned with a deficit: the failure penalty stays with the peer.
  scores.prune(slow, topic);
  EXPECT_DOUBLE_EQ(scores.score(slow), -18.0);  // P3b: -2 × 9
  // A delivery outside the mesh is no mesh delivery.
  scores.near_first_delivery(slow, topic);
  EXPECT_DOUBLE_EQ(scores.score(slow), -18.0);
}

TEST(PeerScore, InvalidMessagesArePenalisedSquared) {  // P4
  auto params = silent();
  params.topic_defaults.invalid_message_deliveries_weight = -10;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.invalid_delivery(peer, topic);
  EXPECT_DOUBLE_EQ(scores.score(peer), -10.0);
  scores.invalid_delivery(peer, topic);
  EXPECT_DOUBLE_EQ(scores.score(peer), -40.0);
}

TEST(PeerScore, TopicWeightsAndCapApply) {
  auto params = silent();
  TopicScoreParams heavy = params.topic_defaults;
  heavy.topic_weight = 3;
  heavy.first_message_deliveries_weight = 1;
  params.topics.emplace("heavy", heavy);
  params.topic_score_cap = 10;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.first_delivery(peer, "heavy");
  scores.first_delivery(peer, "light");  // default weight 0
  EXPECT_DOUBLE_EQ(scores.score(peer), 3.0);
  for (int i = 0; i < 10; ++i) scores.first_delivery(peer, "heavy");
  EXPECT_DOUBLE_EQ(scores.score(peer), 10.0);  // capped
  params.topics.clear();
}

TEST(PeerScore, ApplicationScoreIsWeighted) {  // P5
  auto params = silent();
  params.app_specific_weight = 2;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.set_application_score(peer, -3.5);
  EXPECT_DOUBLE_EQ(scores.score(peer), -7.0);
}

TEST(PeerScore, ManyPeersOnOneIpArePenalised) {  // P6
  auto params = silent();
  params.ip_colocation_factor_weight = -1;
  params.ip_colocation_factor_threshold = 2;
  params.ip_colocation_factor_whitelist.insert("10.0.0.9");
  PeerScores scores(params);
  std::vector<PeerId> peers;
  for (std::uint8_t i = 0; i < 5; ++i) {
    peers.push_back(peer_from(i + 1));
    scores.add_peer(peers.back());
    scores.set_ip(peers.back(), i < 4 ? "10.0.0.1" : "10.0.0.2");
  }
  EXPECT_DOUBLE_EQ(scores.score(peers[0]), -4.0);  // 4 on one IP, 2 tolerated: (4-2)^2
  EXPECT_DOUBLE_EQ(scores.score(peers[4]), 0.0);
  scores.remove_peer(at(seconds(1)), peers[3]);
  EXPECT_DOUBLE_EQ(scores.score(peers[0]), -1.0);
  scores.set_ip(peers[2], "10.0.0.9");  // moved to a whitelisted address
  EXPECT_DOUBLE_EQ(scores.score(peers[0]), 0.0);
  EXPECT_DOUBLE_EQ(scores.score(peers[2]), 0.0);
}

TEST(PeerScore, BehaviourPenaltyAboveTheThresholdIsSquaredAndDecays) {  // P7
  auto params = silent();
  params.behaviour_penalty_weight = -1;
  params.behaviour_penalty_threshold = 1;
  params.behaviour_penalty_decay = 0.5;
  PeerScores scores(params);
  const auto peer = peer_from(1);
  scores.add_peer(peer);
  scores.refresh(at(seconds(0)));
  scores.add_penalty(peer, 1);
  EXPECT_DOUBLE_EQ(scores.score(peer), 0.0);  // within tolerance
  scores.add_penalty(peer, 3);
  EXPECT_DOUBLE_EQ(scores.score(peer), -9.0);
  scores.refresh(at(seconds(1)));
  EXPECT_DOUBLE_EQ(scores.score(peer), -1.0);
  EXPECT_DOUBLE_EQ(scores.behaviour_penalty(peer), 2.0);
}

TEST(PeerScore, ABadScoreSurvivesReconnectingUntilRetentionEnds) {
  auto params = silent();
  params.behaviour_penalty_weight = -1;
  params.behaviour_penalty_threshold = 0;
  params.behaviour_penalty_decay = 1.0;
  params.retain_score = seconds(30);
  PeerScores scores(params);
  const auto bad = peer_from(1);
  const auto clean = peer_from(2);
  scores.add_peer(bad);
  scores.add_peer(clean);
  scores.refresh(at(seconds(0)));
  scores.add_penalty(bad, 2);
  scores.set_application_score(clean, 0);
  scores.remove_peer(at(seconds(1)), bad);
  scores.remove_peer(at(seconds(1)), clean);
  scores.add_peer(bad);
  EXPECT_DOUBLE_EQ(scores.score(bad), -4.0);
  scores.remove_peer(at(seconds(2)), bad);
  scores.refresh(at(seconds(40)));
  scores.add_peer(bad);
  EXPECT_EQ(scores.score(bad), 0.0);
}

}  // namespace
}  // namespace taho::gossipsub
