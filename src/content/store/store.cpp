#include "content/store/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <string>

#include "content/store/mapped_file.hpp"
#include "content/store/unique_fd.hpp"

namespace taho::content {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDataName = "data";
constexpr const char* kOutboardName = "outboard";
constexpr const char* kLockSuffix = ".lock";
constexpr const char* kNewLockSuffix = ".lock.new";
constexpr const char* kTrashSuffix = ".trash";
constexpr std::uint64_t kStreamBufferBytes = std::uint64_t{1} << 20;
// How often a stream being spooled re-checks the store limit and free space.
constexpr std::uint64_t kStreamRoomCheckBytes = std::uint64_t{64} << 20;

StoreError io_error(const std::string& what, const std::error_code& ec) {
  return os_error(ec.value(), what);
}

std::string random_name() {
  std::random_device entropy;
  const std::uint64_t value = (std::uint64_t{entropy()} << 32) ^ entropy();
  return std::to_string(::getpid()) + "-" + to_hex(ByteView(reinterpret_cast<const std::uint8_t*>(&value), 8));
}

UniqueFd open_fd(const fs::path& path, int flags, mode_t mode = 0644) {
  return UniqueFd(::open(path.c_str(), flags | O_CLOEXEC, mode));
}

Expected<void, StoreError> sync_dir(const fs::path& dir) {
  const UniqueFd fd = open_fd(dir, O_RDONLY | O_DIRECTORY);
  if (!fd) return unexpected(os_error(errno, "open " + dir.string()));
  return sync_fd(fd.get(), dir.c_str());
}

std::string human_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, units[unit]);
  return text;
}

std::uint64_t object_bytes(std::uint64_t size) { return size + outboard_bytes(size); }

bool held_by_a_live_writer(const fs::path& lock_path) {
  const UniqueFd lock = open_fd(lock_path, O_RDWR);
  return lock && ::flock(lock.get(), LOCK_EX | LOCK_NB) != 0;
}

// Removes what killed writers left in tmp/: temp objects whose lock nobody
// holds any more, and trash of interrupted removals. A live writer's lock is
// already held when its name appears (create_temp), so it is never taken
// for a dead one.
void clean_temp(const fs::path& tmp) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    const fs::path path = entry.path();
    const std::string name = path.filename().string();
    if (!name.ends_with(kLockSuffix) || held_by_a_live_writer(path)) continue;
    std::error_code ignored;
    fs::remove_all(tmp / name.substr(0, name.size() - std::strlen(kLockSuffix)), ignored);
    fs::remove(path, ignored);
  }
  // Anything else without a lock beside it: trash, a dead writer's object
  // whose lock is gone, or a lock that was never named (see create_temp).
  for (const auto& entry : fs::directory_iterator(tmp, ec)) {
    const fs::path path = entry.path();
    const std::string name = path.filename().string();
    if (name.ends_with(kLockSuffix)) continue;
    if (name.ends_with(kNewLockSuffix) && held_by_a_live_writer(path)) continue;
    std::error_code exists_ec;
    if (fs::exists(fs::path(path.string() + kLockSuffix), exists_ec)) continue;
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
}

std::uint64_t count_stored_bytes(const fs::path& objects) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& prefix : fs::directory_iterator(objects, ec)) {
    std::error_code inner;
    for (const auto& object : fs::directory_iterator(prefix.path(), inner)) {
      std::error_code size_ec;
      const auto data = fs::file_size(object.path() / kDataName, size_ec);
      if (!size_ec) total += object_bytes(data);
    }
  }
  return total;
}

}  // namespace

// A temp object being written: tmp/<name>/{data,outboard}, guarded by the
// flock on tmp/<name>.lock. Removed on destruction unless committed.
struct Store::TempObject {
  fs::path dir;
  fs::path lock_path;
  UniqueFd lock;
  UniqueFd data;
  UniqueFd outboard;
  bool committed = false;

