#include "runtime/sim/network.hpp"

#include <gtest/gtest.h>

#include <string>

namespace taho::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Instant far_future{std::chrono::hours(24 * 365)};

Bytes payload(std::uint64_t n) { return to_bytes(std::to_string(n)); }

// Drains every event, as (time, description) lines.
std::vector<std::string> drain(Network& net) {
  std::vector<std::string> out;
  while (auto event = net.step(far_future)) {
    std::string line = std::to_string(event->at.since_start.count()) + " ";
    if (const auto* delivery = std::get_if<Delivery>(&event->what)) {
      line += "d " + std::to_string(delivery->from) + ">" + std::to_string(delivery->to) + " " +
              std::string(as_text(delivery->payload));
    } else {
      const auto& wakeup = std::get<Wakeup>(event->what);
      line += "w " + std::to_string(wakeup.node) + " " + std::to_string(wakeup.token);
    }
    out.push_back(line);
  }
  return out;
}

TEST(SimNetwork, DeliversAfterTheLinkLatency) {
  Network net(3, 1, LinkProfile{milliseconds(30)});
  net.set_link(0, 2, LinkProfile{milliseconds(5)});
  ASSERT_TRUE(net.send(0, 1, payload(7)));
  ASSERT_TRUE(net.send(0, 2, payload(8)));
  auto first = net.step(far_future);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->at, Instant{} + milliseconds(5));
  EXPECT_EQ(net.now(), first->at);
  EXPECT_EQ(std::get<Delivery>(first->what).to, 2u);
  auto second = net.step(far_future);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->at, Instant{} + milliseconds(30));
  const auto& delivery = std::get<Delivery>(second->what);
  EXPECT_EQ(delivery.from, 0u);
  EXPECT_EQ(delivery.to, 1u);
  EXPECT_EQ(delivery.payload, payload(7));
  EXPECT_FALSE(net.step(far_future).has_value());
  EXPECT_EQ(net.stats().delivered, 2u);
}

TEST(SimNetwork, StepStopsAtTheGivenTimeAndMovesTheClock) {
  Network net(2, 1, LinkProfile{milliseconds(50)});
  net.send(0, 1, payload(1));
  EXPECT_FALSE(net.step(Instant{} + milliseconds(49)).has_value());
  EXPECT_EQ(net.now(), Instant{} + milliseconds(49));
  EXPECT_EQ(net.next_event_time(), Instant{} + milliseconds(50));
  EXPECT_TRUE(net.step(Instant{} + milliseconds(50)).has_value());
}

TEST(SimNetwork, EventsAtOneInstantRunInSchedulingOrder) {
  Network net(4, 1, LinkProfile{milliseconds(10)});
  net.wake_at(3, Instant{} + milliseconds(10), 99);
  for (NodeIndex to = 1; to < 4; ++to) net.send(0, to, payload(to));
  const auto lines = drain(net);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0], "10000000 w 3 99");
  EXPECT_EQ(lines[1], "10000000 d 0>1 1");
  EXPECT_EQ(lines[3], "10000000 d 0>3 3");
}

TEST(SimNetwork, JitterStaysInBoundsAndOrderedLinksKeepOrder) {
  LinkProfile profile{milliseconds(10), milliseconds(40)};
  Network net(2, 5, profile);
  for (int i = 0; i < 200; ++i) net.send(0, 1, payload(i));
  int expected = 0;
  Instant last{};
  bool varied = false;
  while (auto event = net.step(far_future)) {
    EXPECT_EQ(std::get<Delivery>(event->what).payload, payload(expected++));
    EXPECT_GE(event->at, Instant{} + milliseconds(10));
    EXPECT_LE(event->at, Instant{} + milliseconds(50));
    EXPECT_GE(event->at, last);
    varied |= event->at != last && last != Instant{};
    last = event->at;
  }
  EXPECT_EQ(expected, 200);
  EXPECT_TRUE(varied);
}

TEST(SimNetwork, UnorderedLinksLetJitterReorder) {
  LinkProfile profile{milliseconds(10), milliseconds(40)};
  profile.ordered = false;
  Network net(2, 5, profile);
  for (int i = 0; i < 50; ++i) net.send(0, 1, payload(i));
  bool reordered = false;
  int previous = -1;
  while (auto event = net.step(far_future)) {
    const int n = std::stoi(std::string(as_text(std::get<Delivery>(event->what).payload)));
    reordered |= n < previous;
    previous = n;
  }
  EXPECT_TRUE(reordered);
}

