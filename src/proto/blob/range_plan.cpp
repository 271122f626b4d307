#include "proto/blob/range_plan.hpp"

#include <algorithm>
#include <limits>
#include <string>

#include "content/tree/tree_shape.hpp"
#include "proto/blob/server.hpp"

namespace taho::blob {
namespace {

constexpr std::uint64_t kWordBits = 64;

double seconds(Duration duration) { return std::chrono::duration<double>(duration).count(); }

}  // namespace

Expected<RangePlan, PlanError> RangePlan::create(std::uint64_t content_size, const PlanOptions& options) {
  if (content_size > plan_content_bytes_max) {
    return unexpected(PlanError{PlanErrc::too_large, "content of " + std::to_string(content_size) +
                                                         " bytes is above the 4 TiB a plan handles"});
  }
  if (options.range_bytes == 0 || options.range_bytes % content::kGroupBytes != 0 ||
      options.range_bytes > ServerOptions{}.range_bytes_max) {
    return unexpected(PlanError{PlanErrc::bad_options, "range_bytes must be a multiple of 16 KiB, at most 16 MiB"});
  }
  if (options.ranges_per_holder_max == 0 || options.copies_max == 0 || options.holders_max == 0) {
    return unexpected(PlanError{PlanErrc::bad_options, "ranges_per_holder_max, copies_max and holders_max must be positive"});
  }
  if (options.throughput_window <= Duration::zero() || options.stall_after <= Duration::zero() ||
      !(options.throughput_smoothing > 0 && options.throughput_smoothing <= 1) || !(options.steal_speedup >= 1)) {
    return unexpected(PlanError{PlanErrc::bad_options,
                                "throughput_window and stall_after must be positive, throughput_smoothing in (0, 1], "
                                "steal_speedup at least 1"});
  }
  return RangePlan(content_size, options);
}

RangePlan::RangePlan(std::uint64_t content_size, const PlanOptions& options)
    : content_size_(content_size),
      options_(options),
      group_count_(content::group_count(content_size)),
      groups_per_range_(options.range_bytes / content::kGroupBytes),
      completed_((group_count_ + kWordBits - 1) / kWordBits, 0) {
  const std::uint64_t ranges = (group_count_ + groups_per_range_ - 1) / groups_per_range_;
  missing_.resize(ranges);
  for (std::uint64_t range = 0; range < ranges; ++range) {
    missing_[range] = static_cast<std::uint32_t>(end_group(range) - first_group(range));
  }
}

std::uint64_t RangePlan::end_group(std::uint64_t range) const {
  return std::min(group_count_, first_group(range) + groups_per_range_);
}

bool RangePlan::is_completed(std::uint64_t group) const {
  return group < group_count_ && ((completed_[group / kWordBits] >> (group % kWordBits)) & 1) != 0;
}

Expected<void, PlanError> RangePlan::restore(ByteView completed_bitmap) {
  const std::uint64_t expected_bytes = (group_count_ + 7) / 8;
  if (completed_bitmap.size() != expected_bytes) {
    return unexpected(PlanError{PlanErrc::bad_bitmap, "bitmap of " + std::to_string(completed_bitmap.size()) +
                                                          " bytes, expected " + std::to_string(expected_bytes)});
  }
  const unsigned used_bits = static_cast<unsigned>(group_count_ % 8);
  if (used_bits != 0 && (completed_bitmap.back() >> used_bits) != 0) {
    return unexpected(PlanError{PlanErrc::bad_bitmap, "bitmap marks groups past the end of the content"});
  }
  for (std::uint64_t group = 0; group < group_count_; ++group) {
    if ((completed_bitmap[group / 8] >> (group % 8)) & 1) complete_group(group, std::nullopt);
  }
  return {};
}

Bytes RangePlan::completed_bitmap() const {
  Bytes out((group_count_ + 7) / 8, 0);
  for (std::uint64_t group = 0; group < group_count_; ++group) {
    if (is_completed(group)) out[group / 8] = static_cast<std::uint8_t>(out[group / 8] | (1u << (group % 8)));
  }
  return out;
}

Expected<void, PlanError> RangePlan::add_holder(HolderId holder, Instant now) {
  if (holders_.count(holder)) return {};
  if (holders_.size() >= options_.holders_max) {
    return unexpected(PlanError{PlanErrc::too_many_holders, "already " + std::to_string(holders_.size()) + " holders"});
  }
  Holder state;
  state.window_start = now;
  state.last_progress = now;
  holders_.emplace(holder, std::move(state));
  return {};
}

void RangePlan::drop_holder(HolderId holder) {
  auto found = holders_.find(holder);
  if (found == holders_.end()) return;
  const std::vector<std::uint64_t> ranges = found->second.ranges;
  for (const std::uint64_t range : ranges) release(holder, found->second, range);
  holders_.erase(found);
  std::erase_if(cancelled_, [&](const Assignment& cancelled) { return cancelled.holder == holder; });
}

void RangePlan::release(HolderId holder, Holder& state, std::uint64_t range) {
  std::erase(state.ranges, range);
  auto flight = in_flight_.find(range);
  if (flight == in_flight_.end()) return;
  std::erase(flight->second, holder);
  if (!flight->second.empty()) return;
  in_flight_.erase(flight);
  if (missing_[range] > 0) requeued_.insert(range);
}

bool RangePlan::finish_assignment(HolderId holder, std::uint64_t range_index) {
  auto found = holders_.find(holder);
  if (found == holders_.end()) return false;
  auto& ranges = found->second.ranges;
  if (std::find(ranges.begin(), ranges.end(), range_index) == ranges.end()) return false;
  release(holder, found->second, range_index);
  return true;
}

content::ByteRange RangePlan::missing_bytes(std::uint64_t range) const {
  std::uint64_t first = end_group(range);
  std::uint64_t last = first_group(range);
  for (std::uint64_t group = first_group(range); group < end_group(range); ++group) {
    if (is_completed(group)) continue;
    first = std::min(first, group);
    last = group;
  }
  const std::uint64_t offset = first * content::kGroupBytes;
  const std::uint64_t end = std::min(content_size_, (last + 1) * content::kGroupBytes);
  return {offset, end > offset ? end - offset : 0};
}

std::optional<std::uint64_t> RangePlan::next_queued_range() {
  // Requeued ranges whose groups all arrived meanwhile (or that someone took) are stale.
  while (!requeued_.empty()) {
    const std::uint64_t range = *requeued_.begin();
    if (missing_[range] > 0 && !in_flight_.count(range)) break;
    requeued_.erase(requeued_.begin());
  }
  while (next_fresh_range_ < missing_.size() && missing_[next_fresh_range_] == 0) ++next_fresh_range_;
  std::optional<std::uint64_t> best;
  if (!requeued_.empty()) best = *requeued_.begin();
  if (next_fresh_range_ < missing_.size() && (!best || next_fresh_range_ < *best)) best = next_fresh_range_;
  return best;
}

double RangePlan::effective_rate(const Holder& holder, Instant now) const {
  if (now - holder.last_progress >= options_.stall_after) return 0;
  return holder.rate.value_or(-1);  // -1: not measured yet
}

std::optional<std::uint64_t> RangePlan::range_to_steal(HolderId thief, const Holder& state, Instant now) const {
  const double thief_rate = state.rate.value_or(-1);
  std::optional<std::uint64_t> best;
  double best_seconds_left = -1;
  for (const auto& [range, owners] : in_flight_) {
    if (missing_[range] == 0 || owners.size() >= options_.copies_max) continue;
    if (std::find(owners.begin(), owners.end(), thief) != owners.end()) continue;
    double owners_rate = 0;  // the fastest owner's; stalled owners count 0
    bool unmeasured_owner = false;
    for (const HolderId owner : owners) {
      const double rate = effective_rate(holders_.at(owner), now);
      if (rate < 0) unmeasured_owner = true;
      owners_rate = std::max(owners_rate, rate);
    }
    // An owner still in its first window gets the benefit of the doubt.
    if (unmeasured_owner) continue;
    const bool owners_stalled = owners_rate == 0;
    if (!owners_stalled && !(thief_rate > owners_rate * options_.steal_speedup)) continue;
    const double bytes_left = static_cast<double>(missing_[range]) * static_cast<double>(content::kGroupBytes);
    const double seconds_left = owners_stalled ? std::numeric_limits<double>::infinity() : bytes_left / owners_rate;
    if (!best || seconds_left > best_seconds_left) {
      best = range;
      best_seconds_left = seconds_left;
    }
  }
  return best;
}

std::optional<Assignment> RangePlan::next_assignment(HolderId holder, Instant now) {
  auto found = holders_.find(holder);
  if (found == holders_.end()) return std::nullopt;
  Holder& state = found->second;
  if (state.ranges.size() >= options_.ranges_per_holder_max || done()) return std::nullopt;

  std::optional<std::uint64_t> range = next_queued_range();
  bool duplicate = false;
  if (!range) {
    // Only a holder with nothing to do steals: a busy one is not idle capacity.
    if (!state.ranges.empty()) return std::nullopt;
    range = range_to_steal(holder, state, now);
    if (!range) return std::nullopt;
    duplicate = true;
  } else if (*range == next_fresh_range_) {
    ++next_fresh_range_;
  } else {
    requeued_.erase(*range);
  }

  if (state.ranges.empty()) {
    // Idle time is not slowness: start a fresh throughput window.
    state.window_start = now;
    state.window_bytes = 0;
    state.last_progress = now;
  }
  state.ranges.push_back(*range);
  in_flight_[*range].push_back(holder);
  return Assignment{holder, *range, missing_bytes(*range), duplicate};
}

bool RangePlan::record_group(HolderId holder, std::uint64_t group) {
  if (group >= group_count_ || is_completed(group)) return false;
  complete_group(group, holder);
  return true;
}

void RangePlan::complete_group(std::uint64_t group, std::optional<HolderId> deliverer) {
  if (is_completed(group)) return;
  completed_[group / kWordBits] |= std::uint64_t{1} << (group % kWordBits);
  ++groups_completed_;
  const std::uint64_t range = range_of(group);
  if (--missing_[range] > 0) return;
  // The range is complete: whoever else works on it works in vain.
  auto flight = in_flight_.find(range);
  if (flight == in_flight_.end()) return;
  std::vector<HolderId> keep;
  for (const HolderId owner : flight->second) {
    if (deliverer && owner == *deliverer) {
      keep.push_back(owner);  // its stream ends by itself; it calls finish_assignment
      continue;
    }
    std::erase(holders_.at(owner).ranges, range);
    cancelled_.push_back(Assignment{owner, range, {}, false});
  }
  if (keep.empty()) {
    in_flight_.erase(flight);
  } else {
    flight->second = std::move(keep);
  }
}

void RangePlan::record_progress(HolderId holder, std::uint64_t bytes, Instant now) {
  auto found = holders_.find(holder);
  if (found == holders_.end() || bytes == 0) return;
  Holder& state = found->second;
  state.last_progress = now;
  state.window_bytes += bytes;
  const Duration elapsed = now - state.window_start;
  if (elapsed < options_.throughput_window) return;
  const double sample = static_cast<double>(state.window_bytes) / seconds(elapsed);
  state.rate = state.rate ? (1 - options_.throughput_smoothing) * *state.rate + options_.throughput_smoothing * sample
                          : sample;
  state.window_start = now;
  state.window_bytes = 0;
}

std::optional<Assignment> RangePlan::poll_cancelled() {
  if (cancelled_.empty()) return std::nullopt;
  Assignment cancelled = cancelled_.front();
  cancelled_.pop_front();
  return cancelled;
}

std::optional<double> RangePlan::throughput(HolderId holder) const {
  auto found = holders_.find(holder);
  if (found == holders_.end()) return std::nullopt;
  return found->second.rate;
}

std::size_t RangePlan::ranges_in_flight(HolderId holder) const {
  auto found = holders_.find(holder);
  return found == holders_.end() ? 0 : found->second.ranges.size();
}

}  // namespace taho::blob
