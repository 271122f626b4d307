// Partial downloads: content being fetched, kept across restarts and crashes
// (SIGKILL, power loss) so the next fetch resumes instead of starting over.
//
//   store/partial/<64 hex>/data    the content at its offsets, sparse
//   store/partial/<64 hex>/bitmap  the groups written and verified (group_bitmap.hpp)
//
// Rules that keep it trustworthy:
// - Only verified groups (RangeDecoder's output) are written.
// - A group's bit reaches the bitmap file only after its bytes are on disk:
//   a flush fdatasyncs the data, then replaces the bitmap (temp file,
//   fdatasync, rename) with the bits of the groups written before it
//   began. The flushes write() starts run on a worker thread. A crash loses at most the groups since the last
//   flush and never marks a group that is not there. After a failed
//   fdatasync nothing more is written or marked (the kernel may have
//   dropped the pages and reports that once only).
// - A bitmap that fails any check (checksum, size, length) counts as empty.
// - commit() builds the outboard and the root from the groups' chaining
//   values and publishes the data under the id only if the root matches.
//   The values of groups written through this Partial come from their
//   verification (VerifiedGroup::chaining_value), kept in memory
//   (group_chaining_values.hpp): those bytes went from the verifier to the
//   file without leaving our hands, so hashing them again would only check
//   the disk, which no object in the store gets either. Groups found on
//   disk at open (a resumed partial: another process wrote them, and the
//   file may have been damaged or edited since) have no value in memory,
//   and commit hashes exactly those from the data; values are not
//   persisted, since trusting them would mean trusting that file. Either
//   way a mismatch with the id discards the partial, and the fetch starts
//   again.
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

  // Writes one group; a group already written is skipped. Starts a flush on
  // a worker thread after partial_flush_bytes and partial_flush_interval
  // (StoreOptions), so the caller never waits for the disk here; its
  // failure is reported by a later write, flush or commit.
  // bad_request for a group that does not fit the size. The group must be
  // RangeDecoder's output: its chaining value is trusted at commit.
  Expected<void, StoreError> write(const VerifiedGroup& group);
  // Makes the groups written so far durable, then marks them in the bitmap
  // file (after the flush in flight, if any). Waits for the disk.
  Expected<void, StoreError> flush();
  // Needs every group. Builds the outboard (hashing only the groups this
  // Partial did not write, see above); if the root matches the id, the
  // data becomes an object of the store (atomically, like a publish) and
  // the partial is gone. If not (corrupt), the partial is discarded. Either
  // way this Partial is spent afterwards; other failures (io, disk_full
  // before the data moved) leave it usable, so commit() may be retried.
  // Takes a while for large content (fdatasync of the data): the daemon
  // runs it off its event loop (node/store_content_storage.hpp).
  Expected<PutResult, StoreError> commit();

 private:
  friend class Store;
  struct State;
  explicit Partial(std::unique_ptr<State> state);
  Expected<void, StoreError> start_background_flush();
  // The background flush's outcome, once it is over (or waiting for it).
  Expected<void, StoreError> collect_background_flush(bool wait);
  std::unique_ptr<State> state_;
};

}  // namespace taho::content
