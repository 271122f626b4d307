// The content exchange's storage (host/content_storage.hpp) over the
// daemon's content store: complete objects are served from objects/,
// fetches write into resumable partial downloads (content/store/partial.hpp).
// Used on the host's thread only, like the interface says; committing a
// download (a few hundred ms per GiB: the outboard, fdatasync of the data,
// renames) runs on a worker thread, and the host polls for its outcome.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "content/store/partial.hpp"
#include "content/store/store.hpp"
#include "host/content_storage.hpp"

namespace taho::node {

class StoreContentStorage final : public host::ContentStorage {
 public:
  // Fetches open at once; the content exchange runs far fewer.
  static constexpr std::size_t kOpenPartialsMax = 256;

  // Runs a commit job somewhere other than the calling thread; the job
  // touches only its own partial and the store's thread-safe parts. Unset:
  // a thread per commit (joined when its outcome is polled, or at
  // destruction).
  using CommitRunner = std::function<void(std::function<void()> job)>;

  // `store` outlives this and stays in place.
  explicit StoreContentStorage(content::Store& store, CommitRunner run_commit = {});
  StoreContentStorage(const StoreContentStorage&) = delete;
  StoreContentStorage& operator=(const StoreContentStorage&) = delete;
  // Open partials are flushed and kept for the next run; commits under way
  // are waited for (default runner).
  ~StoreContentStorage() override;

  std::optional<std::uint64_t> size_of(const content::Hash& root) override;
  Result<Bytes> encode_range(const content::Hash& root, content::ByteRange range) override;
  std::vector<host::HeldContent> held() override;

  Result<Bytes> open_partial(const content::Hash& root, std::uint64_t size) override;
  Result<void> write_group(const content::Hash& root, const content::VerifiedGroup& group) override;
  Result<void> begin_commit(const content::Hash& root) override;
  std::optional<Result<void>> poll_commit(const content::Hash& root) override;
  void close_partial(const content::Hash& root) override;

  std::size_t open_partials() const { return partials_.size(); }
  std::size_t commits_running() const { return commits_.size(); }

 private:
  struct CommitJob;  // shared by the host's thread and the job's
  struct Commit {
    std::shared_ptr<CommitJob> job;
    std::thread thread;  // the default runner's
  };

  content::Store& store_;
  CommitRunner run_commit_;
  std::map<content::Hash, content::Partial> partials_;
  std::map<content::Hash, Commit> commits_;  // begun, outcome not polled yet
};

}  // namespace taho::node
