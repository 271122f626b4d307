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

// Copies a content out of the store into `out_fd` at the same offsets, in
// the kernel (copy_file_range; through a buffer where it cannot). While a
// daemon fetches, copy_verified follows it through the partial download;
// finish copies the rest from the committed object.
//
// Who checks the bytes: what a running fetch wrote was verified group by
// group against the id by the daemon before it reached the file, and so was
// the object it commits, so a copy that followed a fetch is not hashed
// again here (that second pass cost a read and a hash of every byte, about
// a sixth of the CPU of a `taho get -o`, measured). A copy
// of content that was in the store already (nothing followed) is read back
// from the output and hashed, since the store's file may have been damaged
// since its commit.
class StoreCopy {
 public:
  StoreCopy(ContentFiles files, int out_fd);

  // Copies bytes [copied(), verified_end), which the daemon's fetch has
  // verified and written (its contiguous_bytes). While the file is in
  // neither place (the commit moves it) it copies less, and the next call
  // or finish() goes on.
  Expected<void, CopyError> copy_verified(std::uint64_t verified_end);
  // Once the object is committed: copies the rest of its `size` bytes. When
  // nothing was copied before, that is the whole object, which is then read
  // back from the output and hashed on all cores (`progress` sees the bytes
  // done): the hash is returned for the caller to check against the id.
  // After a followed fetch it returns no hash (see above).
  Expected<std::optional<crypto::blake3::Hash>, CopyError> finish(std::uint64_t size,
                                                                  const content::ProgressFn& progress = {});

  std::uint64_t copied() const { return copied_; }

 private:
  Expected<void, CopyError> open_source();
  // Whether the open source is still the partial download's file or the
  // object's: a partial started afresh gets a new data file.
  bool source_current() const;
  // Copies `length` bytes at copied().
  Expected<void, CopyError> copy_chunk(std::uint64_t length);
  std::uint64_t step_bytes() const;  // what one copy_chunk takes on

  ContentFiles files_;
  int out_fd_;
  bool kernel_copy_ = true;  // copy_file_range until it says it cannot here
  content::UniqueFd source_;
  struct stat source_stat_ {};
  std::uint64_t copied_ = 0;
  Bytes buffer_;  // for copies the kernel cannot do
};

}  // namespace taho::cli
