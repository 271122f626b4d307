// The content store under TAHO_HOME/store (DESIGN.md §4):
//
//   objects/<first 2 hex>/<64 hex>/data      the content
//   objects/<first 2 hex>/<64 hex>/outboard  its outboard (content/tree/outboard.hpp)
//   tmp/                                     objects being written
//   partial/<64 hex>/{data,bitmap}           downloads in progress (partial.hpp)
//
// An object is written complete in tmp/ (files fsynced) and appears under its
// id by renaming its directory: a half-written object is never visible, and
// two publishers of the same bytes race harmlessly (the second rename fails,
// the bytes are stored once). Leftovers of killed writers are removed at open
// (a writer holds an flock on its temp dir's lock, so live ones are kept).
// Partial downloads are kept at open, since a later fetch resumes them, but
// within bounds: see StoreOptions::partial_age_max and Store::open.
#pragma once

#include <atomic>
#include <chrono>
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
  // A partial download makes its bitmap of verified groups durable (and
  // visible to read_partial) once it has this many new bytes and the last
  // flush is this long ago, and when closed. A crash loses at most that much
  // progress. Each flush waits for two fdatasyncs (~10 ms each on a VM
  // disk), so flushing every few MiB would cap a fetch well below the disk's
  // speed; the interval bounds that cost to a few percent.
  std::uint64_t partial_flush_bytes = std::uint64_t{8} << 20;
  std::chrono::milliseconds partial_flush_interval{500};
  // Partial downloads nobody touched for this long are removed at open.
  std::chrono::hours partial_age_max{24 * 7};
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
  std::filesystem::file_time_type modified{};  // when the content was written
};

// The largest range encode_range (and read, read_partial) serves in one piece.
inline constexpr std::uint64_t kRangeBytesMax = std::uint64_t{16} << 20;

class Partial;       // partial.hpp
class UniqueFd;      // unique_fd.hpp
struct PartialInfo;  // partial.hpp

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

  // Fetching (include partial.hpp): creates the partial download of `id`, or resumes
  // the one an earlier fetch left, even a killed one. A partial of another
  // size is discarded and started afresh. Creating one checks the room for
  // the whole object (max_store_gb, free space); the data file is sparse.
  // Fails with in_use while another process has it open.
  Expected<Partial, StoreError> open_partial(const ContentId& id, std::uint64_t size);
  // Bytes [offset, offset + length) of a partial download (clamped to its
  // size, at most kRangeBytesMax), for streaming a fetch in progress from
  // any thread or process. Only verified bytes are returned, else
  // not_verified. A group counts as verified if the bitmap on disk marks it
  // (it lags the download by up to partial_flush_bytes), or if it ends at or
  // below `vouched_end_bytes`: the caller vouches for those, e.g. with the
  // contiguous verified bytes the fetch writing this partial reports, and
  // reads below that bound only what that fetch has verified. not_found
  // when there is no partial (e.g. it was just committed: read the object).
  Expected<Bytes, StoreError> read_partial(const ContentId& id, std::uint64_t offset, std::uint64_t length,
                                           std::uint64_t vouched_end_bytes = 0) const;
  Expected<std::vector<PartialInfo>, StoreError> list_partials() const;  // sorted by id
  // Fails with in_use while a fetch has it open.
  Expected<void, StoreError> remove_partial(const ContentId& id);

  std::uint64_t stored_bytes() const { return shared_->stored_bytes.load(); }
  const StoreOptions& options() const { return options_; }
  const GroupCache& cache() const { return shared_->cache; }

 private:
  friend class Partial;
  explicit Store(StoreOptions options);
  std::filesystem::path object_dir(const ContentId& id) const;
  std::filesystem::path partial_dir(const ContentId& id) const;
  // Room for an object of `size` bytes beside the stored objects and the
  // partial downloads (which reserve their whole object).
  Expected<void, StoreError> check_room(std::uint64_t size) const;
  std::uint64_t partial_reserved_bytes() const;
  void clean_partials() const;
  // Moves `dir` into tmp/ as trash (atomic: gone from view at once), then deletes it.
  Expected<void, StoreError> discard_dir(const std::filesystem::path& dir) const;
  struct TempObject;
  Expected<TempObject, StoreError> create_temp() const;
  Expected<PutResult, StoreError> commit(TempObject& temp, const ContentId& id, std::uint64_t size);
  Expected<PutResult, StoreError> put_from_fd(int fd, std::uint64_t size, const ProgressFn& progress);
  // Publishes the file at `path` (open as `fd`, `size` bytes) under `id` if
  // it hashes to it: id_mismatch if not, and the file stays. Once the file
  // has moved towards objects/, `fd` is taken. With `known`, the chaining
  // values of the groups it has are taken as the file's (the caller vouches
  // for them) and only the other groups are hashed (hash_with_chaining_values).
  Expected<PutResult, StoreError> adopt_file(const std::filesystem::path& path, UniqueFd& fd, const ContentId& id,
                                             std::uint64_t size, GroupChainingValues* known = nullptr);
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

}  // namespace taho::content
