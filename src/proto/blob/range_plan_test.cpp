#include "proto/blob/range_plan.hpp"

#include <gtest/gtest.h>

#include <random>

#include "content/tree/tree_shape.hpp"

namespace taho::blob {
namespace {

using content::kGroupBytes;
using std::chrono::milliseconds;

constexpr HolderId kA{1};
constexpr HolderId kB{2};
constexpr HolderId kC{3};

Instant at(std::int64_t ms) { return Instant{} + milliseconds(ms); }

PlanOptions small_ranges(std::uint64_t groups_per_range = 4) {
  PlanOptions options;
  options.range_bytes = groups_per_range * kGroupBytes;
  options.ranges_per_holder_max = 2;  // the tests count on it, whatever the default
  return options;
}

RangePlan make_plan(std::uint64_t size, const PlanOptions& options = small_ranges()) {
  auto plan = RangePlan::create(size, options);
  EXPECT_TRUE(plan) << plan.error().detail;
  return std::move(*plan);
}

// Delivers every group of an assignment from its holder, in order.
void deliver(RangePlan& plan, const Assignment& assignment) {
  const std::uint64_t first = assignment.bytes.offset / kGroupBytes;
  const std::uint64_t end = (assignment.bytes.offset + assignment.bytes.length + kGroupBytes - 1) / kGroupBytes;
  for (std::uint64_t group = first; group < std::max(end, first + 1); ++group) plan.record_group(assignment.holder, group);
}

// Gives a holder a measured throughput of bytes_per_ms (one closed window).
void measure(RangePlan& plan, HolderId holder, std::uint64_t bytes_per_ms, std::int64_t start_ms, std::int64_t ms = 300) {
  plan.record_progress(holder, bytes_per_ms * static_cast<std::uint64_t>(ms), at(start_ms + ms));
}

TEST(RangePlan, RefusesBadOptionsAndHugeContent) {
  PlanOptions unaligned;
  unaligned.range_bytes = kGroupBytes + 1;
  EXPECT_EQ(RangePlan::create(100, unaligned).error().code, PlanErrc::bad_options);
  PlanOptions too_big;
  too_big.range_bytes = std::uint64_t{32} << 20;
  EXPECT_EQ(RangePlan::create(100, too_big).error().code, PlanErrc::bad_options);
  PlanOptions no_copies;
  no_copies.copies_max = 0;
  EXPECT_EQ(RangePlan::create(100, no_copies).error().code, PlanErrc::bad_options);
  PlanOptions bad_smoothing;
  bad_smoothing.throughput_smoothing = 0;
  EXPECT_EQ(RangePlan::create(100, bad_smoothing).error().code, PlanErrc::bad_options);
  EXPECT_EQ(RangePlan::create(plan_content_bytes_max + 1).error().code, PlanErrc::too_large);
  EXPECT_TRUE(RangePlan::create(plan_content_bytes_max));
}

TEST(RangePlan, OneHolderGetsRangesInOrderUpToItsLimit) {
  const std::uint64_t size = 10 * kGroupBytes + 123;  // 11 groups, ranges of 4: 3 ranges
  RangePlan plan = make_plan(size);
  EXPECT_EQ(plan.group_count(), 11u);
  EXPECT_EQ(plan.range_count(), 3u);
  EXPECT_FALSE(plan.next_assignment(kA, at(0)));  // unknown holder
  ASSERT_TRUE(plan.add_holder(kA, at(0)));

  const auto first = plan.next_assignment(kA, at(0));
  const auto second = plan.next_assignment(kA, at(0));
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, (Assignment{kA, 0, {0, 4 * kGroupBytes}, false}));
  EXPECT_EQ(*second, (Assignment{kA, 1, {4 * kGroupBytes, 4 * kGroupBytes}, false}));
  EXPECT_FALSE(plan.next_assignment(kA, at(0)));  // ranges_per_holder_max = 2
  EXPECT_EQ(plan.ranges_in_flight(kA), 2u);

