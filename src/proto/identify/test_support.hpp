// Helpers shared by the identify tests (not part of the library: only
// *_test.cpp files include it).
#pragma once

#include <gtest/gtest.h>

#include <string_view>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "crypto/ed25519.hpp"

namespace taho::identify::testing {

inline Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes)) << text;
  return bytes;
}

inline Multiaddr address(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : Multiaddr{};
}

inline crypto::Ed25519KeyPair key_from_fill(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  auto pair = crypto::Ed25519KeyPair::from_seed(seed);
  EXPECT_TRUE(pair);
  return *pair;
}

}  // namespace taho::identify::testing
