// Outboards: the parent nodes of the content tree, stored beside the content
// (docs/design/outboard.md). Layout: post-order pairs of child chaining
// values (64 bytes per parent node), then the content size as 8 bytes little
// endian. Post-order lets a writer append while hashing a stream of unknown
// length; readers find any node by its index (TreeNode::post_order_index).
#pragma once

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "base/bytes.hpp"
#include "content/tree/proof_error.hpp"
#include "content/tree/tree_shape.hpp"
#include "crypto/blake3.hpp"

namespace taho::content {

using Hash = crypto::blake3::Hash;

// Chaining value of group `index` when it is not the only group (the form the
// outboard's pairs hold). `group` is that group's bytes.
Hash group_chaining_value(ByteView group, std::uint64_t index);

// Builds the outboard from group chaining values given in order, so that the
// groups can be hashed anywhere (e.g. on several threads) first.
class OutboardBuilder {
 public:
  // Every group but the last, in order: its chaining value.
  void add_group(const Hash& chaining_value);
  // The last group's bytes (1..16 KiB, or 0..16 KiB if it is the only group):
  // closes the tree and returns the root, the content's BLAKE3 hash.
  Hash finish(ByteView last_group);

  std::uint64_t groups_added() const { return groups_added_; }
  // Outboard bytes produced so far, to append to the outboard file.
  Bytes take_output() { return std::exchange(output_, {}); }

 private:
  struct Subtree {
    Hash chaining_value;
    std::uint64_t groups;
  };
  void push_pair(const Subtree& left, const Subtree& right);
  std::vector<Subtree> stack_;  // at most one subtree per bit of the group count
  std::uint64_t groups_added_ = 0;
  Bytes output_;
};

// Hashes a byte stream into its root and outboard, single-threaded. A full
// group is hashed only once more bytes follow, because the last group is
// finished differently.
class TreeHasher {
 public:
  void update(ByteView bytes);
  Hash finish();
  std::uint64_t size() const { return size_; }
  Bytes take_outboard() { return builder_.take_output(); }

 private:
  OutboardBuilder builder_;
  Bytes group_;  // the pending group, at most kGroupBytes
  std::uint64_t size_ = 0;
};

struct Outboard {
  Hash root{};
  Bytes bytes;
};
// The root and the whole outboard of in-memory content.
Outboard compute_outboard(ByteView content);

// Read access to a stored outboard, checked against the content size.
class OutboardView {
 public:
  static Expected<OutboardView, ProofError> open(ByteView outboard, std::uint64_t content_size);

  std::uint64_t content_size() const { return content_size_; }
  // The two child chaining values of a parent node.
  std::pair<Hash, Hash> children(const TreeNode& parent) const;

 private:
  OutboardView(ByteView bytes, std::uint64_t size) : bytes_(bytes), content_size_(size) {}
  ByteView bytes_;
  std::uint64_t content_size_ = 0;
};

// Size recorded in an outboard's trailer, if the outboard is long enough to have one.
std::optional<std::uint64_t> outboard_recorded_size(ByteView outboard);

}  // namespace taho::content
