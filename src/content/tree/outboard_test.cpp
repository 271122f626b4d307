#include "content/tree/outboard.hpp"

#include <gtest/gtest.h>

#include <random>

namespace taho::content {
namespace {

Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
  return out;
}

const std::uint64_t kSizes[] = {0, 1, 1023, 1024, 16383, 16384, 16385, 32768, 49153, 65536 * 3 + 5, (1 << 20) + 1};

TEST(TreeShape, CountsGroupsAndOutboardBytes) {
  EXPECT_EQ(group_count(0), 1u);
  EXPECT_EQ(group_count(16384), 1u);
  EXPECT_EQ(group_count(16385), 2u);
  EXPECT_EQ(group_length(16385, 1), 1u);
  EXPECT_EQ(outboard_bytes(0), 8u);
  EXPECT_EQ(outboard_bytes(16385), 64u + 8u);
  EXPECT_EQ(outboard_bytes(std::uint64_t{1} << 30), 65535u * 64u + 8u);
}

// Post-order indices of all parents are exactly 0..groups-2, each once.
TEST(TreeShape, PostOrderIndicesAreAPermutation) {
  for (std::uint64_t groups = 2; groups < 70; ++groups) {
    std::vector<int> seen(groups - 1, 0);
    std::vector<TreeNode> pending{TreeNode{0, groups, 0, true}};
    while (!pending.empty()) {
      const TreeNode node = pending.back();
      pending.pop_back();
      if (node.is_leaf()) continue;
      ASSERT_LT(node.post_order_index(), groups - 1);
      ++seen[node.post_order_index()];
      pending.push_back(node.left());
      pending.push_back(node.right());
    }
    for (const int count : seen) EXPECT_EQ(count, 1) << groups;
  }
}

TEST(Outboard, RootIsTheBlake3Hash) {
  for (const auto size : kSizes) {
    SCOPED_TRACE(size);
    const auto content = random_bytes(size, static_cast<std::uint32_t>(size));
    const auto outboard = compute_outboard(content);
    EXPECT_EQ(outboard.root, crypto::blake3::hash(content));
    EXPECT_EQ(outboard.bytes.size(), outboard_bytes(size));
    EXPECT_EQ(outboard_recorded_size(outboard.bytes), size);
    EXPECT_TRUE(OutboardView::open(outboard.bytes, size));
  }
}

// Each stored pair joins into the chaining value its parent stores.
TEST(Outboard, PairsAreTheTreeNodes) {
  const std::uint64_t size = 16384 * 11 + 100;
  const auto content = random_bytes(size, 5);
  const auto outboard = compute_outboard(content);
  auto view = OutboardView::open(outboard.bytes, size);
  ASSERT_TRUE(view);
  // Recursively: the value a node should have, checked against its pair.
  std::vector<std::pair<TreeNode, Hash>> pending{{TreeNode::root(size), outboard.root}};
  while (!pending.empty()) {
    const auto [node, expected] = pending.back();
    pending.pop_back();
    if (node.is_leaf()) {
      const auto group = ByteView(content).subspan(node.first_group * kGroupBytes,
                                                   group_length(size, node.first_group));
      EXPECT_EQ(group_chaining_value(group, node.first_group), expected);
      continue;
    }
    const auto [left, right] = view->children(node);
    EXPECT_EQ(crypto::blake3::parent_chaining_value(left, right, node.is_root), expected);
    pending.push_back({node.left(), left});
    pending.push_back({node.right(), right});
  }
}

TEST(Outboard, StreamingHasherMatchesWholeInput) {
  std::mt19937 rng(7);
  for (const auto size : kSizes) {
    SCOPED_TRACE(size);
    const auto content = random_bytes(size, static_cast<std::uint32_t>(size) + 1);
    TreeHasher hasher;
    Bytes streamed;
    std::size_t offset = 0;
    while (offset < content.size()) {
      const std::size_t piece = std::min<std::size_t>(rng() % 40000, content.size() - offset);
      hasher.update(ByteView(content).subspan(offset, piece));
      append(streamed, hasher.take_outboard());
      offset += piece;
    }
    const auto root = hasher.finish();
    append(streamed, hasher.take_outboard());
    const auto expected = compute_outboard(content);
    EXPECT_EQ(root, expected.root);
    EXPECT_EQ(streamed, expected.bytes);
    EXPECT_EQ(hasher.size(), size);
  }
}

TEST(Outboard, OpenRefusesMismatchedOutboards) {
  const auto content = random_bytes(40000, 3);
  auto outboard = compute_outboard(content).bytes;
  EXPECT_EQ(OutboardView::open(outboard, 39999).error().code, ProofErrc::bad_outboard);
  EXPECT_EQ(OutboardView::open(outboard, 60000).error().code, ProofErrc::bad_outboard);
  EXPECT_EQ(OutboardView::open(ByteView(outboard).first(outboard.size() - 1), 40000).error().code,
            ProofErrc::bad_outboard);
  EXPECT_EQ(OutboardView::open({}, 0).error().code, ProofErrc::bad_outboard);
  EXPECT_EQ(OutboardView::open(outboard, kContentBytesMax + 1).error().code, ProofErrc::too_large);
}

}  // namespace
}  // namespace taho::content
