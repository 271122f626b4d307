// The Kademlia keyspace of libp2p (kad-dht/README.md "Distance"): a peer id
// or a record key maps to SHA-256 of its bytes; the distance of two points
// is their XOR, compared as a 256-bit big-endian integer.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::kad {

inline constexpr std::size_t key_bits = 256;
using KeyspacePoint = std::array<std::uint8_t, 32>;
using Distance = std::array<std::uint8_t, 32>;  // ordered with operator<

KeyspacePoint keyspace_point(ByteView key);
inline KeyspacePoint keyspace_point(const PeerId& peer) { return keyspace_point(peer.bytes()); }

Distance distance(const KeyspacePoint& a, const KeyspacePoint& b);
// Leading bits a and b share (256 when equal).
std::size_t common_prefix_length(const KeyspacePoint& a, const KeyspacePoint& b);
// A random point sharing exactly `prefix_bits` (< 256) leading bits with `base`.
KeyspacePoint random_point_with_prefix(const KeyspacePoint& base, std::size_t prefix_bits, Rng& rng);

}  // namespace taho::kad