  TempObject() = default;
  TempObject(TempObject&&) = default;
  TempObject& operator=(TempObject&&) = default;
  ~TempObject() {
    if (lock_path.empty()) return;
    std::error_code ignored;
    if (!committed) fs::remove_all(dir, ignored);
    fs::remove(lock_path, ignored);
  }
};

Store::Store(StoreOptions options)
    : options_(std::move(options)), shared_(std::make_unique<Shared>(options_.cache_bytes_max)) {}

Expected<Store, StoreError> Store::open(StoreOptions options) {
  Store store(std::move(options));
  const fs::path& root = store.options_.root;
  std::error_code ec;
  fs::create_directories(root / "objects", ec);
  if (ec) return unexpected(io_error("create " + (root / "objects").string(), ec));
  fs::create_directories(root / "tmp", ec);
  if (ec) return unexpected(io_error("create " + (root / "tmp").string(), ec));
  fs::create_directories(root / "partial", ec);
  if (ec) return unexpected(io_error("create " + (root / "partial").string(), ec));
  clean_temp(root / "tmp");
  store.shared_->stored_bytes = count_stored_bytes(root / "objects");
  store.clean_partials();
  return store;
}

fs::path Store::object_dir(const ContentId& id) const {
  const std::string hex = id.hex();
  return options_.root / "objects" / hex.substr(0, 2) / hex;
}

fs::path Store::partial_dir(const ContentId& id) const { return options_.root / "partial" / id.hex(); }

Expected<void, StoreError> Store::discard_dir(const fs::path& dir) const {
  const fs::path trash = options_.root / "tmp" / (random_name() + kTrashSuffix);
  if (::rename(dir.c_str(), trash.c_str()) != 0) return unexpected(os_error(errno, "remove " + dir.string()));
  std::error_code ec;
  fs::remove_all(trash, ec);  // a failure leaves trash that the next open removes
  return {};
}

Expected<void, StoreError> Store::check_room(std::uint64_t size) const {
  const std::uint64_t needed = object_bytes(size);
  if (options_.store_bytes_max) {
    const std::uint64_t used = stored_bytes() + partial_reserved_bytes();
    if (used + needed > *options_.store_bytes_max) {
      return unexpected(StoreError{
          StoreErrc::store_full, "the content store is full: storing " + human_bytes(needed) + " more would pass " +
                                     "[content] max_store_gb (" + human_bytes(used) + " of " +
                                     human_bytes(*options_.store_bytes_max) + " used); remove content or raise the limit"});
    }
  }
  struct statvfs info {};
  if (::statvfs(options_.root.c_str(), &info) != 0) return unexpected(os_error(errno, "statvfs " + options_.root.string()));
  const std::uint64_t available = std::uint64_t{info.f_bavail} * info.f_frsize;
  if (available < needed + options_.free_bytes_reserve) {
    return unexpected(StoreError{StoreErrc::disk_full, "not enough free disk space for the content store in " +
                                                           options_.root.string() + ": need " + human_bytes(needed) +
                                                           " plus " + human_bytes(options_.free_bytes_reserve) +
                                                           " reserve, " + human_bytes(available) + " available"});
  }
  return {};
}

