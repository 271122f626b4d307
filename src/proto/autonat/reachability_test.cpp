#include "proto/autonat/reachability.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "proto/autonat/test_support.hpp"

namespace taho::autonat {
namespace {

using namespace std::chrono_literals;
using testing::peer;

// One probe from start to answer.
bool probe(ReachabilityTracker& tracker, Instant now, const PeerId& server, ProbeOutcome outcome) {
  tracker.on_probe_started(now, server);
  return tracker.on_probe_result(now, server, outcome);
}

TEST(Reachability, StartsUnknownAndProbesAfterTheFirstDelay) {
  const Instant t0{10s};
  ReachabilityTracker tracker(t0);
  EXPECT_EQ(tracker.reachability(), Reachability::unknown);
  EXPECT_EQ(to_string(tracker.reachability()), "unknown");
  EXPECT_FALSE(tracker.probe_due(t0));
  EXPECT_TRUE(tracker.probe_due(t0 + 1s));
  tracker.on_probe_started(t0 + 1s, peer(1));
  EXPECT_FALSE(tracker.probe_due(t0 + 100s));  // one probe at a time
}

TEST(Reachability, PublicAfterOneDialBack) {
  const Instant t0{};
  ReachabilityTracker tracker(t0);
  EXPECT_TRUE(probe(tracker, t0 + 1s, peer(1), ProbeOutcome::dialed_back));
  EXPECT_EQ(tracker.reachability(), Reachability::reachable);
  EXPECT_EQ(to_string(tracker.reachability()), "public");
  EXPECT_EQ(tracker.confidence(), 1u);
  // Not yet confident: the next probe comes soon.
  EXPECT_EQ(tracker.next_probe(), t0 + 6s);
  probe(tracker, t0 + 6s, peer(2), ProbeOutcome::dialed_back);
  probe(tracker, t0 + 11s, peer(3), ProbeOutcome::dialed_back);
  EXPECT_EQ(tracker.confidence(), 3u);
  EXPECT_EQ(tracker.next_probe(), t0 + 11s + 15min);
}

TEST(Reachability, PrivateOnlyAfterThreeDistinctServersFail) {
  const Instant t0{};
  ReachabilityTracker tracker(t0);
  EXPECT_FALSE(probe(tracker, t0 + 1s, peer(1), ProbeOutcome::dial_failed));
  // The same server failing again is not new evidence.
  EXPECT_FALSE(probe(tracker, t0 + 2s, peer(1), ProbeOutcome::dial_failed));
  EXPECT_FALSE(probe(tracker, t0 + 3s, peer(2), ProbeOutcome::dial_failed));
  EXPECT_EQ(tracker.reachability(), Reachability::unknown);
  // Refusals teach nothing.
  EXPECT_FALSE(probe(tracker, t0 + 4s, peer(3), ProbeOutcome::inconclusive));
  EXPECT_EQ(tracker.reachability(), Reachability::unknown);
  EXPECT_TRUE(probe(tracker, t0 + 5s, peer(4), ProbeOutcome::dial_failed));
  EXPECT_EQ(tracker.reachability(), Reachability::unreachable);
  EXPECT_EQ(to_string(tracker.reachability()), "private");
  EXPECT_EQ(tracker.confidence(), 1u);
}

TEST(Reachability, ASuccessOutweighsEarlierFailures) {
  const Instant t0{};
  ReachabilityTracker tracker(t0);
  probe(tracker, t0 + 1s, peer(1), ProbeOutcome::dial_failed);
  probe(tracker, t0 + 2s, peer(2), ProbeOutcome::dial_failed);
  EXPECT_TRUE(probe(tracker, t0 + 3s, peer(3), ProbeOutcome::dialed_back));
  EXPECT_EQ(tracker.reachability(), Reachability::reachable);
  // Flips to private only when three servers fail after the last success.
  probe(tracker, t0 + 4s, peer(4), ProbeOutcome::dial_failed);
  probe(tracker, t0 + 5s, peer(5), ProbeOutcome::dial_failed);
  EXPECT_EQ(tracker.reachability(), Reachability::reachable);
  EXPECT_TRUE(probe(tracker, t0 + 6s, peer(6), ProbeOutcome::dial_failed));
  EXPECT_EQ(tracker.reachability(), Reachability::unreachable);
  // And back once a server reaches us again.
  EXPECT_TRUE(probe(tracker, t0 + 7s, peer(1), ProbeOutcome::dialed_back));
  EXPECT_EQ(tracker.reachability(), Reachability::reachable);
}

TEST(Reachability, ChoosesUnaskedServersThenTheLeastRecentlyAsked) {
  const Instant t0{};
  ReachabilityTracker tracker(t0);
  const std::vector<PeerId> candidates = {peer(1), peer(2)};
  EXPECT_EQ(tracker.choose_server(t0, candidates), peer(1));
  probe(tracker, t0, peer(1), ProbeOutcome::dialed_back);
  EXPECT_EQ(tracker.choose_server(t0 + 1s, candidates), peer(2));
  probe(tracker, t0 + 1s, peer(2), ProbeOutcome::dialed_back);
  // Both asked within server_reuse_interval: nobody to ask now.
  EXPECT_FALSE(tracker.choose_server(t0 + 2s, candidates));
  EXPECT_EQ(tracker.choose_server(t0 + 2min, candidates), peer(1));
  tracker.on_no_server(t0 + 3s);
  EXPECT_EQ(tracker.next_probe(), t0 + 8s);
}

TEST(Reachability, AddressChangeKeepsTheVerdictButRestartsTheEvidence) {
  const Instant t0{};
  ReachabilityTracker tracker(t0);
  probe(tracker, t0 + 1s, peer(1), ProbeOutcome::dialed_back);
  probe(tracker, t0 + 6s, peer(2), ProbeOutcome::dialed_back);
  probe(tracker, t0 + 11s, peer(3), ProbeOutcome::dialed_back);
  ASSERT_EQ(tracker.next_probe(), t0 + 11s + 15min);
  tracker.on_addresses_changed(t0 + 20s);
  EXPECT_EQ(tracker.reachability(), Reachability::reachable);
  EXPECT_EQ(tracker.confidence(), 0u);
  EXPECT_EQ(tracker.next_probe(), t0 + 21s);
  // The old servers may be asked again at once.
  const std::vector<PeerId> candidates = {peer(1)};
  EXPECT_EQ(tracker.choose_server(t0 + 21s, candidates), peer(1));
  for (std::uint8_t i = 1; i <= 3; ++i) probe(tracker, t0 + 21s + std::chrono::seconds(i), peer(i), ProbeOutcome::dial_failed);
  EXPECT_EQ(tracker.reachability(), Reachability::unreachable);
}

TEST(Reachability, KeepsAtMostServersKeptMax) {
  ReachabilityOptions options;
  options.servers_kept_max = 4;
  const Instant t0{};
  ReachabilityTracker tracker(t0, options);
  for (std::uint8_t i = 1; i <= 10; ++i) {
    probe(tracker, t0 + std::chrono::seconds(i), peer(i), ProbeOutcome::dial_failed);
  }
  EXPECT_EQ(tracker.reachability(), Reachability::unreachable);
  // The earliest servers were forgotten, so they count as never asked.
  const std::vector<PeerId> candidates = {peer(1)};
  EXPECT_EQ(tracker.choose_server(t0 + 11s, candidates), peer(1));
}

}  // namespace
}  // namespace taho::autonat
