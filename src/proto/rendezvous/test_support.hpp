// Helpers shared by the rendezvous tests (not part of the library: only
// *_test.cpp files include it).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"
#include "proto/identify/peer_record.hpp"

namespace taho::rendezvous::testing {

inline Multiaddr address(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  EXPECT_TRUE(parsed) << text;
  return parsed ? *parsed : Multiaddr{};
}

// A node's identity for tests: its key, peer id and signed peer record.
struct TestPeer {
  crypto::Ed25519KeyPair key;
  PeerId id;
  std::vector<Multiaddr> addrs;
  Bytes record;  // encoded Envelope holding its PeerRecord

  static TestPeer make(std::uint8_t fill, std::uint64_t seq = 1) {
    crypto::Ed25519Seed seed{};
    seed.fill(fill);
    auto key = crypto::Ed25519KeyPair::from_seed(seed);
    EXPECT_TRUE(key);
    const std::vector<Multiaddr> addrs = {address("/ip4/10.0.0." + std::to_string(fill) + "/tcp/4001"),
                                          address("/ip6/::1/udp/4001/quic-v1")};
    PeerId id = PeerId::from_ed25519(key->public_key());
    Bytes record = identify::seal_peer_record(*key, seq, addrs);
    return TestPeer{std::move(*key), std::move(id), addrs, std::move(record)};
  }
};

}  // namespace taho::rendezvous::testing
