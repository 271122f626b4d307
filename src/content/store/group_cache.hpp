// A least-recently-used cache of 16 KiB content groups, bounded in bytes by
// [content] cache_mb. Thread-safe: the daemon's disk threads share it.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>

#include "base/bytes.hpp"
#include "content/tree/content_id.hpp"

namespace taho::content {

class GroupCache {
 public:
  explicit GroupCache(std::uint64_t bytes_max) : bytes_max_(bytes_max) {}

  std::optional<std::shared_ptr<const Bytes>> get(const ContentId& id, std::uint64_t group);
  void put(const ContentId& id, std::uint64_t group, std::shared_ptr<const Bytes> bytes);
  void erase(const ContentId& id);

  std::uint64_t bytes_used() const;
  std::uint64_t bytes_max() const { return bytes_max_; }

 private:
  using Key = std::pair<ContentId, std::uint64_t>;
  struct Entry {
    Key key;
    std::shared_ptr<const Bytes> bytes;
  };
  void evict_locked();

  const std::uint64_t bytes_max_;
  mutable std::mutex mutex_;
  std::list<Entry> recent_;  // most recently used first
  std::map<Key, std::list<Entry>::iterator> index_;
  std::uint64_t bytes_used_ = 0;
};

}  // namespace taho::content