Expected<Store::TempObject, StoreError> Store::create_temp() const {
  TempObject temp;
  const std::string name = random_name();
  const fs::path tmp = options_.root / "tmp";
  // The lock is taken under a provisional name and then renamed, so a lock
  // is held from the moment its name exists; it exists before the directory,
  // so a directory without a lock is stale.
  const fs::path provisional = tmp / (name + kNewLockSuffix);
  temp.lock = open_fd(provisional, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (!temp.lock) return unexpected(os_error(errno, "create a temp file in " + tmp.string()));
  if (::flock(temp.lock.get(), LOCK_EX) != 0) {
    const int error = errno;
    ::unlink(provisional.c_str());
    return unexpected(os_error(error, "lock " + provisional.string()));
  }
  if (::rename(provisional.c_str(), (tmp / (name + kLockSuffix)).c_str()) != 0) {
    const int error = errno;
    ::unlink(provisional.c_str());
    return unexpected(os_error(error, "name " + provisional.string()));
  }
  temp.lock_path = tmp / (name + kLockSuffix);
  temp.dir = tmp / name;
  if (::mkdir(temp.dir.c_str(), 0755) != 0) return unexpected(os_error(errno, "create " + temp.dir.string()));
  temp.data = open_fd(temp.dir / kDataName, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (!temp.data) return unexpected(os_error(errno, "create " + (temp.dir / kDataName).string()));
  temp.outboard = open_fd(temp.dir / kOutboardName, O_RDWR | O_CREAT | O_EXCL, 0644);
  if (!temp.outboard) return unexpected(os_error(errno, "create " + (temp.dir / kOutboardName).string()));
  return temp;
}

Expected<PutResult, StoreError> Store::commit(TempObject& temp, const ContentId& id, std::uint64_t size) {
  const fs::path target = object_dir(id);
  std::error_code ec;
  if (fs::exists(target / kDataName, ec)) return PutResult{id, size, true};  // deduplicated

  // Durable before visible: file contents, then their names, then the rename.
  if (auto synced = sync_fd(temp.data.get(), "content"); !synced) return unexpected(synced.error());
  if (auto synced = sync_fd(temp.outboard.get(), "outboard"); !synced) return unexpected(synced.error());
  if (auto synced = sync_dir(temp.dir); !synced) return unexpected(synced.error());
  fs::create_directories(target.parent_path(), ec);
  if (ec) return unexpected(io_error("create " + target.parent_path().string(), ec));
  if (::rename(temp.dir.c_str(), target.c_str()) != 0) {
    if (errno == EEXIST || errno == ENOTEMPTY) return PutResult{id, size, true};  // a concurrent publisher won
    return unexpected(os_error(errno, "rename into " + target.string()));
  }
  temp.committed = true;
  if (auto synced = sync_dir(target.parent_path()); !synced) return unexpected(synced.error());
  shared_->stored_bytes += object_bytes(size);
  return PutResult{id, size, false};
}

Expected<PutResult, StoreError> Store::hash_temp_and_commit(TempObject& temp, std::uint64_t size,
                                                            const ProgressFn& progress) {
  auto mapped = MappedFile::open(temp.dir / kDataName);
  if (!mapped) return unexpected(StoreError{StoreErrc::io, mapped.error().text});
  if (mapped->bytes().size() != size) return unexpected(StoreError{StoreErrc::io, "temp file has the wrong size"});
  const ParallelHashOptions hash_options{options_.hash_threads};
  auto root = hash_bytes(mapped->bytes(), {.outboard_fd = temp.outboard.get()}, hash_options, progress);
  if (!root) return unexpected(root.error());
  return commit(temp, ContentId(*root), size);
}

Expected<PutResult, StoreError> Store::adopt_file(const fs::path& path, UniqueFd& fd, const ContentId& id,
                                                  std::uint64_t size, GroupChainingValues* known) {
  auto temp = create_temp();
  if (!temp) return unexpected(temp.error());
  {
    auto mapped = MappedFile::open(path);
    if (!mapped) return unexpected(StoreError{StoreErrc::io, mapped.error().text});
    if (mapped->bytes().size() != size) {
      return unexpected(StoreError{StoreErrc::id_mismatch, path.string() + " is " + std::to_string(mapped->bytes().size()) +
                                                               " bytes long, not " + std::to_string(size)});
    }
    const ParallelHashOptions hash_options{options_.hash_threads};
    const HashTargets targets{.outboard_fd = temp->outboard.get()};
    auto root = known ? hash_with_chaining_values(mapped->bytes(), *known, targets, hash_options)
                      : hash_bytes(mapped->bytes(), targets, hash_options, {});
    if (!root) return unexpected(root.error());
    if (*root != id.hash()) {
      return unexpected(StoreError{StoreErrc::id_mismatch, path.string() + " hashes to " + to_hex(*root) + ", not " +
                                                               id.to_string()});
    }
  }
  // In place of the temp object's empty data file; then in like any object.
  if (::rename(path.c_str(), (temp->dir / kDataName).c_str()) != 0) {
    return unexpected(os_error(errno, "move " + path.string() + " into the store"));
  }
  temp->data = std::move(fd);
  return commit(*temp, id, size);
}

Expected<PutResult, StoreError> Store::put_from_fd(int fd, std::uint64_t size, const ProgressFn& progress) {
  if (auto room = check_room(size); !room) return unexpected(room.error());
  auto temp = create_temp();
  if (!temp) return unexpected(temp.error());
  const ParallelHashOptions hash_options{options_.hash_threads};
  // Read in batches, hashed while in cache, written to the temp file with
  // pwrite (measured faster on tmpfs than a writable mapping of the temp
  // file, and a full disk is a plain ENOSPC).
  const HashTargets targets{.copy_fd = temp->data.get(), .outboard_fd = temp->outboard.get()};
  auto root = hash_file(fd, size, targets, hash_options, progress);
  if (!root) return unexpected(root.error());
  return commit(*temp, ContentId(*root), size);
}

Expected<PutResult, StoreError> Store::put_file(const fs::path& path, const ProgressFn& progress) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return unexpected(StoreError{StoreErrc::source_missing, path.string() + ": no such file"});
    }
    return unexpected(StoreError{StoreErrc::source_unreadable, path.string() + ": " + std::strerror(errno)});
  }
  if (S_ISDIR(info.st_mode)) {
    return unexpected(StoreError{StoreErrc::source_directory,
                                 path.string() + " is a directory; publishing directories is not supported yet"});
  }
  const UniqueFd fd = open_fd(path, O_RDONLY);
  if (!fd) return unexpected(StoreError{StoreErrc::source_unreadable, path.string() + ": " + std::strerror(errno)});
  if (!S_ISREG(info.st_mode)) return put_stream(fd.get(), progress);  // a pipe or device: read to its end

  auto result = put_from_fd(fd.get(), static_cast<std::uint64_t>(info.st_size), progress);
  if (!result) {
    auto error = std::move(result).error();
    if (error.code == StoreErrc::source_unreadable || error.code == StoreErrc::source_changed) {
      error.detail = path.string() + ": " + error.detail;
    }
    return unexpected(std::move(error));
  }
  // The bytes hashed must be the file's: a writer changing it meanwhile makes
  // the id name a mix, so refuse rather than store it.
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0 || after.st_size != info.st_size ||
      after.st_mtim.tv_sec != info.st_mtim.tv_sec || after.st_mtim.tv_nsec != info.st_mtim.tv_nsec) {
    if (!result->already_stored) (void)remove(result->id);
    return unexpected(StoreError{StoreErrc::source_changed, path.string() + " changed while it was being published"});
  }
  return result;
}

