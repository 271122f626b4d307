#include "host/memory_content_storage.hpp"

#include <algorithm>
#include <bit>
#include <string>
#include <utility>

#include "content/tree/range_encoding.hpp"
#include "content/tree/tree_shape.hpp"

namespace taho::host {

content::Hash MemoryContentStorage::add(Bytes bytes) {
  auto outboard = content::compute_outboard(bytes);
  const content::Hash root = outboard.root;
  objects_.insert_or_assign(root, Object{std::move(bytes), std::move(outboard), next_added_++});
  return root;
}

bool MemoryContentStorage::remove(const content::Hash& root) { return objects_.erase(root) > 0; }

const Bytes* MemoryContentStorage::contents(const content::Hash& root) const {
  auto found = objects_.find(root);
  return found == objects_.end() ? nullptr : &found->second.bytes;
}

std::optional<std::uint64_t> MemoryContentStorage::partial_groups(const content::Hash& root) const {
  auto found = partials_.find(root);
  if (found == partials_.end()) return std::nullopt;
  std::uint64_t groups = 0;
  for (auto byte : found->second.bitmap) groups += static_cast<std::uint64_t>(std::popcount(byte));
  return groups;
}

const Bytes* MemoryContentStorage::partial_contents(const content::Hash& root) const {
  auto found = partials_.find(root);
  return found == partials_.end() ? nullptr : &found->second.bytes;
}

std::optional<std::uint64_t> MemoryContentStorage::size_of(const content::Hash& root) {
  auto found = objects_.find(root);
  if (found == objects_.end()) return std::nullopt;
  return found->second.bytes.size();
}

Result<Bytes> MemoryContentStorage::encode_range(const content::Hash& root, content::ByteRange range) {
  auto found = objects_.find(root);
  if (found == objects_.end()) return fail("not held");
  const Object& object = found->second;
  auto view = content::OutboardView::open(object.outboard.bytes, object.bytes.size());
  if (!view) return fail("outboard: " + view.error().detail);
  auto encoded = content::encode_range(object.bytes, *view, range);
  if (!encoded) return fail("encode: " + encoded.error().detail);
  encoded_bytes_served_ += encoded->size();
  return std::move(*encoded);
}

std::vector<HeldContent> MemoryContentStorage::held() {
  std::vector<std::pair<std::uint64_t, HeldContent>> ordered;
  for (const auto& [root, object] : objects_) ordered.push_back({object.added, HeldContent{root, object.bytes.size()}});
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<HeldContent> out;
  for (auto& [added, held] : ordered) out.push_back(held);
  return out;
}

Result<Bytes> MemoryContentStorage::open_partial(const content::Hash& root, std::uint64_t size) {
  if (size > content::kContentBytesMax) return fail("content above the 1 PiB limit");
  const std::uint64_t groups = content::group_count(size);
  auto found = partials_.find(root);
  if (found != partials_.end() && found->second.size != size) {
    partials_.erase(found);  // another size: the old partial cannot be right
    found = partials_.end();
  }
  if (found == partials_.end()) {
    Partial partial;
    partial.size = size;
    partial.bytes.assign(static_cast<std::size_t>(size), 0);
    partial.bitmap.assign(static_cast<std::size_t>((groups + 7) / 8), 0);
    found = partials_.emplace(root, std::move(partial)).first;
  }
  found->second.open = true;
  return found->second.bitmap;
}

Result<void> MemoryContentStorage::write_group(const content::Hash& root, const content::VerifiedGroup& group) {
  auto found = partials_.find(root);
  if (found == partials_.end() || !found->second.open) return fail("no open partial");
  Partial& partial = found->second;
  const std::uint64_t groups = content::group_count(partial.size);
  if (group.index >= groups || group.offset != group.index * content::kGroupBytes ||
      group.bytes.size() != content::group_length(partial.size, group.index)) {
    return fail("group " + std::to_string(group.index) + " does not fit the partial");
  }
  std::copy(group.bytes.begin(), group.bytes.end(), partial.bytes.begin() + static_cast<std::ptrdiff_t>(group.offset));
  partial.bitmap[group.index / 8] = static_cast<std::uint8_t>(partial.bitmap[group.index / 8] | (1u << (group.index % 8)));
  ++groups_written_;
  return {};
}

Result<void> MemoryContentStorage::begin_commit(const content::Hash& root) {
  auto found = partials_.find(root);
  if (found == partials_.end() || !found->second.open) return fail("no open partial");
  const bool begun = std::find(held_commits_.begin(), held_commits_.end(), root) != held_commits_.end();
  if (begun || commit_results_.count(root)) return fail("a commit was begun already");
  found->second.open = false;
  if (hold_commits_) {
    held_commits_.push_back(root);
  } else {
    commit_results_.insert_or_assign(root, commit(root));
  }
  return {};
}

std::optional<Result<void>> MemoryContentStorage::poll_commit(const content::Hash& root) {
  auto found = commit_results_.find(root);
  if (found == commit_results_.end()) return std::nullopt;
  auto result = std::move(found->second);
  commit_results_.erase(found);
  return result;
}

void MemoryContentStorage::release_commits() {
  for (const auto& root : std::exchange(held_commits_, {})) commit_results_.insert_or_assign(root, commit(root));
}

Result<void> MemoryContentStorage::commit(const content::Hash& root) {
  auto found = partials_.find(root);
  if (found == partials_.end()) return fail("no partial");
  Partial& partial = found->second;
  const std::uint64_t groups = content::group_count(partial.size);
  for (std::uint64_t group = 0; group < groups; ++group) {
    if (((partial.bitmap[group / 8] >> (group % 8)) & 1) == 0) {
      return fail("group " + std::to_string(group) + " is missing");
    }
  }
  auto outboard = content::compute_outboard(partial.bytes);
  if (outboard.root != root) {
    partials_.erase(found);
    return fail("the assembled content does not hash to its id");
  }
  objects_.insert_or_assign(root, Object{std::move(partial.bytes), std::move(outboard), next_added_++});
  partials_.erase(found);
  return {};
}

void MemoryContentStorage::close_partial(const content::Hash& root) {
  if (auto found = partials_.find(root); found != partials_.end()) found->second.open = false;
}

}  // namespace taho::host
