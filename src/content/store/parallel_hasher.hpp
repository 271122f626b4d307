// Hashing a file into its root and outboard on several cores: the groups of
// each window are shared out to worker threads (each reads its 1 MiB batch,
// hashes its groups and, when asked, copies the batch into the store), then
// the chaining values join into the tree in order (OutboardBuilder).
#pragma once

#include <cstdint>
#include <functional>

#include "content/store/group_chaining_values.hpp"
#include "content/store/store_error.hpp"
#include "content/tree/outboard.hpp"

namespace taho::content {

using ProgressFn = std::function<void(std::uint64_t bytes_done)>;

struct ParallelHashOptions {
  unsigned threads = 0;                         // 0: one per core
  std::uint64_t batch_bytes = 16 * kGroupBytes;  // 256 KiB: one worker's unit, stays in L2
  std::uint64_t window_bytes = std::uint64_t{64} << 20;  // bounds the chaining values held
};

struct HashTargets {
  int copy_fd = -1;      // >= 0: write the content here at the same offsets
  int outboard_fd = -1;  // >= 0: append the outboard here
  Bytes* outboard = nullptr;  // non-null: append the outboard here
};

// Hashes the first `size` bytes of `source_fd`, read with pread: safe for
// files others may truncate meanwhile (publishing a user's file).
Expected<Hash, StoreError> hash_file(int source_fd, std::uint64_t size, HashTargets targets,
                                     const ParallelHashOptions& options, const ProgressFn& progress);

// Hashes bytes already in memory, e.g. a mapping of a file the store owns:
// no read copy, as fast as b3sum's mmap path.
Expected<Hash, StoreError> hash_bytes(ByteView source, HashTargets targets, const ParallelHashOptions& options,
                                      const ProgressFn& progress);

// The root and outboard of `source` from the chaining values `known` has:
// only the groups it lacks are hashed (on several cores, into `known`),
// then the last group, and the tree above the groups is joined from the
// values (OutboardBuilder). Content whose values are not kept at all
// (above GroupChainingValues::kContentBytesMax) is hashed whole, as
// hash_bytes does. The result is the root of `source` only as far as the
// values in `known` are those of its groups: the caller vouches for that.
Expected<Hash, StoreError> hash_with_chaining_values(ByteView source, GroupChainingValues& known, HashTargets targets,
                                                     const ParallelHashOptions& options);

}  // namespace taho::content