Expected<PutResult, StoreError> Store::put_stream(int fd, const ProgressFn& progress) {
  auto temp = create_temp();
  if (!temp) return unexpected(temp.error());
  Bytes buffer(kStreamBufferBytes);
  std::uint64_t size = 0;
  std::uint64_t next_room_check = 0;
  for (;;) {
    if (size >= next_room_check) {
      if (auto room = check_room(size + kStreamRoomCheckBytes); !room) return unexpected(room.error());
      next_room_check = size + kStreamRoomCheckBytes;
    }
    auto got = read_some(fd, buffer);
    if (!got) return unexpected(got.error());
    if (*got == 0) break;
    if (auto written = write_all(temp->data.get(), ByteView(buffer).first(*got)); !written) {
      return unexpected(written.error());
    }
    size += *got;
    if (size > kContentBytesMax) return unexpected(StoreError{StoreErrc::bad_request, "input above 1 PiB"});
  }
  return hash_temp_and_commit(*temp, size, progress);
}

Expected<PutResult, StoreError> Store::put_bytes(ByteView bytes) {
  if (auto room = check_room(bytes.size()); !room) return unexpected(room.error());
  auto temp = create_temp();
  if (!temp) return unexpected(temp.error());
  if (auto written = write_all(temp->data.get(), bytes); !written) return unexpected(written.error());
  return hash_temp_and_commit(*temp, bytes.size(), {});
}

