// Partial downloads: content being fetched, kept across restarts and crashes
// (SIGKILL, power loss) so the next fetch resumes instead of starting over.
//
//   store/partial/<64 hex>/data    the content at its offsets, sparse
//   store/partial/<64 hex>/bitmap  the groups written and verified (group_bitmap.hpp)
//
// Rules that keep it trustworthy:
// - Only verified groups (RangeDecoder's output) are written.
// - A group's bit reaches the bitmap file only after its bytes are on disk:
//   flush() fdatasyncs the data, then replaces the bitmap (temp file,
//   fdatasync, rename). A crash loses at most the groups since the last
//   flush and never marks a group that is not there. After a failed
//   fdatasync nothing more is written or marked (the kernel may have
//   dropped the pages and reports that once only).
// - A bitmap that fails any check (checksum, size, length) counts as empty.
// - commit() hashes the whole data file again, which also builds the
//   outboard, and publishes it under the id only if the root matches. We
//   keep no proof per group on disk, so a group damaged after it was
//   verified (bad disk, someone editing the file) is found only there: the
//   partial is then discarded and the fetch starts again. That costs a
//   re-download in a case that should not happen, and keeps the on-disk
//   state to the two files above.
// - A process holds an flock on the partial's directory while it has it
//   open: one writer at a time. Readers (Store::read_partial) take no lock.
//   A partial started afresh gets a new data file, so a reader still holding
//   the old one reads consistent bytes and notices the change.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>

#include "content/store/group_bitmap.hpp"
#include "content/store/store.hpp"

namespace taho::content {

struct PartialInfo {
  ContentId id;
  std::uint64_t size = 0;
  // Per the bitmap on disk: behind a running fetch by up to partial_flush_bytes.
  std::uint64_t verified_bytes = 0;
  std::filesystem::file_time_type modified{};  // last write or flush
  bool in_use = false;                         // a fetch has it open
};

// One open partial download. Single-threaded; it refers to its Store, which
// must stay alive and in place meanwhile. Destroying it flushes the bitmap
// and keeps the partial for a later fetch.
class Partial {
 public:
  Partial(Partial&&) noexcept;
  Partial& operator=(Partial&&) noexcept;
  ~Partial();

  const ContentId& id() const;
  std::uint64_t size() const;
  // Groups written and verified, including those not flushed yet.
  const GroupBitmap& completed() const;
  Bytes completed_bitmap() const { return completed().bits(); }  // RangePlan::restore's format
  std::uint64_t groups_missing() const;
  // Committed or discarded: nothing is left to write or commit.
  bool spent() const;

  // Writes one group; a group already written is skipped. Flushes after
  // partial_flush_bytes and partial_flush_interval (StoreOptions).
  // bad_request for a group that does not fit the size.
  Expected<void, StoreError> write(const VerifiedGroup& group);
  // Makes the groups written so far durable, then marks them in the bitmap file.
  Expected<void, StoreError> flush();
  // Needs every group. Re-hashes the data; if it matches the id, it becomes
  // an object of the store (atomically, like a publish) and the partial is
  // gone. If not (corrupt), the partial is discarded. Either way this
  // Partial is spent afterwards; other failures (io, disk_full before the
  // data moved) leave it usable, so commit() may be retried.
  Expected<PutResult, StoreError> commit();

 private:
  friend class Store;
  struct State;
  explicit Partial(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace taho::content
