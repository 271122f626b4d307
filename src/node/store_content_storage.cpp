#include "node/store_content_storage.hpp"

#include <algorithm>
#include <atomic>
#include <optional>

namespace taho::node {

struct StoreContentStorage::CommitJob {
  explicit CommitJob(content::Partial taken) : partial(std::move(taken)) {}
  content::Partial partial;  // the job's alone until `done`
  std::optional<Expected<content::PutResult, content::StoreError>> outcome;
  std::atomic<bool> done{false};  // release: `outcome` is written and the partial is left alone

  void run() {
    outcome = partial.commit();
    done.store(true, std::memory_order_release);
  }
};

StoreContentStorage::StoreContentStorage(content::Store& store, CommitRunner run_commit)
    : store_(store), run_commit_(std::move(run_commit)) {}

StoreContentStorage::~StoreContentStorage() {
  for (auto& [root, commit] : commits_) {
    if (commit.thread.joinable()) commit.thread.join();
  }
}

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
  if (commits_.count(root)) {
    return fail("the partial download of " + content::ContentId(root).to_string() + " is being committed");
  }
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

Result<void> StoreContentStorage::begin_commit(const content::Hash& root) {
  auto open = partials_.find(root);
  if (open == partials_.end()) {
    return fail("no partial download of " + content::ContentId(root).to_string() + " is open");
  }
  if (const auto missing = open->second.groups_missing(); missing > 0) {
    // Left open for them: nothing to hand to a worker.
    return fail("the partial download of " + content::ContentId(root).to_string() + " misses " +
                std::to_string(missing) + " groups");
  }
  auto job = std::make_shared<CommitJob>(std::move(open->second));
  partials_.erase(open);
  Commit commit{job, {}};
  if (run_commit_) {
    run_commit_([job] { job->run(); });
  } else {
    commit.thread = std::thread([job] { job->run(); });
  }
  commits_.emplace(root, std::move(commit));
  return {};
}

std::optional<Result<void>> StoreContentStorage::poll_commit(const content::Hash& root) {
  auto found = commits_.find(root);
  if (found == commits_.end() || !found->second.job->done.load(std::memory_order_acquire)) return std::nullopt;
  if (found->second.thread.joinable()) found->second.thread.join();
  auto outcome = std::move(*found->second.job->outcome);
  commits_.erase(found);
  // A partial that failed short of being spent (io, disk full) stays on
  // disk for a later fetch; the job's copy of it is closed with the job.
  if (!outcome) return Result<void>(fail(std::move(outcome).error().detail));
  return Result<void>();
}

void StoreContentStorage::close_partial(const content::Hash& root) { partials_.erase(root); }

}  // namespace taho::node