  deliver(plan, *first);
  EXPECT_TRUE(plan.finish_assignment(kA, 0));
  EXPECT_FALSE(plan.finish_assignment(kA, 0));
  const auto third = plan.next_assignment(kA, at(1));
  ASSERT_TRUE(third);
  EXPECT_EQ(*third, (Assignment{kA, 2, {8 * kGroupBytes, 2 * kGroupBytes + 123}, false}));  // clamped to the end
  deliver(plan, *second);
  deliver(plan, *third);
  EXPECT_TRUE(plan.finish_assignment(kA, 1));
  EXPECT_TRUE(plan.finish_assignment(kA, 2));
  EXPECT_TRUE(plan.done());
  EXPECT_FALSE(plan.next_assignment(kA, at(2)));
}

TEST(RangePlan, EmptyContentIsOneEmptyGroup) {
  RangePlan plan = make_plan(0);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  const auto assignment = plan.next_assignment(kA, at(0));
  ASSERT_TRUE(assignment);
  EXPECT_EQ(assignment->bytes.offset, 0u);
  EXPECT_EQ(assignment->bytes.length, 0u);
  EXPECT_TRUE(plan.record_group(kA, 0));
  EXPECT_FALSE(plan.record_group(kA, 0));
  EXPECT_TRUE(plan.done());
}

TEST(RangePlan, AnIncompleteRangeIsAskedAgainForWhatIsMissing) {
  RangePlan plan = make_plan(16 * kGroupBytes);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));
  const auto a0 = plan.next_assignment(kA, at(0));
  ASSERT_TRUE(a0);
  EXPECT_TRUE(plan.record_group(kA, 0));
  EXPECT_TRUE(plan.record_group(kA, 1));
  EXPECT_TRUE(plan.finish_assignment(kA, 0));  // the stream failed after two groups
  // The requeued range comes before fresh ones, and only its missing part.
  const auto b = plan.next_assignment(kB, at(1));
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, (Assignment{kB, 0, {2 * kGroupBytes, 2 * kGroupBytes}, false}));
  EXPECT_EQ(plan.next_assignment(kB, at(1))->range_index, 1u);
}

TEST(RangePlan, DroppingAHolderRequeuesItsRanges) {
  RangePlan plan = make_plan(16 * kGroupBytes);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));
  ASSERT_EQ(plan.next_assignment(kA, at(0))->range_index, 0u);
  ASSERT_EQ(plan.next_assignment(kA, at(0))->range_index, 1u);
  ASSERT_EQ(plan.next_assignment(kB, at(0))->range_index, 2u);
  plan.record_group(kA, 4);
  plan.drop_holder(kA);
  EXPECT_FALSE(plan.has_holder(kA));
  EXPECT_FALSE(plan.next_assignment(kA, at(1)));
  const auto again = plan.next_assignment(kB, at(1));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->range_index, 0u);
  EXPECT_TRUE(plan.finish_assignment(kB, 2));
  const auto next = plan.next_assignment(kB, at(1));
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, (Assignment{kB, 1, {5 * kGroupBytes, 3 * kGroupBytes}, false}));
}

TEST(RangePlan, HolderLimit) {
  PlanOptions options = small_ranges();
  options.holders_max = 2;
  RangePlan plan = make_plan(kGroupBytes, options);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));  // known already
  EXPECT_EQ(plan.add_holder(kC, at(0)).error().code, PlanErrc::too_many_holders);
  plan.drop_holder(kA);
  EXPECT_TRUE(plan.add_holder(kC, at(0)));
}

