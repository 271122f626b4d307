#include "node/store_content_storage.hpp"

#include <algorithm>

namespace taho::node {

StoreContentStorage::StoreContentStorage(content::Store& store) : store_(store) {}

std::optional<std::uint64_t> StoreContentStorage::size_of(const content::Hash& root) {
  auto info = store_.stat(content::ContentId(root));
  if (!info) return std::nullopt;
  return info->size;
}

Result<Bytes> StoreContentStorage::encode_range(const content::Hash& root, content::ByteRange range) {
  auto encoded = store_.encode_range(content::ContentId(root), range);
  if (!encoded) return fail(std::move(encoded).error().detail);
  return std::move(*encoded);
}

std::vector<host::HeldContent> StoreContentStorage::held() {
  auto objects = store_.list();
  if (!objects) return {};
  // Newest first; the id orders objects written in the same instant.
  std::sort(objects->begin(), objects->end(), [](const content::ObjectInfo& a, const content::ObjectInfo& b) {
    return a.modified != b.modified ? a.modified > b.modified : a.id < b.id;
  });
  std::vector<host::HeldContent> held;
  held.reserve(objects->size());
  for (const auto& object : *objects) held.push_back({object.id.hash(), object.size});
  return held;
}

Result<Bytes> StoreContentStorage::open_partial(const content::Hash& root, std::uint64_t size) {
  auto open = partials_.find(root);
  if (open != partials_.end()) {
    if (open->second.size() == size) return open->second.completed_bitmap();
    partials_.erase(open);  // flushed and closed; the store starts it afresh below
  }
  if (partials_.size() >= kOpenPartialsMax) {
    return fail("cannot open the partial download of " + content::ContentId(root).to_string() + ": already " +
                std::to_string(partials_.size()) + " open");
  }
  auto partial = store_.open_partial(content::ContentId(root), size);
  if (!partial) return fail(std::move(partial).error().detail);
  Bytes bitmap = partial->completed_bitmap();
  partials_.emplace(root, std::move(*partial));
  return bitmap;
}

Result<void> StoreContentStorage::write_group(const content::Hash& root, const content::VerifiedGroup& group) {
  auto open = partials_.find(root);
  if (open == partials_.end()) {
    return fail("no partial download of " + content::ContentId(root).to_string() + " is open");
  }
  if (auto written = open->second.write(group); !written) return fail(std::move(written).error().detail);
  return {};
}

Result<void> StoreContentStorage::commit_partial(const content::Hash& root) {
  auto open = partials_.find(root);
  if (open == partials_.end()) {
    return fail("no partial download of " + content::ContentId(root).to_string() + " is open");
  }
  auto committed = open->second.commit();
  // A spent partial (committed, or discarded as damaged) is gone from disk.
  if (open->second.spent()) partials_.erase(open);
  if (!committed) return fail(std::move(committed).error().detail);
  return {};
}

void StoreContentStorage::close_partial(const content::Hash& root) { partials_.erase(root); }

}  // namespace taho::node