bool Store::contains(const ContentId& id) const {
  std::error_code ec;
  return fs::exists(object_dir(id) / kDataName, ec);
}

Expected<ObjectInfo, StoreError> Store::stat(const ContentId& id) const {
  const fs::path data = object_dir(id) / kDataName;
  struct stat info {};
  if (::stat(data.c_str(), &info) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return unexpected(StoreError{StoreErrc::not_found, id.to_string() + " is not in the content store"});
    }
    return unexpected(os_error(errno, "stat " + data.string()));
  }
  std::error_code ec;
  const auto modified = fs::last_write_time(data, ec);
  return ObjectInfo{id, static_cast<std::uint64_t>(info.st_size), data, ec ? fs::file_time_type{} : modified};
}

Expected<std::vector<ObjectInfo>, StoreError> Store::list() const {
  std::vector<ObjectInfo> objects;
  std::error_code ec;
  for (const auto& prefix : fs::directory_iterator(options_.root / "objects", ec)) {
    std::error_code inner;
    for (const auto& object : fs::directory_iterator(prefix.path(), inner)) {
      auto id = ContentId::parse(std::string(ContentId::kPrefix) + object.path().filename().string());
      if (!id) continue;  // not ours: ignore rather than fail the listing
      auto info = stat(*id);
      if (info) objects.push_back(std::move(*info));
    }
    if (inner) return unexpected(io_error("list " + prefix.path().string(), inner));
  }
  if (ec) return unexpected(io_error("list " + (options_.root / "objects").string(), ec));
  std::sort(objects.begin(), objects.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return objects;
}

Expected<void, StoreError> Store::remove(const ContentId& id) {
  auto info = stat(id);
  if (!info) return unexpected(info.error());
  // Out of sight atomically first, then deleted; a crash leaves only trash in tmp/.
  if (auto discarded = discard_dir(object_dir(id)); !discarded) return unexpected(discarded.error());
  shared_->cache.erase(id);
  const std::uint64_t bytes = object_bytes(info->size);
  shared_->stored_bytes -= std::min(bytes, shared_->stored_bytes.load());
  return {};
}

Expected<void, StoreError> Store::verify(const ContentId& id) const {
  auto info = stat(id);
  if (!info) return unexpected(info.error());
  auto data = MappedFile::open(info->data_path);
  if (!data) return unexpected(StoreError{StoreErrc::io, data.error().text});
  Bytes computed_outboard;
  const ParallelHashOptions hash_options{options_.hash_threads};
  auto root = hash_bytes(data->bytes(), {.outboard = &computed_outboard}, hash_options, {});
  if (!root) return unexpected(root.error());
  if (*root != id.hash()) {
    return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": stored content does not match its id (BLAKE3 " +
                                                         to_hex(*root) + ")"});
  }
  auto outboard = MappedFile::open(object_dir(id) / kOutboardName);
  if (!outboard) return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": outboard unreadable: " + outboard.error().text});
  const ByteView stored = outboard->bytes();
  if (!std::equal(stored.begin(), stored.end(), computed_outboard.begin(), computed_outboard.end())) {
    return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": stored outboard does not match the content"});
  }
  return {};
}

