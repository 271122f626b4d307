// What the content exchange (content_behaviour.hpp) needs from the node's
// storage, as an interface: the daemon implements it over the content store
// (node/store_content_storage.hpp), the simulated network in memory. Calls
// are made on the host's thread and touch at most one range (a few MiB),
// so the event loop never stalls on a whole object; the one step that
// needs the whole object, committing a download, is begun here and its
// outcome polled (the daemon runs it on a worker thread).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "content/tree/content_id.hpp"
#include "content/tree/range_decoder.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::host {

struct HeldContent {
  content::Hash root{};
  std::uint64_t size = 0;
};

class ContentStorage {
 public:
  virtual ~ContentStorage() = default;

  // ---- serving (complete objects only)
  // The size of a complete object we hold, or nothing.
  virtual std::optional<std::uint64_t> size_of(const content::Hash& root) = 0;
  // The range encoding (content/tree/range_encoding.hpp) of a held object:
  // `range.offset` is 16 KiB aligned, the length at most 16 MiB.
  virtual Result<Bytes> encode_range(const content::Hash& root, content::ByteRange range) = 0;
  // Every complete object, newest first (what announcements list).
  virtual std::vector<HeldContent> held() = 0;

  // ---- fetching: partial downloads, kept across restarts of the node
  // Opens the partial download of `root`, creating it or resuming one left
  // by an earlier fetch (even one killed by SIGKILL). `size` is the size
  // the first verified response proved. Returns the bitmap of groups
  // already written and verified (RangePlan::restore's format: bit i =
  // byte i / 8, least significant bit first). A partial of another size
  // is discarded and started afresh.
  virtual Result<Bytes> open_partial(const content::Hash& root, std::uint64_t size) = 0;
  // Writes one verified group. A crash may lose groups written since the
  // last flush but never marks a group that is not on disk.
  virtual Result<void> write_group(const content::Hash& root, const content::VerifiedGroup& group) = 0;
  // Every group is written: begins moving the object into the store
  // atomically, after checking it against the root (from the verified
  // groups' chaining values, hashing only what this fetch did not verify
  // itself). The partial is no longer open for writing. Fails at once only
  // if the commit cannot begin (e.g. no such partial is open).
  virtual Result<void> begin_commit(const content::Hash& root) = 0;
  // The outcome of the commit begun for `root`, once, when it is known (the
  // partial is gone then, committed or discarded as damaged); nothing while
  // it runs or when no commit was begun.
  virtual std::optional<Result<void>> poll_commit(const content::Hash& root) = 0;
  // The fetch stopped (cancelled, failed, or it wanted a range only): flush
  // the bitmap and keep the partial for a later fetch.
  virtual void close_partial(const content::Hash& root) = 0;
};

}  // namespace taho::host
