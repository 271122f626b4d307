// What the content routes need from the mesh (DESIGN.md §4 "Fetch"): fetch
// an id (or a range of it) from its holders, list holders, announce and
// withdraw. The daemon implements it on top of the network; tests use a fake.
// All calls and callbacks happen on the event loop's thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "content/tree/content_id.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::api {

struct FetchProgress {
  std::uint64_t size = 0;  // 0 until the first holder proved it
  std::uint64_t wanted_bytes = 0;
  std::uint64_t verified_bytes = 0;
  // Bytes from the start of the wanted range that are verified and on disk
  // (readable with Store::read_partial, or from the object once committed).
  std::uint64_t contiguous_bytes = 0;
  std::size_t sources = 0;  // holders currently sending
};

enum class FetchFailure {
  not_found,    // no holder found (within the fetcher's discovery timeout)
  unavailable,  // holders known but none could serve it (unreachable, refused, all bad)
  bad_range,    // the range lies outside the content, or is not 16 KiB aligned
  storage,      // the local store refused (full, I/O error)
  cancelled,    // cancel() was called
  disabled,     // fetching through the mesh is turned off
};

struct FetchOutcome {
  std::uint64_t size = 0;
  bool committed = false;  // the whole object is now in the store under its id
  std::size_t sources = 0;  // holders that sent bytes
};

struct HolderRow {
  std::string peer_id;
  std::vector<std::string> addrs;
  std::uint64_t size = 0;
  bool connected = false;
  std::optional<double> throughput;  // bytes per second measured from this holder, if any
};

class ContentFetcher {
 public:
  virtual ~ContentFetcher() = default;
  using OnProgress = std::function<void(const FetchProgress&)>;
  using OnDone = std::function<void(Expected<FetchOutcome, Error<FetchFailure>>)>;
  // Fetches the content (or only `range`, 16 KiB aligned offset) through the
  // mesh. Callbacks run on the event loop. Returns a handle for cancel().
  virtual std::uint64_t fetch(const content::Hash& root, std::optional<content::ByteRange> range,
                              OnProgress on_progress, OnDone on_done) = 0;
  virtual void cancel(std::uint64_t handle) = 0;
  virtual std::vector<HolderRow> holders(const content::Hash& root) const = 0;
  virtual void announce(const content::Hash& root, std::uint64_t size) = 0;  // after a publish through the API
  virtual void withdraw(const content::Hash& root) = 0;                      // after a delete through the API
};

}  // namespace taho::api
