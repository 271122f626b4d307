// A deterministic simulated message network (DESIGN.md §1 drivers, STYLE.md
// principle 12): many nodes in one process, addressed by index, exchanging
// opaque byte payloads over links with latency, jitter, loss and bandwidth,
// on a virtual clock, with partitions that start and heal at given times.
// Everything random comes from one generator seeded at construction, and
// events at the same instant run in the order they were scheduled, so a
// seed replays the same run exactly.
//
// Portable like the cores: no threads, no wall clock, no exceptions. The
// harness drives it: send() and wake_at() schedule, step() hands back the
// next event and moves the clock to it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/seeded_rng.hpp"
#include "base/time.hpp"

namespace taho::sim {

using NodeIndex = std::uint32_t;

struct LinkProfile {
  Duration latency = std::chrono::milliseconds(20);  // one way
  Duration jitter{0};                                 // extra delay, uniform in [0, jitter]
  double loss = 0;                                    // probability a payload is lost, [0, 1]
  std::uint64_t bandwidth_bytes_per_second = 0;       // 0: unlimited; else payloads queue behind each other
  // Payloads arrive in the order they were sent, as on a stream; false lets
  // jitter reorder them, as datagrams.
  bool ordered = true;
};

// A payload arriving at `to`.
struct Delivery {
  NodeIndex from = 0;
  NodeIndex to = 0;
  Bytes payload;
};
// A timer the harness set with wake_at().
struct Wakeup {
  NodeIndex node = 0;
  std::uint64_t token = 0;
};
struct Event {
  Instant at;
  std::variant<Delivery, Wakeup> what;
};

struct NetworkStats {
  std::uint64_t sent = 0;
  std::uint64_t delivered = 0;
  std::uint64_t lost = 0;             // drawn against the link's loss
  std::uint64_t partitioned = 0;      // dropped at send or arrival because of a partition
  std::uint64_t refused = 0;          // bad node index, or the queue was full
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_delivered = 0;
};

struct NetworkLimits {
  std::size_t queued_events_max = 10'000'000;
};

class Network {
 public:
  Network(std::size_t node_count, std::uint64_t seed, LinkProfile default_link = {}, NetworkLimits limits = {});

  std::size_t node_count() const { return node_count_; }
  Instant now() const { return now_; }
  // The network's own seeded generator, for harnesses that want their
  // choices (topology, who publishes) to replay from the same seed.
  Rng& rng() { return rng_; }

  // The profile of the link from `from` to `to` (one direction).
  void set_link(NodeIndex from, NodeIndex to, const LinkProfile& profile);
  void set_link_both_ways(NodeIndex a, NodeIndex b, const LinkProfile& profile);
  void set_default_link(const LinkProfile& profile) { default_link_ = profile; }
  const LinkProfile& link(NodeIndex from, NodeIndex to) const;

  // Sends now; false if the payload will never arrive (lost, partitioned,
  // bad index, queue full). A partition starting while it is in flight
  // drops it too.
  bool send(NodeIndex from, NodeIndex to, Bytes payload);
  // A Wakeup for `node` at `at` (or now, if `at` is past).
  void wake_at(NodeIndex node, Instant at, std::uint64_t token = 0);

  // From `at`, nodes in different groups cannot reach each other; nodes in
  // no group form one more group. A later partition replaces the earlier.
  void partition_at(Instant at, std::vector<std::vector<NodeIndex>> groups);
  // From `at`, every node reaches every other again.
  void heal_at(Instant at);
  bool reachable(NodeIndex from, NodeIndex to) const;

  // The time of the next event, if any is queued.
  std::optional<Instant> next_event_time() const;
  // The next event due at or before `until`, with the clock moved to it;
  // nullopt when none is, with the clock moved to `until`.
  std::optional<Event> step(Instant until);

  const NetworkStats& stats() const { return stats_; }
  std::size_t queued_events() const { return queue_.size(); }

 private:
  struct Partition {
    std::vector<std::uint32_t> groups;  // per node; empty = healed
  };
  using Payload = std::variant<Delivery, Wakeup, Partition>;
  // The heap holds small entries; payloads wait in slots, so reordering
  // the heap never moves their bytes.
  struct Queued {
    Instant at;
    std::uint64_t sequence;  // ties at one instant run in scheduling order
    std::size_t slot;
  };
  struct LaterFirst {
    bool operator()(const Queued& a, const Queued& b) const {
      return a.at != b.at ? a.at > b.at : a.sequence > b.sequence;
    }
  };
  struct LinkState {
    Instant busy_until;    // bandwidth: when the link finishes sending what is queued
    Instant last_arrival;  // ordered links: nothing arrives before this
  };

  static std::uint64_t link_key(NodeIndex from, NodeIndex to) { return (std::uint64_t{from} << 32) | to; }
  bool valid(NodeIndex node) const { return node < node_count_; }
  double uniform();  // [0, 1)
  void schedule(Instant at, Payload what);

  std::size_t node_count_;
  SeededRng rng_;
  LinkProfile default_link_;
  NetworkLimits limits_;
  Instant now_;
  std::uint64_t next_sequence_ = 0;
  std::vector<Queued> queue_;  // a heap under LaterFirst
  std::vector<Payload> slots_;
  std::vector<std::size_t> free_slots_;
  std::unordered_map<std::uint64_t, LinkProfile> links_;
  std::unordered_map<std::uint64_t, LinkState> link_states_;
  std::vector<std::uint32_t> group_of_;  // empty when there is no partition
  NetworkStats stats_;
};

}  // namespace taho::sim
