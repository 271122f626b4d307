// The Rng a real node hands its cores: the OS's cryptographic generator.
#pragma once

#include "base/time.hpp"
#include "crypto/ed25519.hpp"

namespace taho::crypto {

class OsRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override { os_random(out); }
};

}  // namespace taho::crypto
