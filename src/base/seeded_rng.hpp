// A deterministic Rng for simulations and tests: the same seed gives the same
// bytes, so a failing run replays exactly (STYLE.md principle 12). Not for
// keys a real node uses: drivers hand cores an OS-entropy Rng for that.
#pragma once

#include <cstdint>

#include "base/time.hpp"

namespace taho {

class SeededRng final : public Rng {
 public:
  explicit SeededRng(std::uint64_t seed) : state_(seed ^ 0x9e3779b97f4a7c15ull) {}

  void fill(std::span<std::uint8_t> out) override {
    for (std::size_t i = 0; i < out.size(); i += 8) {
      std::uint64_t word = next();
      for (std::size_t j = 0; j < 8 && i + j < out.size(); ++j) {
        out[i + j] = static_cast<std::uint8_t>(word >> (8 * j));
      }
    }
  }

 private:
  // splitmix64: tiny, fast, and good enough for reproducible test input.
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

}  // namespace taho