TEST(RangePlan, ThroughputIsAnAverageOverWindows) {
  PlanOptions options = small_ranges();
  options.throughput_window = milliseconds(100);
  options.throughput_smoothing = 0.5;
  RangePlan plan = make_plan(kGroupBytes, options);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  EXPECT_FALSE(plan.throughput(kA));
  plan.record_progress(kA, 50'000, at(50));
  EXPECT_FALSE(plan.throughput(kA));  // the window is still open
  plan.record_progress(kA, 50'000, at(100));
  ASSERT_TRUE(plan.throughput(kA));
  EXPECT_DOUBLE_EQ(*plan.throughput(kA), 1'000'000.0);  // 100 kB in 100 ms
  plan.record_progress(kA, 300'000, at(200));           // 3 MB/s in this window
  EXPECT_DOUBLE_EQ(*plan.throughput(kA), 2'000'000.0);
  EXPECT_FALSE(plan.throughput(kB));
}

// Two holders, everything assigned, A slow and B fast and idle.
struct TailFixture {
  RangePlan plan = make_plan(8 * kGroupBytes);  // 2 ranges
  Assignment a_range;
  Assignment b_range;

  TailFixture(std::uint64_t a_rate, std::uint64_t b_rate) {
    EXPECT_TRUE(plan.add_holder(kA, at(0)));
    EXPECT_TRUE(plan.add_holder(kB, at(0)));
    a_range = *plan.next_assignment(kA, at(0));
    b_range = *plan.next_assignment(kB, at(0));
    measure(plan, kA, a_rate, 0);
    measure(plan, kB, b_rate, 0);
    deliver(plan, b_range);
    EXPECT_TRUE(plan.finish_assignment(kB, b_range.range_index));
  }
};

TEST(RangePlan, AnIdleFastHolderDuplicatesTheSlowestRange) {
  TailFixture tail(10, 100);
  // B's range also carried the last group; A's range is untouched.
  const auto stolen = tail.plan.next_assignment(kB, at(301));
  ASSERT_TRUE(stolen);
  EXPECT_EQ(*stolen, (Assignment{kB, tail.a_range.range_index, tail.a_range.bytes, true}));
  EXPECT_FALSE(tail.plan.next_assignment(kB, at(301)));  // busy now: no second steal

  // B's copy wins group by group; once the range is complete A is cancelled.
  EXPECT_TRUE(tail.plan.record_group(kA, 0));   // A's first group came first
  EXPECT_FALSE(tail.plan.record_group(kB, 0));  // B's duplicate is discarded
  EXPECT_FALSE(tail.plan.poll_cancelled());
  for (std::uint64_t group = 1; group < 4; ++group) EXPECT_TRUE(tail.plan.record_group(kB, group));
  const auto cancelled = tail.plan.poll_cancelled();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->holder, kA);
  EXPECT_EQ(cancelled->range_index, tail.a_range.range_index);
  EXPECT_FALSE(tail.plan.poll_cancelled());
  EXPECT_EQ(tail.plan.ranges_in_flight(kA), 0u);
  EXPECT_FALSE(tail.plan.finish_assignment(kA, tail.a_range.range_index));
  EXPECT_TRUE(tail.plan.finish_assignment(kB, tail.a_range.range_index));
  EXPECT_TRUE(tail.plan.done());
}

TEST(RangePlan, NoStealingWithoutAClearSpeedup) {
  TailFixture tail(80, 100);  // B only 1.25 times faster
  EXPECT_FALSE(tail.plan.next_assignment(kB, at(301)));
}

TEST(RangePlan, AStalledHolderIsStolenFromByAnyone) {
  TailFixture tail(80, 100);
  // A's last progress was at 300 ms; 3 s later it counts as stalled.
  EXPECT_FALSE(tail.plan.next_assignment(kB, at(3299)));
  const auto stolen = tail.plan.next_assignment(kB, at(3300));
  ASSERT_TRUE(stolen);
  EXPECT_TRUE(stolen->duplicate);
}

TEST(RangePlan, AnUnmeasuredOwnerIsGivenTime) {
  RangePlan plan = make_plan(8 * kGroupBytes);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));
  const auto a = plan.next_assignment(kA, at(0));
  const auto b = plan.next_assignment(kB, at(0));
  measure(plan, kB, 100, 0);
  deliver(plan, *b);
  plan.finish_assignment(kB, b->range_index);
  EXPECT_FALSE(plan.next_assignment(kB, at(301)));  // A has no measurement yet
  ASSERT_TRUE(a);
}

TEST(RangePlan, CopiesAreBounded) {
  RangePlan plan = make_plan(8 * kGroupBytes);
  for (const HolderId holder : {kA, kB, kC}) ASSERT_TRUE(plan.add_holder(holder, at(0)));
  const auto a = plan.next_assignment(kA, at(0));
  const auto b = plan.next_assignment(kA, at(0));
  ASSERT_TRUE(a && b);
  measure(plan, kA, 1, 0);
  measure(plan, kB, 100, 0);
  measure(plan, kC, 100, 0);
  // Both ranges are A's; B and C each steal one, then copies_max (2) is reached.
  const auto by_b = plan.next_assignment(kB, at(301));
  const auto by_c = plan.next_assignment(kC, at(301));
  ASSERT_TRUE(by_b && by_c);
  EXPECT_NE(by_b->range_index, by_c->range_index);
  plan.drop_holder(kC);
  ASSERT_TRUE(plan.add_holder(kC, at(301)));
  measure(plan, kC, 100, 301);
  EXPECT_EQ(plan.next_assignment(kC, at(602))->range_index, by_c->range_index);
}