TEST(SimNetwork, LossDropsAboutTheConfiguredFraction) {
  LinkProfile profile;
  profile.loss = 0.1;
  Network net(2, 7, profile);
  int accepted = 0;
  for (int i = 0; i < 10'000; ++i) accepted += net.send(0, 1, payload(i)) ? 1 : 0;
  EXPECT_EQ(net.stats().lost, static_cast<std::uint64_t>(10'000 - accepted));
  EXPECT_GT(net.stats().lost, 850u);
  EXPECT_LT(net.stats().lost, 1150u);
  EXPECT_EQ(drain(net).size(), static_cast<std::size_t>(accepted));
}

TEST(SimNetwork, BandwidthQueuesPayloadsBehindEachOther) {
  LinkProfile profile{milliseconds(10)};
  profile.bandwidth_bytes_per_second = 1000;  // 1 byte per ms
  Network net(2, 1, profile);
  net.send(0, 1, Bytes(100, 1));
  net.send(0, 1, Bytes(50, 2));
  auto first = net.step(far_future);
  auto second = net.step(far_future);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->at, Instant{} + milliseconds(110));
  EXPECT_EQ(second->at, Instant{} + milliseconds(160));
  // An idle link starts afresh.
  net.step(Instant{} + seconds(1));
  net.send(0, 1, Bytes(10, 3));
  auto third = net.step(far_future);
  ASSERT_TRUE(third.has_value());
  EXPECT_EQ(third->at, Instant{} + seconds(1) + milliseconds(20));
}

TEST(SimNetwork, PartitionsCutAndHealAtTheirTimes) {
  Network net(4, 1, LinkProfile{milliseconds(10)});
  net.partition_at(Instant{} + seconds(1), {{0, 1}});  // {0,1} against {2,3}
  net.heal_at(Instant{} + seconds(2));
  EXPECT_TRUE(net.send(0, 2, payload(1)));  // before the partition
  EXPECT_TRUE(net.step(Instant{} + seconds(1)).has_value());
  EXPECT_FALSE(net.step(Instant{} + seconds(1)).has_value());
  EXPECT_FALSE(net.reachable(0, 2));
  EXPECT_FALSE(net.reachable(3, 1));
  EXPECT_TRUE(net.reachable(0, 1));
  EXPECT_TRUE(net.reachable(2, 3));
  EXPECT_FALSE(net.send(0, 2, payload(2)));
  EXPECT_TRUE(net.send(2, 3, payload(3)));
  EXPECT_TRUE(net.step(Instant{} + seconds(2)).has_value());  // only 2>3
  EXPECT_FALSE(net.step(Instant{} + seconds(2)).has_value());  // and the heal
  EXPECT_TRUE(net.reachable(0, 2));
  EXPECT_TRUE(net.send(0, 2, payload(4)));
  EXPECT_TRUE(net.step(Instant{} + seconds(3)).has_value());
  EXPECT_EQ(net.stats().partitioned, 1u);
}

TEST(SimNetwork, APartitionDropsPayloadsInFlight) {
  Network net(2, 1, LinkProfile{milliseconds(100)});
  net.send(0, 1, payload(1));
  net.partition_at(Instant{} + milliseconds(50), {{0}});
  EXPECT_TRUE(drain(net).empty());
  EXPECT_EQ(net.stats().partitioned, 1u);
}

TEST(SimNetwork, BadNodeIndicesAreRefusedNotFatal) {
  Network net(2, 1);
  EXPECT_FALSE(net.send(0, 2, payload(1)));
  EXPECT_FALSE(net.send(5, 0, payload(1)));
  net.wake_at(9, Instant{});
  net.set_link(0, 7, LinkProfile{});
  net.partition_at(Instant{}, {{0, 42}});
  EXPECT_EQ(net.stats().refused, 3u);
  drain(net);
  EXPECT_TRUE(net.reachable(1, 1));
  EXPECT_FALSE(net.reachable(0, 1));
}

TEST(SimNetwork, TheQueueIsBounded) {
  Network net(2, 1, LinkProfile{}, NetworkLimits{3});
  for (int i = 0; i < 5; ++i) net.send(0, 1, payload(i));
  EXPECT_EQ(net.queued_events(), 3u);
  EXPECT_EQ(net.stats().refused, 2u);
}

// A little gossip over a lossy, jittery network, driven by the network's rng.
std::vector<std::string> chatter(std::uint64_t seed) {
  LinkProfile profile{milliseconds(5), milliseconds(20), 0.2};
  Network net(8, seed, profile);
  net.partition_at(Instant{} + milliseconds(30), {{0, 1, 2}});
  net.heal_at(Instant{} + milliseconds(60));
  for (NodeIndex n = 0; n < 8; ++n) net.wake_at(n, Instant{} + milliseconds(n), n);
  std::vector<std::string> trace;
  while (auto event = net.step(Instant{} + milliseconds(200))) {
    trace.push_back(std::to_string(event->at.since_start.count()));
    NodeIndex at = 0;
    if (const auto* delivery = std::get_if<Delivery>(&event->what)) {
      at = delivery->to;
      trace.back() += " d" + std::to_string(delivery->to);
    } else {
      at = std::get<Wakeup>(event->what).node;
      trace.back() += " w" + std::to_string(at);
      net.wake_at(at, net.now() + milliseconds(7 + net.rng().next_u64() % 5), 0);
    }
    net.send(at, static_cast<NodeIndex>(net.rng().next_u64() % 8), payload(trace.size()));
  }
  return trace;
}

TEST(SimNetwork, TheSameSeedReplaysTheSameRun) {
  const auto first = chatter(42);
  EXPECT_GT(first.size(), 100u);
  EXPECT_EQ(first, chatter(42));
  EXPECT_NE(first, chatter(43));
}

}  // namespace
}  // namespace taho::sim
