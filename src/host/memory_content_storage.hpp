// ContentStorage in memory: the store of a simulated node and of tests.
// Complete objects keep their bytes and outboard; partial downloads keep
// their bytes and bitmap across host restarts (the object outlives the host
// that uses it, like a disk), so a restarted node resumes where it stopped.
// Counts what it served, so tests can tell what crossed the network.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "content/tree/outboard.hpp"
#include "host/content_storage.hpp"

namespace taho::host {

class MemoryContentStorage : public ContentStorage {
 public:
  // Adds a complete object (a local publish); returns its root.
  content::Hash add(Bytes bytes);
  // Removes a complete object (a local rm); false if it was not held.
  bool remove(const content::Hash& root);
  // The bytes of a complete object, or nothing.
  const Bytes* contents(const content::Hash& root) const;
  // Groups written and not yet committed, and the partial's bytes (zero
  // where nothing was written), for resume and range tests.
  std::optional<std::uint64_t> partial_groups(const content::Hash& root) const;
  const Bytes* partial_contents(const content::Hash& root) const;

  std::uint64_t encoded_bytes_served() const { return encoded_bytes_served_; }
  std::uint64_t groups_written() const { return groups_written_; }

  // Commits finish inside begin_commit unless held: then they wait for
  // release_commits(), as the daemon's run on a worker thread (for tests of
  // what happens meanwhile).
  void hold_commits(bool hold) { hold_commits_ = hold; }
  void release_commits();
  std::size_t commits_pending() const { return held_commits_.size(); }

  // ---- ContentStorage
  std::optional<std::uint64_t> size_of(const content::Hash& root) override;
  Result<Bytes> encode_range(const content::Hash& root, content::ByteRange range) override;
  std::vector<HeldContent> held() override;
  Result<Bytes> open_partial(const content::Hash& root, std::uint64_t size) override;
  Result<void> write_group(const content::Hash& root, const content::VerifiedGroup& group) override;
  Result<void> begin_commit(const content::Hash& root) override;
  std::optional<Result<void>> poll_commit(const content::Hash& root) override;
  void close_partial(const content::Hash& root) override;

 private:
  struct Object {
    Bytes bytes;
    content::Outboard outboard;
    std::uint64_t added = 0;  // order of arrival: held() lists the newest first
  };
  struct Partial {
    std::uint64_t size = 0;
    Bytes bytes;
    Bytes bitmap;  // bit i of byte i / 8: group i is written
    bool open = false;
  };

  Result<void> commit(const content::Hash& root);

  std::map<content::Hash, Object> objects_;
  bool hold_commits_ = false;
  std::vector<content::Hash> held_commits_;               // begun, waiting for release_commits()
  std::map<content::Hash, Result<void>> commit_results_;  // finished, not polled yet
  std::map<content::Hash, Partial> partials_;
  std::uint64_t next_added_ = 0;
  std::uint64_t encoded_bytes_served_ = 0;
  std::uint64_t groups_written_ = 0;
};

}  // namespace taho::host