Expected<Bytes, StoreError> Store::encode_range(const ContentId& id, ByteRange range) const {
  auto info = stat(id);
  if (!info) return unexpected(info.error());
  auto groups = groups_of(range, info->size);
  if (!groups) return unexpected(StoreError{StoreErrc::bad_request, groups.error().detail});
  if ((groups->end - groups->first) * kGroupBytes > kRangeBytesMax) {
    return unexpected(StoreError{StoreErrc::bad_request, "range above " + human_bytes(kRangeBytesMax)});
  }
  auto outboard_file = MappedFile::open(object_dir(id) / kOutboardName);
  if (!outboard_file) return unexpected(StoreError{StoreErrc::corrupt, outboard_file.error().text});
  auto outboard = OutboardView::open(outboard_file->bytes(), info->size);
  if (!outboard) return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": " + outboard.error().detail});
  auto layout = lay_out_range(*outboard, range);
  if (!layout) return unexpected(StoreError{StoreErrc::corrupt, layout.error().detail});
  // Groups are read straight into their places: mapping the whole file for
  // every range served cost more than the copy itself (page faults).
  const UniqueFd fd = open_fd(info->data_path, O_RDONLY);
  if (!fd) return unexpected(os_error(errno, "open content of " + id.to_string()));
  // Groups consecutive in the file (all of them, but for the last group
  // that proves the size of a range ending early) go in one scattered read.
  std::vector<MutableByteView> run;
  std::uint64_t run_offset = 0;
  const auto read_run = [&]() -> Expected<void, StoreError> {
    if (run.empty()) return {};
    auto read = read_exact_scattered_at(fd.get(), run, run_offset);
    run.clear();
    if (read) return {};
    if (read.error().code != StoreErrc::source_changed) {
      return unexpected(StoreError{StoreErrc::io, "read content of " + id.to_string() + ": " + read.error().detail});
    }
    return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": content file shorter than its size"});
  };
  std::uint64_t run_end = 0;
  for (const GroupSlot& slot : layout->groups) {
    if (!run.empty() && slot.content_offset != run_end) {
      if (auto read = read_run(); !read) return unexpected(read.error());
    }
    if (run.empty()) run_offset = slot.content_offset;
    run.emplace_back(layout->encoded.data() + slot.encoded_offset, slot.length);
    run_end = slot.content_offset + slot.length;
  }
  if (auto read = read_run(); !read) return unexpected(read.error());
  return std::move(layout->encoded);
}

