#include "content/store/parallel_hasher.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "content/store/unique_fd.hpp"

namespace taho::content {
namespace {

// Outboard bytes are appended to the file every this many groups (256 KiB of pairs).
constexpr std::uint64_t kOutboardFlushGroups = 4096;

unsigned thread_count(const ParallelHashOptions& options) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return options.threads == 0 ? cores : options.threads;
}

// The workers of one window share this; the first error stops them all.
struct Window {
  int source_fd;       // read with pread when `mapped` is empty
  ByteView mapped;
  HashTargets targets;
  std::uint64_t first_group;
  std::uint64_t groups;  // hashed by the workers (never the content's last group)
  std::uint64_t batch_groups;
  std::vector<Hash>* chaining_values;
  std::atomic<std::uint64_t> next_batch{0};
  std::mutex error_mutex;
  std::optional<StoreError> error;

  void record(StoreError failure) {
    const std::lock_guard lock(error_mutex);
    if (!error) error = std::move(failure);
  }
  bool failed() {
    const std::lock_guard lock(error_mutex);
    return error.has_value();
  }
};

void work(Window& window) {
  Bytes buffer(window.mapped.empty() ? window.batch_groups * kGroupBytes : 0);
  for (;;) {
    const std::uint64_t batch = window.next_batch.fetch_add(1);
    const std::uint64_t first = batch * window.batch_groups;
    if (first >= window.groups || window.failed()) return;
    const std::uint64_t count = std::min(window.batch_groups, window.groups - first);
    const std::uint64_t offset = (window.first_group + first) * kGroupBytes;
    ByteView bytes;
    if (window.mapped.empty()) {
      const MutableByteView into(buffer.data(), count * kGroupBytes);
      if (auto read = read_exact_at(window.source_fd, into, offset); !read) return window.record(read.error());
      bytes = into;
    } else {
      bytes = window.mapped.subspan(offset, count * kGroupBytes);
    }
    for (std::uint64_t i = 0; i < count; ++i) {
      (*window.chaining_values)[first + i] =
          group_chaining_value(bytes.subspan(i * kGroupBytes, kGroupBytes), window.first_group + first + i);
    }
    if (window.targets.copy_fd >= 0) {
      if (auto written = write_all_at(window.targets.copy_fd, bytes, offset); !written) {
        return window.record(written.error());
      }
    }
  }
}

Expected<void, StoreError> flush_outboard(OutboardBuilder& builder, const HashTargets& targets) {
  const Bytes pairs = builder.take_output();
  if (targets.outboard) append(*targets.outboard, pairs);
  if (targets.outboard_fd < 0) return {};
  return write_all(targets.outboard_fd, pairs);
}

// Either source_fd >= 0 (pread) or `mapped` holds all `size` bytes.
Expected<Hash, StoreError> hash_source(int source_fd, ByteView mapped, std::uint64_t size, HashTargets targets,
                                       const ParallelHashOptions& options, const ProgressFn& progress) {
  if (size > kContentBytesMax) return unexpected(StoreError{StoreErrc::bad_request, "content above 1 PiB"});
  const unsigned threads = thread_count(options);
  const std::uint64_t batch_groups = std::max<std::uint64_t>(1, options.batch_bytes / kGroupBytes);
  const std::uint64_t window_groups =
      std::max<std::uint64_t>(batch_groups, options.window_bytes / kGroupBytes / batch_groups * batch_groups);
  const std::uint64_t total_groups = group_count(size);
  const std::uint64_t hashed_groups = total_groups - 1;  // the last one finishes the tree

  OutboardBuilder builder;
  std::vector<Hash> chaining_values;
  for (std::uint64_t first = 0; first < hashed_groups; first += window_groups) {
    const std::uint64_t groups = std::min(window_groups, hashed_groups - first);
    chaining_values.assign(groups, Hash{});
    Window window{source_fd, mapped, targets, first, groups, batch_groups, &chaining_values, {}, {}, {}};
    const unsigned workers =
        static_cast<unsigned>(std::min<std::uint64_t>(threads, (groups + batch_groups - 1) / batch_groups));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < workers; ++t) pool.emplace_back([&window] { work(window); });
    work(window);  // this thread is a worker too
    for (auto& thread : pool) thread.join();
    if (window.error) return unexpected(std::move(*window.error));
    for (const auto& value : chaining_values) builder.add_group(value);
    if (auto flushed = flush_outboard(builder, targets); !flushed) return unexpected(flushed.error());
    if (progress) progress((first + groups) * kGroupBytes);
  }

