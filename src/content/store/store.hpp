// The content store under TAHO_HOME/store (DESIGN.md §4):
//
//   objects/<first 2 hex>/<64 hex>/data      the content
//   objects/<first 2 hex>/<64 hex>/outboard  its outboard (content/tree/outboard.hpp)
//   tmp/                                     objects being written
//
// An object is written complete in tmp/ (files fsynced) and appears under its
// id by renaming its directory: a half-written object is never visible, and
// two publishers of the same bytes race harmlessly (the second rename fails,
// the bytes are stored once). Leftovers of killed writers are removed at open
// (a writer holds an flock on its temp dir's lock, so live ones are kept).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "content/store/group_cache.hpp"
#include "content/store/parallel_hasher.hpp"
#include "content/store/store_error.hpp"
#include "content/tree/content_id.hpp"
#include "content/tree/range_decoder.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::content {

struct StoreOptions {
  std::filesystem::path root;  // TAHO_HOME/store
  std::uint64_t cache_bytes_max = std::uint64_t{100} << 20;  // [content] cache_mb
  std::optional<std::uint64_t> store_bytes_max;              // [content] max_store_gb; none: unlimited
  // Free space a write must leave on the file system, so a full store never
  // starves the rest of the node (peerstore, logs).
  std::uint64_t free_bytes_reserve = std::uint64_t{64} << 20;
  unsigned hash_threads = 0;  // 0: one per core
};

struct PutResult {
  ContentId id;
  std::uint64_t size = 0;
  bool already_stored = false;  // deduplicated: the bytes were there before
};

struct ObjectInfo {
  ContentId id;
  std::uint64_t size = 0;
  std::filesystem::path data_path;
};

// The largest range encode_range serves in one piece.
inline constexpr std::uint64_t kRangeBytesMax = std::uint64_t{16} << 20;

class Import;

class Store {
 public:
  // Creates the directories if needed and cleans leftovers of killed writers.
  static Expected<Store, StoreError> open(StoreOptions options);

  // Publishing. The content is hashed on all cores while it is copied in.
  Expected<PutResult, StoreError> put_file(const std::filesystem::path& path, const ProgressFn& progress = {});
  // Reads `fd` to its end (stdin, a pipe), then stores it.
  Expected<PutResult, StoreError> put_stream(int fd, const ProgressFn& progress = {});
  Expected<PutResult, StoreError> put_bytes(ByteView bytes);

  bool contains(const ContentId& id) const;
  Expected<ObjectInfo, StoreError> stat(const ContentId& id) const;
  Expected<std::vector<ObjectInfo>, StoreError> list() const;  // sorted by id
  Expected<void, StoreError> remove(const ContentId& id);
  // Re-hashes content and outboard; corrupt if either does not match the id.
  Expected<void, StoreError> verify(const ContentId& id) const;

  // Bytes [offset, offset + length) (clamped to the size). With `verify`
  // every group read is checked against the id through the outboard.
  Expected<Bytes, StoreError> read(const ContentId& id, std::uint64_t offset, std::uint64_t length,
                                   bool verify = false);
  // Streams the whole content to `fd` (taho content cat).
  Expected<void, StoreError> write_to(const ContentId& id, int fd, bool verify = false);

  // Serving: a 16 KiB-aligned range with its proof (range_encoding.hpp).
  Expected<Bytes, StoreError> encode_range(const ContentId& id, ByteRange range) const;
  // Fetching: stores content received as verified groups (RangeDecoder).
  Expected<Import, StoreError> begin_import(const ContentId& id, std::uint64_t size);

  std::uint64_t stored_bytes() const { return shared_->stored_bytes.load(); }
  const StoreOptions& options() const { return options_; }
  const GroupCache& cache() const { return shared_->cache; }

 private:
  friend class Import;
  explicit Store(StoreOptions options);
  std::filesystem::path object_dir(const ContentId& id) const;
  Expected<void, StoreError> check_room(std::uint64_t size) const;
  struct TempObject;
  Expected<TempObject, StoreError> create_temp() const;
  Expected<PutResult, StoreError> commit(TempObject& temp, const ContentId& id, std::uint64_t size);
  Expected<PutResult, StoreError> put_from_fd(int fd, std::uint64_t size, const ProgressFn& progress);
  Expected<PutResult, StoreError> hash_temp_and_commit(TempObject& temp, std::uint64_t size,
                                                       const ProgressFn& progress);

  // State the store's users share across threads (the daemon's disk threads).
  struct Shared {
    explicit Shared(std::uint64_t cache_bytes_max) : cache(cache_bytes_max) {}
    GroupCache cache;                           // verified groups only
    std::atomic<std::uint64_t> stored_bytes{0};  // content + outboards, counted at open
  };
  StoreOptions options_;
  std::unique_ptr<Shared> shared_;
};

// Content being fetched: verified groups are written in any order; commit()
// needs them all, re-hashes and publishes under the id.
class Import {
 public:
  Import(Import&&) noexcept;
  Import& operator=(Import&&) noexcept;
  ~Import();

  Expected<void, StoreError> write(const VerifiedGroup& group);
  std::uint64_t groups_missing() const { return missing_; }
  Expected<PutResult, StoreError> commit();

 private:
  friend class Store;
  struct State;
  explicit Import(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
  std::uint64_t missing_ = 0;
};

}  // namespace taho::content
