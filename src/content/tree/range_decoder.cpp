#include "content/tree/range_decoder.hpp"

#include <algorithm>

namespace taho::content {
namespace blake3 = crypto::blake3;

RangeDecoder::RangeDecoder(const Hash& root, ByteRange range) : root_(root), range_(range) {}

Expected<void, ProofError> RangeDecoder::fail(ProofError error) {
  failure_ = error;
  pending_.clear();
  partial_.clear();
  return unexpected(std::move(error));
}

std::size_t RangeDecoder::item_bytes() const {
  if (!size_) return kSizeTrailerBytes;
  const TreeNode& node = pending_.back().node;
  return node.is_leaf() ? static_cast<std::size_t>(group_length(*size_, node.first_group)) : kPairBytes;
}

void RangeDecoder::push_if_wanted(const TreeNode& node, const Hash& expected) {
  const std::uint64_t last_group = group_count(*size_) - 1;
  if (node.overlaps(groups_.first, groups_.end) || node.overlaps(last_group, last_group + 1)) {
    pending_.push_back({node, expected});
  }
}

Expected<void, ProofError> RangeDecoder::take_header(ByteView header) {
  std::uint64_t size = 0;
  for (int i = 7; i >= 0; --i) size = (size << 8) | header[static_cast<std::size_t>(i)];
  auto groups = groups_of(range_, size);
  if (!groups) return fail(std::move(groups).error());
  size_ = size;
  groups_ = *groups;
  pending_.push_back({TreeNode::root(size), root_});
  return {};
}

Expected<void, ProofError> RangeDecoder::take_item(ByteView item) {
  if (!size_) return take_header(item);
  const Pending current = pending_.back();
  pending_.pop_back();
  const TreeNode& node = current.node;
  if (node.is_leaf()) {
    const Hash actual = node.is_root ? blake3::subtree_chaining_value(item, 0, true)
                                     : group_chaining_value(item, node.first_group);
    if (actual != current.expected) {
      return fail({ProofErrc::hash_mismatch, "group " + std::to_string(node.first_group) +
                                                 " does not match its hash in the tree"});
    }
    verified_.push_back({node.first_group, node.first_group * kGroupBytes, Bytes(item.begin(), item.end()), actual});
    return {};
  }
  Hash left{};
  Hash right{};
  std::copy(item.begin(), item.begin() + 32, left.begin());
  std::copy(item.begin() + 32, item.end(), right.begin());
  if (blake3::parent_chaining_value(left, right, node.is_root) != current.expected) {
    return fail({ProofErrc::hash_mismatch, node.is_root ? "proof does not match the root hash"
                                                        : "proof node does not match its parent"});
  }
  push_if_wanted(node.right(), right);
  push_if_wanted(node.left(), left);
  return {};
}

Expected<void, ProofError> RangeDecoder::feed(ByteView bytes) {
  if (failure_) return unexpected(*failure_);
  for (;;) {
    if (done()) {
      if (bytes.empty()) return {};
      return fail({ProofErrc::trailing_bytes, "bytes after the end of the range encoding"});
    }
    const std::size_t need = item_bytes() - partial_.size();
    // An empty item (the empty content's only group) completes without input.
    if (need > 0 && bytes.empty()) return {};
    const std::size_t take = std::min(need, bytes.size());
    if (partial_.empty() && take == item_bytes()) {
      // Whole item in the input: verify in place, no copy.
      auto taken = take_item(bytes.first(take));
      if (!taken) return taken;
    } else {
      partial_.insert(partial_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
      if (partial_.size() == item_bytes()) {
        const Bytes item = std::exchange(partial_, {});
        auto taken = take_item(item);
        if (!taken) return taken;
      }
    }
    bytes = bytes.subspan(take);
  }
}

Expected<void, ProofError> RangeDecoder::finish() const {
  if (failure_) return unexpected(*failure_);
  if (!done()) return unexpected(ProofError{ProofErrc::truncated, "range encoding ended early"});
  return {};
}

std::optional<VerifiedGroup> RangeDecoder::poll_group() {
  if (verified_.empty()) return std::nullopt;
  VerifiedGroup group = std::move(verified_.front());
  verified_.pop_front();
  return group;
}

}  // namespace taho::content
