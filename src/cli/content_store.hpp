// The CLI's access to the content store of its home:
// - open_content_store: the store itself, opened with the [content] limits
//   (taho publish, taho content ...);
// - StoreCopy: reading a content's files directly, without opening the
//   store (no cleaning, no locks), to copy what a daemon on this machine
//   fetches into a file while it fetches (taho get -o).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "cli/session.hpp"
#include "content/store/parallel_hasher.hpp"
#include "content/store/store.hpp"
#include "content/store/unique_fd.hpp"
#include "crypto/blake3.hpp"

namespace taho::cli {

// Prints the reason to stderr, prefixed with `command`, when it cannot open.
std::optional<content::Store> open_content_store(const Session& session, std::string_view command);

// The exit code for a store error: bad input is kExitUsage, the rest kExitFailure.
int exit_code_of(const content::StoreError& error);

// Where the store keeps one content's bytes (the layout in store.hpp): the
// committed object, and a fetch's partial download before the commit
// renames that very file into the object.
struct ContentFiles {
  std::filesystem::path object_data;
  std::filesystem::path partial_data;
};
ContentFiles content_files(const std::filesystem::path& store_root, const content::ContentId& id);

// Which side of a copy failed: the store (unreadable, another user's: the
// caller can fetch the bytes another way), the store's file not found at
// either path (between them while being committed, or not on this machine
// at all), or the output (cannot write, disk full: fatal).
enum class CopyErrc { source, source_missing, output };
using CopyError = Error<CopyErrc>;

// Copies a content out of the store into `out_fd` at the same offsets and
// hashes every byte it writes, so the caller checks what landed in the
// output, not what the store holds. While a daemon fetches, copy_verified
// follows it through the partial download; finish copies the rest from the
// committed object. The bytes the daemon reports verified are trusted only
// to decide what to read: a wrong byte fails the final hash.
class StoreCopy {
 public:
  StoreCopy(ContentFiles files, int out_fd);

  // Copies bytes [copied(), verified_end), which the daemon's fetch has
  // verified and written (its contiguous_bytes). While the file is in
  // neither place (the commit moves it) it copies less, and the next call
  // or finish() goes on.
  Expected<void, CopyError> copy_verified(std::uint64_t verified_end);
  // Once the object is committed: copies the rest of its `size` bytes and
  // returns the hash of everything written. Bytes copied during the fetch
  // were hashed as they were copied (on a busy machine that costs less than
  // a second pass, and the hashing hides behind the transfer). When nothing
  // was copied yet, the whole object is copied, then read back from the
  // output and hashed on all cores; `progress` sees the bytes done.
  Expected<crypto::blake3::Hash, CopyError> finish(std::uint64_t size, const content::ProgressFn& progress = {});

  std::uint64_t copied() const { return copied_; }

 private:
  Expected<void, CopyError> open_source();
  // Whether the open source is still the partial download's file or the
  // object's: a partial started afresh gets a new data file.
  bool source_current() const;
  // Whether a step copies in the kernel: bytes to hash go through our
  // buffer instead (read once, hashed, written once).
  bool kernel_copies(bool hash) const { return kernel_copy_ && !hash; }
  // Copies `length` bytes at copied(), hashing them when `hash`.
  Expected<void, CopyError> copy_chunk(std::uint64_t length, bool hash);

  ContentFiles files_;
  int out_fd_;
  bool kernel_copy_ = true;  // copy_file_range until it says it cannot here
  content::UniqueFd source_;
  struct stat source_stat_ {};
  crypto::blake3::Hasher hasher_;
  std::uint64_t copied_ = 0;
  std::uint64_t hashed_ = 0;  // the hasher has seen bytes [0, hashed_)
  Bytes buffer_;
};

}  // namespace taho::cli
