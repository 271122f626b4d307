#include "proto/gossipsub/adaptive_heartbeat.hpp"

#include <gtest/gtest.h>

namespace taho::gossipsub {
namespace {

using std::chrono::milliseconds;
constexpr Duration configured = std::chrono::seconds(1);

TEST(AdaptiveHeartbeat, CalmKeepsTheConfiguredInterval) {
  AdaptiveHeartbeat adaptive;
  HeartbeatSignals calm;
  calm.new_messages = 100;
  calm.peers = 10;
  for (int i = 0; i < 10; ++i) EXPECT_EQ(adaptive.next_interval(configured, calm), configured);
  EXPECT_EQ(adaptive.stress(), 0.0);
}

TEST(AdaptiveHeartbeat, EachSignalAloneRaisesStress) {
  const AdaptiveHeartbeatParams params;
  HeartbeatSignals gap;
  gap.new_messages = 10;
  gap.iwant_requested = 5;
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, gap), 0.5);
  HeartbeatSignals broken;
  broken.promises_due = 4;
  broken.promises_broken = 4;
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, broken), 1.0);
  HeartbeatSignals deficit;
  deficit.mesh_deficit = 0.25;
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, deficit), 0.25);
  HeartbeatSignals churn;
  churn.churn = 1;
  churn.peers = 8;  // 12.5% of peers lost: half of churn_for_full_stress
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, churn), 0.5);
  HeartbeatSignals loss;
  loss.link_loss = 0.1;
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, loss), 0.5);
  loss.link_loss = 0.9;  // beyond the worst case counts as the worst case
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, loss), 1.0);
  HeartbeatSignals worst_wins = gap;
  worst_wins.mesh_deficit = 0.75;
  EXPECT_DOUBLE_EQ(AdaptiveHeartbeat::measure(params, worst_wins), 0.75);
}

TEST(AdaptiveHeartbeat, StressShortensTheIntervalSmoothlyDownToTheFloor) {
  AdaptiveHeartbeat adaptive;
  HeartbeatSignals bad;
  bad.link_loss = 0.5;
  Duration previous = configured;
  for (int i = 0; i < 40; ++i) {
    const Duration interval = adaptive.next_interval(configured, bad);
    EXPECT_LE(interval, previous);
    EXPECT_GE(interval, milliseconds(500));
    previous = interval;
  }
  EXPECT_NEAR(std::chrono::duration<double>(previous).count(), 0.5, 0.001);
  // One bad heartbeat does not swing it all the way (EWMA).
  AdaptiveHeartbeat fresh;
  const Duration once = fresh.next_interval(configured, bad);
  EXPECT_GT(once, milliseconds(800));
  // And it recovers when trouble passes.
  for (int i = 0; i < 60; ++i) previous = adaptive.next_interval(configured, HeartbeatSignals{});
  EXPECT_GT(previous, milliseconds(995));
  EXPECT_LE(previous, configured);
}

TEST(AdaptiveHeartbeat, NeverBeatsFasterThanTheRoundTripAllows) {
  AdaptiveHeartbeat adaptive;
  HeartbeatSignals bad;
  bad.link_loss = 1.0;
  bad.link_rtt = milliseconds(200);  // 4 × 200 ms = 800 ms floor
  Duration interval{};
  for (int i = 0; i < 40; ++i) interval = adaptive.next_interval(configured, bad);
  EXPECT_EQ(interval, milliseconds(800));
  bad.link_rtt = milliseconds(400);  // the floor never exceeds the configured interval
  EXPECT_EQ(adaptive.next_interval(configured, bad), configured);
}

TEST(AdaptiveHeartbeat, BoundsComeFromParams) {
  AdaptiveHeartbeatParams params;
  params.interval_factor_min = 0.8;
  AdaptiveHeartbeat adaptive(params);
  HeartbeatSignals bad;
  bad.promises_due = bad.promises_broken = 1;
  Duration interval{};
  for (int i = 0; i < 60; ++i) interval = adaptive.next_interval(configured, bad);
  EXPECT_NEAR(std::chrono::duration<double>(interval).count(), 0.8, 0.001);
}

}  // namespace
}  // namespace taho::gossipsub
