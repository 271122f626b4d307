// What the content exchange (content_behaviour.hpp) needs from the node's
// storage, as an interface: the daemon implements it over the content store
// (node/store_content_storage.hpp), the simulated network in memory. Calls
// are synchronous and made on the host's thread; each touches at most one
// range (a few MiB), so the event loop never stalls on a whole object.
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
  // Every group is written: re-verify and move the object into the store
  // atomically; the partial is gone afterwards.
  virtual Result<void> commit_partial(const content::Hash& root) = 0;
  // The fetch stopped (cancelled, failed, or it wanted a range only): flush
  // the bitmap and keep the partial for a later fetch.
  virtual void close_partial(const content::Hash& root) = 0;
};

}  // namespace taho::host