TEST(RangePlan, TheLastGroupFromAnotherRangeCompletesItsRange) {
  // 5 groups, ranges of 4: range 1 is the last group alone, and every
  // response carries the last group, so range 0's holder completes it.
  RangePlan plan = make_plan(5 * kGroupBytes);
  ASSERT_TRUE(plan.add_holder(kA, at(0)));
  ASSERT_TRUE(plan.add_holder(kB, at(0)));
  const auto a = plan.next_assignment(kA, at(0));
  const auto b = plan.next_assignment(kB, at(0));
  ASSERT_EQ(b->range_index, 1u);
  EXPECT_TRUE(plan.record_group(kA, 4));
  const auto cancelled = plan.poll_cancelled();
  ASSERT_TRUE(cancelled);
  EXPECT_EQ(cancelled->holder, kB);
  deliver(plan, *a);
  EXPECT_TRUE(plan.done());
}

TEST(RangePlan, ResumeSkipsStoredGroups) {
  RangePlan first = make_plan(12 * kGroupBytes + 1);  // 13 groups, 4 ranges
  for (const std::uint64_t group : {0, 1, 2, 3, 5, 12}) first.record_group(kA, group);
  const Bytes saved = first.completed_bitmap();
  EXPECT_EQ(saved, (Bytes{0x2f, 0x10}));

  RangePlan resumed = make_plan(12 * kGroupBytes + 1);
  ASSERT_TRUE(resumed.restore(saved));
  EXPECT_EQ(resumed.groups_completed(), 6u);
  EXPECT_EQ(resumed.completed_bitmap(), saved);
  ASSERT_TRUE(resumed.add_holder(kA, at(0)));
  const auto one = resumed.next_assignment(kA, at(0));
  const auto two = resumed.next_assignment(kA, at(0));
  ASSERT_TRUE(one && two);
  EXPECT_EQ(*one, (Assignment{kA, 1, {4 * kGroupBytes, 4 * kGroupBytes}, false}));  // 4 and 6, 7: from 4
  EXPECT_EQ(*two, (Assignment{kA, 2, {8 * kGroupBytes, 4 * kGroupBytes}, false}));
  resumed.finish_assignment(kA, 1);
  resumed.finish_assignment(kA, 2);
  // Range 3 is group 12 alone, stored already: nothing is left but ranges 1 and 2.
  EXPECT_EQ(resumed.next_assignment(kA, at(1))->range_index, 1u);

  EXPECT_EQ(resumed.restore(Bytes{0x2f}).error().code, PlanErrc::bad_bitmap);
  EXPECT_EQ(resumed.restore(Bytes{0x00, 0x20}).error().code, PlanErrc::bad_bitmap);  // group 13 does not exist

  RangePlan complete = make_plan(12 * kGroupBytes + 1);
  ASSERT_TRUE(complete.restore(Bytes{0xff, 0x1f}));
  EXPECT_TRUE(complete.done());
}

