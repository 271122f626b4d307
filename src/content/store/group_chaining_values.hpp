// The chaining values of a partial download's groups, kept in memory as
// verification computed them (VerifiedGroup::chaining_value), so that
// committing builds the outboard and checks the root from them instead of
// hashing the whole content again (partial.hpp says when that is safe).
//
// Every group but the content's last has a slot: the last group is hashed
// from its bytes at commit, which also covers content of a single group
// (whose only hash is the root). Content above kContentBytesMax (below) keeps
// no values at all: its commit hashes everything, as a resumed partial's
// groups are hashed.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "content/tree/outboard.hpp"

namespace taho::content {

class GroupChainingValues {
 public:
  // 32 MiB of values at most (a million groups, 16 GiB of content): the
  // memory a fetch may hold for them.
  static constexpr std::uint64_t kContentBytesMax = std::uint64_t{16} << 30;

  explicit GroupChainingValues(std::uint64_t content_size);

  // Groups with a slot: every group but the last (0 above kContentBytesMax).
  std::uint64_t slots() const { return values_.size(); }
  void set(std::uint64_t group, const Hash& value);  // ignored for a group without a slot
  bool has(std::uint64_t group) const { return group < known_.size() && known_[group]; }
  const Hash& at(std::uint64_t group) const { return values_[group]; }  // has(group) must be true
  // Groups with a slot but no value yet: commit hashes them from the data.
  std::vector<std::uint64_t> missing() const;

 private:
  std::vector<Hash> values_;
  std::vector<bool> known_;
};

}  // namespace taho::content
