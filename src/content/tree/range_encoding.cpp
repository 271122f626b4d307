#include "content/tree/range_encoding.hpp"

#include <algorithm>
#include <vector>

namespace taho::content {
namespace {

bool wanted(const TreeNode& node, GroupRange groups, std::uint64_t last_group) {
  return node.overlaps(groups.first, groups.end) || node.overlaps(last_group, last_group + 1);
}

// Pre-order walk over the wanted part of the tree, with an explicit stack
// (depth is at most 64, so at most 64 pending right siblings).
template <class Visit>
void walk(std::uint64_t size, GroupRange groups, Visit&& visit) {
  const std::uint64_t last_group = group_count(size) - 1;
  std::vector<TreeNode> pending{TreeNode::root(size)};
  while (!pending.empty()) {
    const TreeNode node = pending.back();
    pending.pop_back();
    visit(node);
    if (node.is_leaf()) continue;
    if (wanted(node.right(), groups, last_group)) pending.push_back(node.right());
    if (wanted(node.left(), groups, last_group)) pending.push_back(node.left());
  }
}

}  // namespace

Expected<GroupRange, ProofError> groups_of(ByteRange range, std::uint64_t content_size) {
  if (content_size > kContentBytesMax) {
    return unexpected(ProofError{ProofErrc::too_large, "content size above the 1 PiB limit"});
  }
  if (range.offset % kGroupBytes != 0) {
    return unexpected(ProofError{ProofErrc::bad_range, "range offset " + std::to_string(range.offset) +
                                                           " is not a multiple of 16 KiB"});
  }
  if (range.offset >= content_size || range.length == 0) return GroupRange{0, 0};
  const std::uint64_t end = std::min(content_size, range.offset + std::min(range.length, content_size));
  return GroupRange{range.offset / kGroupBytes, (end + kGroupBytes - 1) / kGroupBytes};
}

Expected<std::uint64_t, ProofError> encoded_range_bytes(ByteRange range, std::uint64_t content_size) {
  auto groups = groups_of(range, content_size);
  if (!groups) return unexpected(std::move(groups).error());
  std::uint64_t total = kSizeTrailerBytes;
  walk(content_size, *groups, [&](const TreeNode& node) {
    total += node.is_leaf() ? group_length(content_size, node.first_group) : kPairBytes;
  });
  return total;
}

Expected<RangeLayout, ProofError> lay_out_range(const OutboardView& outboard, ByteRange range) {
  const std::uint64_t size = outboard.content_size();
  auto total = encoded_range_bytes(range, size);
  if (!total) return unexpected(std::move(total).error());
  const GroupRange groups = *groups_of(range, size);

  RangeLayout layout;
  layout.encoded.resize(*total);
  std::uint8_t* out = layout.encoded.data();
  std::uint64_t at = 0;
  for (int i = 0; i < 8; ++i) out[at++] = static_cast<std::uint8_t>(size >> (8 * i));
  walk(size, groups, [&](const TreeNode& node) {
    if (node.is_leaf()) {
      const std::uint64_t length = group_length(size, node.first_group);
      layout.groups.push_back(GroupSlot{node.first_group * kGroupBytes, at, length});
      at += length;
    } else {
      const auto [left, right] = outboard.children(node);
      std::copy(left.begin(), left.end(), out + at);
      std::copy(right.begin(), right.end(), out + at + left.size());
      at += left.size() + right.size();
    }
  });
  return layout;
}

Expected<Bytes, ProofError> encode_range(ByteView content, const OutboardView& outboard, ByteRange range) {
  if (content.size() != outboard.content_size()) {
    return unexpected(ProofError{ProofErrc::bad_outboard, "content and outboard sizes differ"});
  }
  auto layout = lay_out_range(outboard, range);
  if (!layout) return unexpected(std::move(layout).error());
  for (const GroupSlot& slot : layout->groups) {
    const auto bytes = content.subspan(slot.content_offset, slot.length);
    std::copy(bytes.begin(), bytes.end(), layout->encoded.begin() + static_cast<std::ptrdiff_t>(slot.encoded_offset));
  }
  return std::move(layout->encoded);
}

}  // namespace taho::content