// Random holders that deliver at random speeds, fail, get dropped and come
// back: the plan must finish with every group new exactly once and never
// break its bounds.
TEST(RangePlan, RandomFailuresAndStealingStillFinish) {
  std::size_t duplicates = 0;
  std::size_t cancellations = 0;
  for (std::uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    const std::uint64_t size = rng() % (200 * kGroupBytes) + (seed % 5 == 0 ? 0 : 1);
    PlanOptions options = small_ranges(1 + rng() % 8);
    options.ranges_per_holder_max = 1 + rng() % 3;
    options.copies_max = 1 + rng() % 3;
    options.stall_after = milliseconds(500);
    RangePlan plan = make_plan(size, options);
    if (seed % 3 == 0) {
      // Resume from a random earlier state.
      Bytes bitmap((plan.group_count() + 7) / 8, 0);
      for (std::uint64_t group = 0; group < plan.group_count(); ++group) {
        if (rng() % 4 == 0) bitmap[group / 8] = static_cast<std::uint8_t>(bitmap[group / 8] | (1u << (group % 8)));
      }
      ASSERT_TRUE(plan.restore(bitmap));
    }
    std::vector<int> times_new(plan.group_count(), 0);
    for (std::uint64_t group = 0; group < plan.group_count(); ++group) times_new[group] = plan.is_completed(group);

    const std::size_t holder_count = 1 + rng() % 5;
    std::vector<std::uint64_t> speed(holder_count);  // groups per tick
    struct Stream {
      Assignment assignment;
      std::uint64_t next_group;
      bool last_sent;
    };
    std::vector<std::vector<Stream>> streams(holder_count);
    for (std::size_t h = 0; h < holder_count; ++h) {
      speed[h] = rng() % 4;  // 0: a holder that stalls
      ASSERT_TRUE(plan.add_holder(HolderId{h}, at(0)));
    }
    speed[0] = std::max<std::uint64_t>(speed[0], 1);  // someone makes progress
    std::int64_t now_ms = 0;
    for (int tick = 0; tick < 20000 && !plan.done(); ++tick) {
      now_ms += 50;
      for (std::size_t h = 0; h < holder_count; ++h) {
        const HolderId holder{h};
        if (!plan.has_holder(holder)) {
          if (rng() % 10 == 0) ASSERT_TRUE(plan.add_holder(holder, at(now_ms)));
          continue;
        }
        while (auto assignment = plan.next_assignment(holder, at(now_ms))) {
          EXPECT_LE(plan.ranges_in_flight(holder), options.ranges_per_holder_max);
          EXPECT_LE(assignment->bytes.offset + assignment->bytes.length, size);
          EXPECT_EQ(assignment->bytes.offset % kGroupBytes, 0u);
          EXPECT_TRUE(size == 0 || assignment->bytes.length > 0);
          duplicates += assignment->duplicate;
          streams[h].push_back({*assignment, assignment->bytes.offset / kGroupBytes, false});
        }
        if (rng() % 200 == 0 && h != 0) {
          plan.drop_holder(holder);  // e.g. sent a bad group
          streams[h].clear();
          continue;
        }
        for (std::size_t s = 0; s < streams[h].size();) {
          Stream& stream = streams[h][s];
          const auto& bytes = stream.assignment.bytes;
          const std::uint64_t end = std::max((bytes.offset + bytes.length + kGroupBytes - 1) / kGroupBytes,
                                             bytes.offset / kGroupBytes + 1);
          const bool fails = rng() % 100 == 0;
          for (std::uint64_t n = 0; n < speed[h] && stream.next_group < end && !fails; ++n) {
            const std::uint64_t group = stream.next_group++;
            plan.record_progress(holder, kGroupBytes, at(now_ms));
            if (plan.record_group(holder, group)) ++times_new[group];
          }
          if (stream.next_group == end && !stream.last_sent && !fails) {
            stream.last_sent = true;  // the last group travels with every response
            if (plan.record_group(holder, plan.group_count() - 1)) ++times_new[plan.group_count() - 1];
          }
          if (fails || stream.last_sent) {
            plan.finish_assignment(holder, stream.assignment.range_index);
            streams[h].erase(streams[h].begin() + static_cast<std::ptrdiff_t>(s));
          } else {
            ++s;
          }
        }
      }
      while (auto cancelled = plan.poll_cancelled()) {
        ++cancellations;
        auto& list = streams[cancelled->holder.value];
        const auto found = std::find_if(list.begin(), list.end(), [&](const Stream& stream) {
          return stream.assignment.range_index == cancelled->range_index;
        });
        ASSERT_NE(found, list.end());
        list.erase(found);
      }
    }
    ASSERT_TRUE(plan.done()) << "seed " << seed;
    for (std::uint64_t group = 0; group < plan.group_count(); ++group) {
      ASSERT_EQ(times_new[group], 1) << "seed " << seed << " group " << group;
    }
  }
  // The scenarios do exercise the tail.
  EXPECT_GT(duplicates, 10u);
  EXPECT_GT(cancellations, 10u);
}

}  // namespace
}  // namespace taho::blob
