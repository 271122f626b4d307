// Helpers shared by the AutoNAT tests (only *_test.cpp files include it).
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"

namespace taho::autonat::testing {

inline Multiaddr address(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : Multiaddr{};
}

// A peer id from a made-up Ed25519 key: nothing here verifies signatures.
inline PeerId peer(std::uint8_t fill) {
  std::array<std::uint8_t, 32> key{};
  key.fill(fill);
  return PeerId::from_ed25519(key);
}

}  // namespace taho::autonat::testing
