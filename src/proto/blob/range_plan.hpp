// The plan of a multi-source download (DESIGN.md §4 "Fetch"): which byte
// ranges of one content to ask which holders for, over /taho/blob/1.0.0.
// Pure bookkeeping: the fetcher opens the streams, feeds the verified groups
// and progress back, and asks for the next assignment.
//
// - The content is cut into ranges of range_bytes (16 KiB aligned). Ranges
//   are handed out lowest first, so content streams out roughly in order.
// - Completion is tracked per 16 KiB group (a bitmap that a resume file can
//   restore and save). A range that comes back incomplete (its stream failed
//   or its holder was dropped) is requested again from its first missing
//   group to its last.
// - Tail stealing: when nothing is left to hand out, an idle holder that is
//   clearly faster than the holders of an in-flight range (or whose holders
//   stalled) gets a duplicate of the range that would finish last. The first
//   verified copy of each group wins (record_group says whether it was new);
//   once a range is complete, the other holders still on it are cancelled
//   (poll_cancelled), so their streams can be reset.
// - Throughput per holder is an exponentially weighted average over windows
//   of record_progress() calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/time.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::blob {

// Content a plan accepts: 4 TiB keeps the bitmap at 32 MiB and the per-range
// state at 16 MiB.
inline constexpr std::uint64_t plan_content_bytes_max = std::uint64_t{1} << 42;

// A holder, as the fetcher numbers them (e.g. per peer for this download).
struct HolderId {
  std::uint64_t value = 0;
  auto operator<=>(const HolderId&) const = default;
};

struct PlanOptions {
  // Bytes per range: a multiple of 16 KiB, at most 16 MiB (what a server
  // serves per request by default).
  std::uint64_t range_bytes = std::uint64_t{1} << 20;
  // Ranges one holder works on at once. Pipelining hides the round trip and
  // the holder's reading of each range; on loopback 4 in flight fetched 1 GiB
  // at ~6 Gbit/s where 2 left the link idle half the time (~3.2 Gbit/s).
  std::size_t ranges_per_holder_max = 4;
  // Holders working on one range at once (more than 1 only by stealing).
  std::size_t copies_max = 2;
  std::size_t holders_max = 64;
  // Throughput: one sample per window, averaged with this weight for the newest.
  Duration throughput_window = std::chrono::milliseconds(250);
  double throughput_smoothing = 0.3;
  // An idle holder steals a range when its throughput is this many times
  // that of the range's fastest holder.
  double steal_speedup = 1.5;
  // A holder with work and no progress for this long counts as stalled
  // (throughput 0): any idle holder may steal its ranges.
  Duration stall_after = std::chrono::seconds(3);
};

enum class PlanErrc {
  bad_options,       // options outside their documented bounds
  too_large,         // content above plan_content_bytes_max
  bad_bitmap,        // a resume bitmap of the wrong length or with bits past the last group
  too_many_holders,  // add_holder beyond holders_max
};
using PlanError = Error<PlanErrc>;

struct Assignment {
  HolderId holder;
  std::uint64_t range_index = 0;
  content::ByteRange bytes;  // what to request: 16 KiB aligned, clamped to the content
  bool duplicate = false;    // stolen: another holder works on it too

  bool operator==(const Assignment& other) const {
    return holder == other.holder && range_index == other.range_index && bytes.offset == other.bytes.offset &&
           bytes.length == other.bytes.length && duplicate == other.duplicate;
  }
};

class RangePlan {
 public:
  static Expected<RangePlan, PlanError> create(std::uint64_t content_size, const PlanOptions& options = {});

  // Resume: bit i (byte i / 8, least significant bit first) set means group
  // i is stored and verified. Restoring only adds completed groups.
  Expected<void, PlanError> restore(ByteView completed_bitmap);
  Bytes completed_bitmap() const;

  Expected<void, PlanError> add_holder(HolderId holder, Instant now);
  // The holder failed or went away: its ranges go back to the queue.
  void drop_holder(HolderId holder);
  bool has_holder(HolderId holder) const { return holders_.count(holder) != 0; }

  // Work for `holder`, or nothing: it is unknown, has ranges_per_holder_max
  // ranges already, or everything is done or taken and stealing does not pay.
  std::optional<Assignment> next_assignment(HolderId holder, Instant now);
  // The holder's stream for the range ended, complete or not; what is
  // missing is queued again. False if the holder did not have the range
  // (e.g. it was cancelled).
  bool finish_assignment(HolderId holder, std::uint64_t range_index);
  // A verified group arrived from `holder`. True if it is new (store it),
  // false if another copy won already (discard it).
  bool record_group(HolderId holder, std::uint64_t group);
  // Bytes received from the holder (any part of a response), for its throughput.
  void record_progress(HolderId holder, std::uint64_t bytes, Instant now);
  // Assignments made pointless by other holders' copies: reset their streams
  // (finish_assignment is not needed for them).
  std::optional<Assignment> poll_cancelled();

  bool done() const { return groups_completed_ == group_count_; }
  bool is_completed(std::uint64_t group) const;
  std::uint64_t content_size() const { return content_size_; }
  std::uint64_t group_count() const { return group_count_; }
  std::uint64_t groups_completed() const { return groups_completed_; }
  std::uint64_t range_count() const { return missing_.size(); }
  // Bytes per second, once a window of progress has closed.
  std::optional<double> throughput(HolderId holder) const;
  std::size_t ranges_in_flight(HolderId holder) const;

 private:
  struct Holder {
    std::vector<std::uint64_t> ranges;
    std::optional<double> rate;  // bytes per second
    Instant window_start;
    std::uint64_t window_bytes = 0;
    Instant last_progress;
  };

  RangePlan(std::uint64_t content_size, const PlanOptions& options);
  std::uint64_t range_of(std::uint64_t group) const { return group / groups_per_range_; }
  std::uint64_t first_group(std::uint64_t range) const { return range * groups_per_range_; }
  std::uint64_t end_group(std::uint64_t range) const;
  content::ByteRange missing_bytes(std::uint64_t range) const;
  std::optional<std::uint64_t> next_queued_range();
  std::optional<std::uint64_t> range_to_steal(HolderId thief, const Holder& holder, Instant now) const;
  double effective_rate(const Holder& holder, Instant now) const;
  void complete_group(std::uint64_t group, std::optional<HolderId> deliverer);
  void release(HolderId holder, Holder& state, std::uint64_t range);

  std::uint64_t content_size_;
  PlanOptions options_;
  std::uint64_t group_count_;
  std::uint64_t groups_per_range_;
  std::vector<std::uint64_t> completed_;  // bitmap, one bit per group
  std::uint64_t groups_completed_ = 0;
  std::vector<std::uint32_t> missing_;     // per range: groups not completed
  std::uint64_t next_fresh_range_ = 0;     // ranges below were handed out at least once
  std::set<std::uint64_t> requeued_;       // ranges handed out and come back incomplete
  std::map<std::uint64_t, std::vector<HolderId>> in_flight_;  // range -> its holders
  std::map<HolderId, Holder> holders_;
  std::deque<Assignment> cancelled_;
};

}  // namespace taho::blob