  const std::uint64_t last_offset = hashed_groups * kGroupBytes;
  Bytes last(size - last_offset);
  if (source_fd >= 0) {
    if (auto read = read_exact_at(source_fd, last, last_offset); !read) return unexpected(read.error());
  } else {
    const auto tail = mapped.subspan(last_offset);
    std::copy(tail.begin(), tail.end(), last.begin());
  }
  if (targets.copy_fd >= 0) {
    if (auto written = write_all_at(targets.copy_fd, last, last_offset); !written) return unexpected(written.error());
  }
  const Hash root = builder.finish(last);
  if (auto flushed = flush_outboard(builder, targets); !flushed) return unexpected(flushed.error());
  if (progress) progress(size);
  return root;
}

}  // namespace

Expected<Hash, StoreError> hash_with_chaining_values(ByteView source, GroupChainingValues& known, HashTargets targets,
                                                     const ParallelHashOptions& options) {
  const std::uint64_t size = source.size();
  if (size > kContentBytesMax) return unexpected(StoreError{StoreErrc::bad_request, "content above 1 PiB"});
  const std::uint64_t groups = group_count(size);
  if (known.slots() != groups - 1) return hash_bytes(source, targets, options, {});

  // The groups without a value, shared out to the threads in batches.
  const std::vector<std::uint64_t> missing = known.missing();
  std::vector<Hash> hashed(missing.size());
  const std::uint64_t batch_groups = std::max<std::uint64_t>(1, options.batch_bytes / kGroupBytes);
  std::atomic<std::uint64_t> next_batch{0};
  const auto work_missing = [&] {
    for (;;) {
      const std::uint64_t first = next_batch.fetch_add(1) * batch_groups;
      if (first >= missing.size()) return;
      const std::uint64_t end = std::min<std::uint64_t>(missing.size(), first + batch_groups);
      for (std::uint64_t i = first; i < end; ++i) {
        hashed[i] = group_chaining_value(source.subspan(missing[i] * kGroupBytes, kGroupBytes), missing[i]);
      }
    }
  };
  const unsigned workers = static_cast<unsigned>(
      std::min<std::uint64_t>(thread_count(options), (missing.size() + batch_groups - 1) / batch_groups));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < workers; ++t) pool.emplace_back(work_missing);
  work_missing();  // this thread is a worker too
  for (auto& thread : pool) thread.join();
  for (std::size_t i = 0; i < missing.size(); ++i) known.set(missing[i], hashed[i]);

  OutboardBuilder builder;
  for (std::uint64_t group = 0; group + 1 < groups; ++group) {
    builder.add_group(known.at(group));
    if ((group + 1) % kOutboardFlushGroups == 0) {
      if (auto flushed = flush_outboard(builder, targets); !flushed) return unexpected(flushed.error());
    }
  }
  const Hash root = builder.finish(source.subspan((groups - 1) * kGroupBytes));
  if (auto flushed = flush_outboard(builder, targets); !flushed) return unexpected(flushed.error());
  return root;
}

Expected<Hash, StoreError> hash_file(int source_fd, std::uint64_t size, HashTargets targets,
                                     const ParallelHashOptions& options, const ProgressFn& progress) {
  return hash_source(source_fd, {}, size, targets, options, progress);
}

Expected<Hash, StoreError> hash_bytes(ByteView source, HashTargets targets, const ParallelHashOptions& options,
                                      const ProgressFn& progress) {
  return hash_source(-1, source, source.size(), targets, options, progress);
}

}  // namespace taho::content
