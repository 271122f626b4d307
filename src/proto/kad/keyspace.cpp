#include "proto/kad/keyspace.hpp"

#include <bit>

#include "crypto/sha256.hpp"

namespace taho::kad {

KeyspacePoint keyspace_point(ByteView key) { return crypto::sha256(key); }

Distance distance(const KeyspacePoint& a, const KeyspacePoint& b) {
  Distance d{};
  for (std::size_t i = 0; i < d.size(); ++i) d[i] = a[i] ^ b[i];
  return d;
}

std::size_t common_prefix_length(const KeyspacePoint& a, const KeyspacePoint& b) {
  for (std::size_t i = 0; i < a.size(); ++i) {
    const std::uint8_t differ = a[i] ^ b[i];
    if (differ != 0) return i * 8 + static_cast<std::size_t>(std::countl_zero(differ));
  }
  return key_bits;
}

KeyspacePoint random_point_with_prefix(const KeyspacePoint& base, std::size_t prefix_bits, Rng& rng) {
  KeyspacePoint point{};
  rng.fill(point);
  for (std::size_t bit = 0; bit <= prefix_bits && bit < key_bits; ++bit) {
    const std::size_t byte = bit / 8;
    const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    // The shared prefix copies base; the bit right after it is flipped.
    const bool base_bit = (base[byte] & mask) != 0;
    const bool wanted = bit < prefix_bits ? base_bit : !base_bit;
    point[byte] = static_cast<std::uint8_t>(wanted ? (point[byte] | mask) : (point[byte] & ~mask));
  }
  return point;
}

}  // namespace taho::kad
