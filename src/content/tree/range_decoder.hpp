// Incremental verification of a received range encoding (range_encoding.hpp)
// against the root hash. Every group is checked before it is handed out, and
// there is no way to get unverified bytes: this is the only decoder.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "base/bytes.hpp"
#include "content/tree/outboard.hpp"
#include "content/tree/proof_error.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::content {

struct VerifiedGroup {
  std::uint64_t index = 0;
  std::uint64_t offset = 0;  // index * 16 KiB
  Bytes bytes;
  // What verification computed from `bytes` and matched against the tree:
  // the group's chaining value (group_chaining_value), or the root hash
  // when the group is the whole content. A store builds the outboard from
  // these instead of hashing the content again (content/store/partial.hpp).
  Hash chaining_value{};
};

class RangeDecoder {
 public:
  // `range` must be the one the sender encoded.
  RangeDecoder(const Hash& root, ByteRange range);

  // Consumes all of `bytes`. Memory is bounded by what is fed: at most one
  // partial group is buffered, verified groups wait in poll_group().
  // After an error the decoder stays failed.
  Expected<void, ProofError> feed(ByteView bytes);
  // Call at the end of the stream: fails if the encoding is incomplete.
  Expected<void, ProofError> finish() const;

  std::optional<VerifiedGroup> poll_group();
  bool done() const { return size_.has_value() && pending_.empty() && !failure_; }
  // The size the sender claims; verified once done() (the last group proves it).
  std::optional<std::uint64_t> size() const { return size_; }

 private:
  struct Pending {
    TreeNode node;
    Hash expected;
  };
  std::size_t item_bytes() const;
  Expected<void, ProofError> take_item(ByteView item);
  Expected<void, ProofError> take_header(ByteView header);
  Expected<void, ProofError> fail(ProofError error);
  void push_if_wanted(const TreeNode& node, const Hash& expected);

  Hash root_;
  ByteRange range_;
  std::optional<std::uint64_t> size_;
  GroupRange groups_;
  std::vector<Pending> pending_;  // pre-order: the next item is at the back
  Bytes partial_;                 // bytes of the item being received
  std::deque<VerifiedGroup> verified_;
  std::optional<ProofError> failure_;
};

}  // namespace taho::content
