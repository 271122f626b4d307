#include "content/store/partial.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <thread>

#include "content/store/unique_fd.hpp"

namespace taho::content {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDataName = "data";
constexpr const char* kBitmapName = "bitmap";
constexpr const char* kNewBitmapName = "bitmap.new";
// open_partial waits this long for a lock held only for a moment (another
// process's Store::open or list_partials looking at leftovers) before in_use.
constexpr auto kLockWait = std::chrono::milliseconds(250);
constexpr auto kLockPoll = std::chrono::milliseconds(5);
// Tries at locking a partial's directory while a cleaner keeps removing it.
constexpr int kLockAttemptsMax = 4;
// Writeback of the data starts after this many bytes, so a flush's
// fdatasync, which the caller's thread waits for, finds little left to write.
constexpr std::uint64_t kWritebackKickBytes = std::uint64_t{1} << 20;

UniqueFd open_fd(const fs::path& path, int flags, mode_t mode = 0644) {
  return UniqueFd(::open(path.c_str(), flags | O_CLOEXEC, mode));
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

bool is_id_hex(const std::string& name) {
  return name.size() == 64 &&
         std::all_of(name.begin(), name.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::uint64_t reserved_bytes(std::uint64_t size) { return size + outboard_bytes(size); }

std::string what_partial(const ContentId& id) { return "the partial download of " + id.to_string(); }

// The bitmap file of a partial of `size` bytes, or an empty one if it is
// missing or fails any check: unverifiable state is never trusted.
GroupBitmap read_bitmap(const fs::path& path, std::uint64_t size, bool* valid = nullptr) {
  if (valid) *valid = false;
  const UniqueFd fd = open_fd(path, O_RDONLY);
  struct stat info {};
  const std::uint64_t expected_bytes = GroupBitmap::file_bytes(size);
  if (!fd || ::fstat(fd.get(), &info) != 0 || static_cast<std::uint64_t>(info.st_size) != expected_bytes) {
    return GroupBitmap(size);
  }
  Bytes file(expected_bytes);
  if (!read_exact_at(fd.get(), file, 0)) return GroupBitmap(size);
  auto bitmap = GroupBitmap::from_file(file);
  if (!bitmap || bitmap->content_size() != size) return GroupBitmap(size);
  if (valid) *valid = true;
  return std::move(*bitmap);
}

// Replaces the bitmap file whole: readers see the old version or the new.
Expected<void, StoreError> write_bitmap(const fs::path& dir, const GroupBitmap& bitmap) {
  const fs::path temp = dir / kNewBitmapName;
  const UniqueFd fd = open_fd(temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (!fd) return unexpected(os_error(errno, "create " + temp.string()));
  if (auto written = write_all(fd.get(), bitmap.to_file()); !written) return unexpected(written.error());
  if (auto synced = sync_data(fd.get(), "partial download bitmap"); !synced) return unexpected(synced.error());
  if (::rename(temp.c_str(), (dir / kBitmapName).c_str()) != 0) {
    return unexpected(os_error(errno, "replace " + (dir / kBitmapName).string()));
  }
  return {};
}

fs::file_time_type last_written(const fs::path& dir) {
  fs::file_time_type newest{};
  for (const char* name : {kDataName, kBitmapName}) {
    std::error_code ec;
    const auto time = fs::last_write_time(dir / name, ec);
    if (!ec) newest = std::max(newest, time);
  }
  if (newest == fs::file_time_type{}) {
    std::error_code ec;
    newest = fs::last_write_time(dir, ec);
  }
  return newest;
}

// True while another process holds the partial's lock. Takes a shared lock
// for a moment, which an open_partial at that instant waits out.
bool held_by_another(const fs::path& dir) {
  const UniqueFd fd = open_fd(dir, O_RDONLY | O_DIRECTORY);
  return fd && ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

enum class Create { no, yes };
enum class Wait { no, briefly };

// Locks the partial directory `dir` (flock, exclusive) for `id`.
Expected<UniqueFd, StoreError> lock_partial_dir(const fs::path& dir, const ContentId& id, Create create, Wait wait) {
  for (int attempt = 0; attempt < kLockAttemptsMax; ++attempt) {
    if (create == Create::yes && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return unexpected(os_error(errno, "create " + dir.string()));
    }
    UniqueFd fd = open_fd(dir, O_RDONLY | O_DIRECTORY);
    if (!fd) {
      if (errno == ENOENT && create == Create::yes) continue;  // removed since mkdir
      if (errno == ENOENT) return unexpected(StoreError{StoreErrc::not_found, "there is no partial download of " + id.to_string()});
      return unexpected(os_error(errno, "open " + dir.string()));
    }
    const auto patience = wait == Wait::briefly ? kLockWait : std::chrono::milliseconds(0);
    const auto deadline = std::chrono::steady_clock::now() + patience;
    while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      if (errno != EWOULDBLOCK) return unexpected(os_error(errno, "lock " + dir.string()));
      if (std::chrono::steady_clock::now() >= deadline) {
        return unexpected(StoreError{StoreErrc::in_use, what_partial(id) + " is in use by another process"});
      }
      std::this_thread::sleep_for(kLockPoll);
    }
    // A cleaner may have removed the directory before we locked it: only the
    // one still at the path counts.
    struct stat held {};
    struct stat current {};
    if (::fstat(fd.get(), &held) == 0 && ::stat(dir.c_str(), &current) == 0 && same_file(held, current)) return fd;
    if (create == Create::no) return unexpected(StoreError{StoreErrc::not_found, "there is no partial download of " + id.to_string()});
  }
  return unexpected(StoreError{StoreErrc::io, "could not lock " + dir.string() + ": it keeps being removed"});
}

struct FlushOutcome {
  Expected<void, StoreError> result;
  bool sync_failed = false;  // the fdatasync failed (not the bitmap's write)
};

// Makes the data durable, then marks `bitmap` (groups written before the
// call) in the bitmap file: a bit on disk never names bytes that are not.
FlushOutcome flush_to_disk(int data_fd, const fs::path& dir, const GroupBitmap& bitmap) {
  if (auto synced = sync_data(data_fd, "partial download"); !synced) return {unexpected(synced.error()), true};
  return {write_bitmap(dir, bitmap), false};
}

}  // namespace

struct Partial::State {
  Store* store = nullptr;
  ContentId id;
  fs::path dir;
  UniqueFd lock;  // flock on dir, held while open
  UniqueFd data;
  GroupBitmap completed{0};
  GroupChainingValues chaining_values{0};  // of the groups written through this Partial
  std::uint64_t groups_unflushed = 0;
  std::uint64_t bytes_since_writeback = 0;
  std::chrono::steady_clock::time_point last_flush = std::chrono::steady_clock::now();
  // The flush write() started on a worker thread, if any: its fdatasync
  // waits for the disk (long when the network outpaces it), the writer
  // goes on meanwhile. One at a time; flush(), commit() and close wait for it.
  std::optional<std::future<FlushOutcome>> background_flush;
  bool spent = false;  // committed or discarded: the directory is gone
  // An fdatasync failed: the kernel may have dropped dirty pages and will not
  // say so twice, so no later bit could be trusted. The bitmap file keeps
  // its last good version.
  bool sync_failed = false;
};

namespace {

StoreError sync_failed_error(const ContentId& id) {
  return {StoreErrc::io, what_partial(id) + " hit a disk error earlier; close it and fetch again"};
}

}  // namespace

Partial::Partial(std::unique_ptr<State> state) : state_(std::move(state)) {}
Partial::Partial(Partial&&) noexcept = default;
Partial& Partial::operator=(Partial&&) noexcept = default;

Partial::~Partial() {
  if (!state_ || state_->spent) return;
  (void)flush();  // nothing to report to: what was not flushed is fetched again
  // The bitmap's last rename survives a power loss too.
  const UniqueFd dir = open_fd(state_->dir, O_RDONLY | O_DIRECTORY);
  if (dir) (void)sync_fd(dir.get(), "partial download directory");
}

const ContentId& Partial::id() const { return state_->id; }
std::uint64_t Partial::size() const { return state_->completed.content_size(); }
const GroupBitmap& Partial::completed() const { return state_->completed; }
bool Partial::spent() const { return state_->spent; }
std::uint64_t Partial::groups_missing() const { return state_->completed.group_count() - state_->completed.groups_set(); }

Expected<void, StoreError> Partial::write(const VerifiedGroup& group) {
  State& state = *state_;
  if (state.spent) {
    return unexpected(StoreError{StoreErrc::bad_request, what_partial(state.id) + " was committed or discarded already"});
  }
  const std::uint64_t size = state.completed.content_size();
  if (group.index >= state.completed.group_count() || group.offset != group.index * kGroupBytes ||
      group.bytes.size() != group_length(size, group.index)) {
    return unexpected(StoreError{StoreErrc::bad_request, "group " + std::to_string(group.index) + " (" +
                                                             std::to_string(group.bytes.size()) + " bytes at offset " +
                                                             std::to_string(group.offset) + ") does not fit content of " +
                                                             std::to_string(size) + " bytes"});
  }
  if (auto background = collect_background_flush(false); !background) return background;
  if (state.sync_failed) return unexpected(sync_failed_error(state.id));
  if (state.completed.test(group.index)) return {};  // a second copy: same verified bytes
  if (auto written = write_all_at(state.data.get(), group.bytes, group.offset); !written) {
    return unexpected(written.error());
  }
  state.completed.set(group.index);
  state.chaining_values.set(group.index, group.chaining_value);
  ++state.groups_unflushed;
  state.bytes_since_writeback += group.bytes.size();
  if (state.bytes_since_writeback >= kWritebackKickBytes) {
    // Starts writeback without waiting; its errors surface at the flush's fdatasync.
    (void)::sync_file_range(state.data.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    state.bytes_since_writeback = 0;
  }
  const StoreOptions& options = state.store->options_;
  if (state.groups_unflushed * kGroupBytes >= options.partial_flush_bytes &&
      std::chrono::steady_clock::now() - state.last_flush >= options.partial_flush_interval) {
    return start_background_flush();
  }
  return {};
}

Expected<void, StoreError> Partial::collect_background_flush(bool wait) {
  State& state = *state_;
  if (!state.background_flush) return {};
  if (!wait && state.background_flush->wait_for(std::chrono::seconds(0)) != std::future_status::ready) return {};
  FlushOutcome outcome = state.background_flush->get();
  state.background_flush.reset();
  if (outcome.sync_failed) state.sync_failed = true;
  // Its groups count as unflushed again, so the next flush marks them.
  if (!outcome.result) state.groups_unflushed = std::max<std::uint64_t>(state.groups_unflushed, 1);
  return outcome.result;
}

Expected<void, StoreError> Partial::start_background_flush() {
  State& state = *state_;
  if (state.background_flush &&
      state.background_flush->wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return {};  // one at a time: the next one takes these groups along
  }
  if (auto previous = collect_background_flush(true); !previous) return previous;
  if (state.sync_failed) return unexpected(sync_failed_error(state.id));
  state.groups_unflushed = 0;
  state.last_flush = std::chrono::steady_clock::now();
  state.background_flush = std::async(std::launch::async, [fd = state.data.get(), dir = state.dir,
                                                           bitmap = state.completed] {
    return flush_to_disk(fd, dir, bitmap);
  });
  return {};
}

Expected<void, StoreError> Partial::flush() {
  State& state = *state_;
  if (auto background = collect_background_flush(true); !background) return background;
  if (state.spent || state.groups_unflushed == 0) return {};
  if (state.sync_failed) return unexpected(sync_failed_error(state.id));
  FlushOutcome outcome = flush_to_disk(state.data.get(), state.dir, state.completed);
  if (outcome.sync_failed) state.sync_failed = true;
  if (!outcome.result) return outcome.result;
  state.groups_unflushed = 0;
  state.last_flush = std::chrono::steady_clock::now();
  return {};
}

Expected<PutResult, StoreError> Partial::commit() {
  State& state = *state_;
  if (state.spent) {
    return unexpected(StoreError{StoreErrc::bad_request, what_partial(state.id) + " was committed or discarded already"});
  }
  // The bitmap flush in flight touches the directory: it ends first.
  (void)collect_background_flush(true);  // a failed sync shows below; a failed bitmap write does not matter now
  if (state.sync_failed) return unexpected(sync_failed_error(state.id));
  if (!state.completed.complete()) {
    return unexpected(StoreError{StoreErrc::bad_request, what_partial(state.id) + " misses " +
                                                             std::to_string(groups_missing()) + " of " +
                                                             std::to_string(state.completed.group_count()) + " groups"});
  }
  Store& store = *state.store;
  // The groups written here have their values; those resumed from disk are hashed now.
  auto result = store.adopt_file(state.dir / kDataName, state.data, state.id, state.completed.content_size(),
                                 &state.chaining_values);
  if (!result && result.error().code != StoreErrc::id_mismatch) {
    if (!state.data) {  // the data left with the failed commit: nothing to resume
      state.spent = true;
      (void)store.discard_dir(state.dir);
    }
    return result;
  }
  state.spent = true;
  (void)store.discard_dir(state.dir);
  if (!result) {
    return unexpected(StoreError{StoreErrc::corrupt, what_partial(state.id) + " is damaged on disk (" +
                                                         result.error().detail +
                                                         "); it was discarded, fetch the content again"});
  }
  return result;
}

// --- the store's side ---

Expected<Partial, StoreError> Store::open_partial(const ContentId& id, std::uint64_t size) {
  if (size > kContentBytesMax) return unexpected(StoreError{StoreErrc::bad_request, "content above 1 PiB"});
  const fs::path dir = partial_dir(id);
  auto lock = lock_partial_dir(dir, id, Create::yes, Wait::briefly);
  if (!lock) return unexpected(lock.error());

  UniqueFd data = open_fd(dir / kDataName, O_RDWR);
  struct stat info {};
  const bool resumable = data && ::fstat(data.get(), &info) == 0 && S_ISREG(info.st_mode) &&
                         static_cast<std::uint64_t>(info.st_size) == size;
  bool restored = false;
  GroupBitmap completed = resumable ? read_bitmap(dir / kBitmapName, size, &restored) : GroupBitmap(size);
  if (!resumable) {
    // Afresh, with a new data file: a reader still holding the old one reads
    // consistent bytes and sees the change (read_partial). The bitmap goes
    // first, so no reader pairs it with the new file.
    data.reset();
    for (const char* name : {kBitmapName, kDataName}) {
      if (::unlink((dir / name).c_str()) != 0 && errno != ENOENT) {
        return unexpected(os_error(errno, "remove " + (dir / name).string()));
      }
    }
    if (auto room = check_room(size); !room) {
      (void)discard_dir(dir);
      return unexpected(room.error());
    }
    data = open_fd(dir / kDataName, O_RDWR | O_CREAT | O_EXCL, 0644);
    if (!data) return unexpected(os_error(errno, "create " + (dir / kDataName).string()));
    // Sparse: no writes for what is never fetched (a Range request may want
    // a little of a large object). The room was checked for all of it.
    if (::ftruncate(data.get(), static_cast<off_t>(size)) != 0) {
      return unexpected(os_error(errno, "size " + (dir / kDataName).string()));
    }
  }

  auto state = std::make_unique<Partial::State>();
  state->store = this;
  state->id = id;
  state->dir = dir;
  state->lock = std::move(*lock);
  state->data = std::move(data);
  state->completed = std::move(completed);
  state->chaining_values = GroupChainingValues(size);
  if (!restored) {
    // Names the size for list_partials, and replaces a damaged bitmap.
    if (auto written = write_bitmap(dir, state->completed); !written) return unexpected(written.error());
  }
  return Partial(std::move(state));
}

Expected<Bytes, StoreError> Store::read_partial(const ContentId& id, std::uint64_t offset, std::uint64_t length,
                                                std::uint64_t vouched_end_bytes) const {
  const fs::path dir = partial_dir(id);
  const fs::path data_path = dir / kDataName;
  const UniqueFd data = open_fd(data_path, O_RDONLY);
  if (!data) {
    if (errno == ENOENT || errno == ENOTDIR) {
      return unexpected(StoreError{StoreErrc::not_found, "there is no partial download of " + id.to_string()});
    }
    return unexpected(os_error(errno, "open " + data_path.string()));
  }
  struct stat opened {};
  if (::fstat(data.get(), &opened) != 0) return unexpected(os_error(errno, "stat " + data_path.string()));
  const auto size = static_cast<std::uint64_t>(opened.st_size);
  if (offset >= size || length == 0) return Bytes{};
  const std::uint64_t end = offset + std::min(length, size - offset);
  if (end - offset > kRangeBytesMax) return unexpected(StoreError{StoreErrc::bad_request, "read above 16 MiB"});

  // Every group the range touches must be vouched for or marked on disk.
  std::optional<GroupBitmap> bitmap;
  for (std::uint64_t group = offset / kGroupBytes; group <= (end - 1) / kGroupBytes; ++group) {
    if (group * kGroupBytes + group_length(size, group) <= vouched_end_bytes) continue;
    if (!bitmap) bitmap = read_bitmap(dir / kBitmapName, size);
    if (!bitmap->test(group)) {
      return unexpected(StoreError{StoreErrc::not_verified, "bytes " + std::to_string(offset) + ".." +
                                                                std::to_string(end) + " of " + what_partial(id) +
                                                                " are not verified yet"});
    }
  }
  Bytes out(end - offset);
  if (auto read = read_exact_at(data.get(), out, offset); !read) {
    return unexpected(StoreError{StoreErrc::io, "read " + data_path.string() + ": " + read.error().detail});
  }
  // The bitmap we read describes the data file at the path. If that is not
  // the file we read any more, the partial was started afresh (its old data
  // says nothing about the new bitmap) or committed (then the object's data
  // is this very file, and the bytes are good).
  struct stat current {};
  const bool unchanged = (::stat(data_path.c_str(), &current) == 0 && same_file(opened, current)) ||
                         (::stat((object_dir(id) / kDataName).c_str(), &current) == 0 && same_file(opened, current));
  if (!unchanged) {
    return unexpected(StoreError{StoreErrc::not_verified, what_partial(id) + " changed while it was read; try again"});
  }
  return out;
}

Expected<std::vector<PartialInfo>, StoreError> Store::list_partials() const {
  std::vector<PartialInfo> partials;
  const fs::path root = options_.root / "partial";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    if (!is_id_hex(name)) continue;  // not ours
    auto id = ContentId::parse(std::string(ContentId::kPrefix) + name);
    if (!id) continue;
    struct stat data {};
    if (::stat((entry.path() / kDataName).c_str(), &data) != 0) continue;  // being created or committed
    PartialInfo info;
    info.id = *id;
    info.size = static_cast<std::uint64_t>(data.st_size);
    info.verified_bytes = read_bitmap(entry.path() / kBitmapName, info.size).verified_bytes();
    info.modified = last_written(entry.path());
    info.in_use = held_by_another(entry.path());
    partials.push_back(std::move(info));
  }
  if (ec) return unexpected(os_error(ec.value(), "list " + root.string()));
  std::sort(partials.begin(), partials.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  return partials;
}

Expected<void, StoreError> Store::remove_partial(const ContentId& id) {
  const fs::path dir = partial_dir(id);
  auto lock = lock_partial_dir(dir, id, Create::no, Wait::no);
  if (!lock) return unexpected(lock.error());
  return discard_dir(dir);
}

std::uint64_t Store::partial_reserved_bytes() const {
  std::uint64_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root / "partial", ec)) {
    struct stat data {};
    if (::stat((entry.path() / kDataName).c_str(), &data) == 0) total += reserved_bytes(static_cast<std::uint64_t>(data.st_size));
  }
  return total;
}

// Partials are kept for the next fetch, but not forever: those untouched for
// partial_age_max go, and while the store (objects and partials) is above
// max_store_gb, the least recently touched go first. Partials in use are
// never touched, and neither are entries that are not ours.
void Store::clean_partials() const {
  struct Idle {
    fs::path dir;
    UniqueFd lock;
    fs::file_time_type modified;
    std::uint64_t reserved = 0;
  };
  std::vector<Idle> idle;
  std::uint64_t reserved_total = 0;
  const auto now = fs::file_time_type::clock::now();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(options_.root / "partial", ec)) {
    const fs::path dir = entry.path();
    const std::string name = dir.filename().string();
    if (!is_id_hex(name)) continue;
    const ContentId id = ContentId::parse(std::string(ContentId::kPrefix) + name).value_or(ContentId{});
    struct stat data {};
    const bool has_data = ::stat((dir / kDataName).c_str(), &data) == 0;
    const std::uint64_t reserved = has_data ? reserved_bytes(static_cast<std::uint64_t>(data.st_size)) : 0;
    auto lock = lock_partial_dir(dir, id, Create::no, Wait::no);
    if (!lock) {
      if (lock.error().code == StoreErrc::in_use) reserved_total += reserved;
      continue;
    }
    if (!has_data) {
      (void)discard_dir(dir);  // never got its data, or was committed halfway: nothing to resume
      continue;
    }
    const auto modified = last_written(dir);
    if (now - modified > options_.partial_age_max) {
      (void)discard_dir(dir);
      continue;
    }
    reserved_total += reserved;
    idle.push_back({dir, std::move(*lock), modified, reserved});
  }
  if (!options_.store_bytes_max) return;
  std::sort(idle.begin(), idle.end(), [](const Idle& a, const Idle& b) { return a.modified < b.modified; });
  for (const Idle& partial : idle) {
    if (stored_bytes() + reserved_total <= *options_.store_bytes_max) break;
    if (discard_dir(partial.dir)) reserved_total -= partial.reserved;
  }
}

}  // namespace taho::content