Expected<Bytes, StoreError> Store::read(const ContentId& id, std::uint64_t offset, std::uint64_t length, bool verify) {
  auto info = stat(id);
  if (!info) return unexpected(info.error());
  const std::uint64_t size = info->size;
  if (offset >= size) return Bytes{};
  const std::uint64_t end = offset + std::min(length, size - offset);
  if (end - offset > kRangeBytesMax) {
    return unexpected(StoreError{StoreErrc::bad_request, "read above " + human_bytes(kRangeBytesMax)});
  }
  if (!verify) {
    const UniqueFd fd = open_fd(info->data_path, O_RDONLY);
    if (!fd) return unexpected(os_error(errno, "open content of " + id.to_string()));
    Bytes out(end - offset);
    if (auto read = read_exact_at(fd.get(), out, offset); !read) {
      return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": content file shorter than its size"});
    }
    return out;
  }

  // Verified: groups from the cache (it holds verified groups only), the
  // rest through the same decoder as bytes from the network, then cached.
  const std::uint64_t first_group = offset / kGroupBytes;
  const std::uint64_t end_group = (end + kGroupBytes - 1) / kGroupBytes;
  std::vector<std::shared_ptr<const Bytes>> groups(end_group - first_group);
  bool all_cached = true;
  for (std::uint64_t g = first_group; g < end_group; ++g) {
    auto cached = shared_->cache.get(id, g);
    if (cached) groups[g - first_group] = *cached;
    all_cached = all_cached && cached.has_value();
  }
  if (!all_cached) {
    const ByteRange range{first_group * kGroupBytes, (end_group - first_group) * kGroupBytes};
    auto encoded = encode_range(id, range);
    if (!encoded) return unexpected(encoded.error());
    RangeDecoder decoder(id.hash(), range);
    auto fed = decoder.feed(*encoded);
    if (!fed || !decoder.finish()) {
      return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": stored content does not match its id (" +
                                                           (fed ? std::string("incomplete") : fed.error().detail) + ")"});
    }
    while (auto group = decoder.poll_group()) {
      auto bytes = std::make_shared<const Bytes>(std::move(group->bytes));
      if (group->index >= first_group && group->index < end_group) groups[group->index - first_group] = bytes;
      shared_->cache.put(id, group->index, std::move(bytes));
    }
  }
  Bytes out;
  out.reserve(end - offset);
  for (std::uint64_t g = first_group; g < end_group; ++g) {
    const Bytes& group = *groups[g - first_group];
    const std::uint64_t group_start = g * kGroupBytes;
    const std::uint64_t from = std::max(offset, group_start) - group_start;
    const std::uint64_t to = std::min(end, group_start + group.size()) - group_start;
    out.insert(out.end(), group.begin() + static_cast<std::ptrdiff_t>(from), group.begin() + static_cast<std::ptrdiff_t>(to));
  }
  return out;
}

Expected<void, StoreError> Store::write_to(const ContentId& id, int fd, bool verify) {
  auto info = stat(id);
  if (!info) return unexpected(info.error());
  if (verify) {
    // Range by range through the decoder: nothing unverified reaches `fd`.
    std::uint64_t offset = 0;
    do {
      const ByteRange range{offset, kRangeBytesMax};
      auto encoded = encode_range(id, range);
      if (!encoded) return unexpected(encoded.error());
      RangeDecoder decoder(id.hash(), range);
      auto fed = decoder.feed(*encoded);
      while (auto group = decoder.poll_group()) {
        if (group->offset < offset || group->offset >= offset + kRangeBytesMax) continue;  // the size proof
        if (auto written = write_all(fd, group->bytes); !written) return unexpected(written.error());
      }
      if (!fed || !decoder.finish()) {
        return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": stored content does not match its id" +
                                                             (fed ? std::string() : ": " + fed.error().detail)});
      }
      offset += kRangeBytesMax;
    } while (offset < info->size);
    return {};
  }
  const UniqueFd data = open_fd(info->data_path, O_RDONLY);
  if (!data) return unexpected(os_error(errno, "open " + info->data_path.string()));
  std::uint64_t remaining = info->size;
  off_t position = 0;
  while (remaining > 0) {
    const ssize_t sent = ::sendfile(fd, data.get(), &position, std::min<std::uint64_t>(remaining, 1u << 30));
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EINVAL || errno == ENOSYS)) {
      // Not every output takes sendfile (e.g. an O_APPEND file): copy by hand.
      Bytes buffer(kStreamBufferBytes);
      while (remaining > 0) {
        const auto piece = MutableByteView(buffer).first(std::min<std::uint64_t>(remaining, buffer.size()));
        if (auto read = read_exact_at(data.get(), piece, static_cast<std::uint64_t>(position)); !read) {
          return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": content file shorter than its size"});
        }
        if (auto written = write_all(fd, piece); !written) return unexpected(written.error());
        position += static_cast<off_t>(piece.size());
        remaining -= piece.size();
      }
      return {};
    }
    if (sent < 0) return unexpected(os_error(errno, "write content"));
    if (sent == 0) return unexpected(StoreError{StoreErrc::corrupt, id.to_string() + ": content file shorter than its size"});
    remaining -= static_cast<std::uint64_t>(sent);
  }
  return {};
}

}  // namespace taho::content
