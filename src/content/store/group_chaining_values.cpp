#include "content/store/group_chaining_values.hpp"

namespace taho::content {

GroupChainingValues::GroupChainingValues(std::uint64_t content_size) {
  if (content_size > kContentBytesMax) return;
  const std::uint64_t slots = group_count(content_size) - 1;
  values_.resize(slots);
  known_.assign(slots, false);
}

void GroupChainingValues::set(std::uint64_t group, const Hash& value) {
  if (group >= values_.size()) return;
  values_[group] = value;
  known_[group] = true;
}

std::vector<std::uint64_t> GroupChainingValues::missing() const {
  std::vector<std::uint64_t> groups;
  for (std::uint64_t group = 0; group < known_.size(); ++group) {
    if (!known_[group]) groups.push_back(group);
  }
  return groups;
}

}  // namespace taho::content
