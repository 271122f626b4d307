// Time and randomness are injected (DESIGN.md §1): cores receive `now` as a
// value and draw randomness from an Rng they are handed, never from the OS.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>

namespace taho {

// Monotonic time as seen by a core. Drivers convert from their clock.
using Duration = std::chrono::nanoseconds;
struct Instant {
  Duration since_start{0};
  auto operator<=>(const Instant&) const = default;
  Instant operator+(Duration d) const { return {since_start + d}; }
  Duration operator-(Instant other) const { return since_start - other.since_start; }
};

// Source of randomness a driver provides (OS entropy natively, a seeded
// generator in simulations so a run replays from its seed).
class Rng {
 public:
  virtual ~Rng() = default;
  virtual void fill(std::span<std::uint8_t> out) = 0;
  std::uint64_t next_u64() {
    std::uint64_t v = 0;
    fill({reinterpret_cast<std::uint8_t*>(&v), sizeof v});
    return v;
  }
};

}  // namespace taho
