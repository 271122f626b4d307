// The content exchange's storage (host/content_storage.hpp) over the
// daemon's content store: complete objects are served from objects/,
// fetches write into resumable partial downloads (content/store/partial.hpp).
// Used on the host's thread only, like the interface says.
#pragma once

#include <cstddef>
#include <map>

#include "content/store/partial.hpp"
#include "content/store/store.hpp"
#include "host/content_storage.hpp"

namespace taho::node {

class StoreContentStorage final : public host::ContentStorage {
 public:
  // Fetches open at once; the content exchange runs far fewer.
  static constexpr std::size_t kOpenPartialsMax = 256;

  // `store` outlives this and stays in place.
  explicit StoreContentStorage(content::Store& store);
  StoreContentStorage(const StoreContentStorage&) = delete;
  StoreContentStorage& operator=(const StoreContentStorage&) = delete;
  // Open partials are flushed and kept for the next run.
  ~StoreContentStorage() override = default;

  std::optional<std::uint64_t> size_of(const content::Hash& root) override;
  Result<Bytes> encode_range(const content::Hash& root, content::ByteRange range) override;
  std::vector<host::HeldContent> held() override;

  Result<Bytes> open_partial(const content::Hash& root, std::uint64_t size) override;
  Result<void> write_group(const content::Hash& root, const content::VerifiedGroup& group) override;
  Result<void> commit_partial(const content::Hash& root) override;
  void close_partial(const content::Hash& root) override;

  std::size_t open_partials() const { return partials_.size(); }

 private:
  content::Store& store_;
  std::map<content::Hash, content::Partial> partials_;
};

}  // namespace taho::node
