#include "content/tree/outboard.hpp"

#include <algorithm>
#include <cassert>

namespace taho::content {
namespace blake3 = crypto::blake3;

Hash group_chaining_value(ByteView group, std::uint64_t index) {
  return blake3::subtree_chaining_value(group, index * kChunksPerGroup, false);
}

void OutboardBuilder::push_pair(const Subtree& left, const Subtree& right) {
  output_.insert(output_.end(), left.chaining_value.begin(), left.chaining_value.end());
  output_.insert(output_.end(), right.chaining_value.begin(), right.chaining_value.end());
}

void OutboardBuilder::add_group(const Hash& chaining_value) {
  stack_.push_back({chaining_value, 1});
  ++groups_added_;
  // Two neighbouring subtrees of equal size form a complete one. It cannot be
  // the root: the last group is still to come.
  while (stack_.size() >= 2 && stack_[stack_.size() - 2].groups == stack_.back().groups) {
    const Subtree right = stack_.back();
    stack_.pop_back();
    Subtree& left = stack_.back();
    push_pair(left, right);
    left = {blake3::parent_chaining_value(left.chaining_value, right.chaining_value, false),
            left.groups + right.groups};
  }
}

Hash OutboardBuilder::finish(ByteView last_group) {
  assert(last_group.size() <= kGroupBytes && (stack_.empty() || !last_group.empty()));
  const std::uint64_t size = groups_added_ * kGroupBytes + last_group.size();
  Hash root{};
  if (stack_.empty()) {
    root = blake3::subtree_chaining_value(last_group, 0, true);
  } else {
    stack_.push_back({group_chaining_value(last_group, groups_added_), 1});
    // The right edge of the tree closes from the bottom up; the last join is the root.
    while (stack_.size() >= 2) {
      const Subtree right = stack_.back();
      stack_.pop_back();
      Subtree& left = stack_.back();
      push_pair(left, right);
      const bool is_root = stack_.size() == 1;
      left = {blake3::parent_chaining_value(left.chaining_value, right.chaining_value, is_root),
              left.groups + right.groups};
    }
    root = stack_.back().chaining_value;
    stack_.clear();
  }
  for (int i = 0; i < 8; ++i) output_.push_back(static_cast<std::uint8_t>(size >> (8 * i)));
  return root;
}

void TreeHasher::update(ByteView bytes) {
  size_ += bytes.size();
  while (!bytes.empty()) {
    if (group_.size() == kGroupBytes) {
      // More bytes follow, so the pending group is not the last one.
      builder_.add_group(group_chaining_value(group_, builder_.groups_added()));
      group_.clear();
    }
    const std::size_t take = std::min<std::size_t>(bytes.size(), kGroupBytes - group_.size());
    group_.insert(group_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    bytes = bytes.subspan(take);
  }
}

Hash TreeHasher::finish() {
  const auto root = builder_.finish(group_);
  group_.clear();
  return root;
}

Outboard compute_outboard(ByteView content) {
  OutboardBuilder builder;
  const std::uint64_t groups = group_count(content.size());
  for (std::uint64_t i = 0; i + 1 < groups; ++i) {
    builder.add_group(group_chaining_value(content.subspan(i * kGroupBytes, kGroupBytes), i));
  }
  Outboard result;
  result.root = builder.finish(content.subspan((groups - 1) * kGroupBytes));
  result.bytes = builder.take_output();
  return result;
}

std::optional<std::uint64_t> outboard_recorded_size(ByteView outboard) {
  if (outboard.size() < kSizeTrailerBytes) return std::nullopt;
  std::uint64_t size = 0;
  const auto trailer = outboard.last(kSizeTrailerBytes);
  for (int i = 7; i >= 0; --i) size = (size << 8) | trailer[static_cast<std::size_t>(i)];
  return size;
}

Expected<OutboardView, ProofError> OutboardView::open(ByteView outboard, std::uint64_t content_size) {
  if (content_size > kContentBytesMax) {
    return unexpected(ProofError{ProofErrc::too_large, "content size above the 1 PiB limit"});
  }
  if (outboard.size() != outboard_bytes(content_size)) {
    return unexpected(ProofError{ProofErrc::bad_outboard, "outboard has " + std::to_string(outboard.size()) +
                                                               " bytes, content of " + std::to_string(content_size) +
                                                               " bytes needs " +
                                                               std::to_string(outboard_bytes(content_size))});
  }
  if (outboard_recorded_size(outboard) != content_size) {
    return unexpected(ProofError{ProofErrc::bad_outboard, "outboard records another content size"});
  }
  return OutboardView(outboard, content_size);
}

std::pair<Hash, Hash> OutboardView::children(const TreeNode& parent) const {
  assert(!parent.is_leaf());
  const auto pair = bytes_.subspan(parent.post_order_index() * kPairBytes, kPairBytes);
  std::pair<Hash, Hash> out;
  std::copy(pair.begin(), pair.begin() + 32, out.first.begin());
  std::copy(pair.begin() + 32, pair.end(), out.second.begin());
  return out;
}

}  // namespace taho::content
