// The shape of the content tree: BLAKE3's left-heavy binary tree seen at the
// granularity of 16 KiB chunk groups (16 BLAKE3 chunks). A group is a leaf;
// every parent above the groups is a node whose two child chaining values
// the outboard stores (docs/design/outboard.md).
#pragma once

#include <cstdint>

namespace taho::content {

inline constexpr std::uint64_t kChunkBytes = 1024;
inline constexpr std::uint64_t kChunksPerGroup = 16;
inline constexpr std::uint64_t kGroupBytes = kChunkBytes * kChunksPerGroup;  // 16 KiB
inline constexpr std::uint64_t kPairBytes = 64;          // left and right chaining values
inline constexpr std::uint64_t kSizeTrailerBytes = 8;    // content size, little endian
// 1 PiB: keeps chunk counters, offsets and tree depth (< 64) far from overflow.
inline constexpr std::uint64_t kContentBytesMax = std::uint64_t{1} << 50;

// Groups of content of `size` bytes; the empty content has one empty group.
constexpr std::uint64_t group_count(std::uint64_t size) {
  return size == 0 ? 1 : (size + kGroupBytes - 1) / kGroupBytes;
}

// Bytes of group `index` (every group is full but the last).
constexpr std::uint64_t group_length(std::uint64_t size, std::uint64_t index) {
  const std::uint64_t start = index * kGroupBytes;
  return size - start < kGroupBytes ? size - start : kGroupBytes;
}

// The outboard: one pair per parent node (groups - 1 of them) plus the size trailer.
constexpr std::uint64_t outboard_bytes(std::uint64_t size) {
  return (group_count(size) - 1) * kPairBytes + kSizeTrailerBytes;
}

// A subtree, as found by walking down from the root. `right_turns` counts the
// steps to a right child on the way; it locates the node in post-order.
struct TreeNode {
  std::uint64_t first_group = 0;
  std::uint64_t groups = 1;
  std::uint64_t right_turns = 0;
  bool is_root = true;

  static TreeNode root(std::uint64_t size) { return {0, group_count(size), 0, true}; }

  bool is_leaf() const { return groups == 1; }
  std::uint64_t end_group() const { return first_group + groups; }
  // BLAKE3's rule: the left subtree holds the largest power of two of groups
  // smaller than the whole (valid for groups because 16 is a power of two).
  std::uint64_t left_groups() const {
    std::uint64_t left = 1;
    while (left * 2 < groups) left *= 2;
    return left;
  }
  TreeNode left() const { return {first_group, left_groups(), right_turns, false}; }
  TreeNode right() const {
    return {first_group + left_groups(), groups - left_groups(), right_turns + 1, false};
  }
  // Index of this parent's pair in the post-order outboard: the parents that
  // end no later than this one are those inside [0, end); the subtrees that
  // tile [0, end) are this one and one left sibling per right turn.
  std::uint64_t post_order_index() const { return end_group() - right_turns - 2; }
  bool overlaps(std::uint64_t begin, std::uint64_t end) const {
    return first_group < end && begin < end_group();
  }
};

}  // namespace taho::content
