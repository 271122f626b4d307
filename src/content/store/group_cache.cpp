#include "content/store/group_cache.hpp"

namespace taho::content {

std::optional<std::shared_ptr<const Bytes>> GroupCache::get(const ContentId& id, std::uint64_t group) {
  const std::lock_guard lock(mutex_);
  const auto found = index_.find({id, group});
  if (found == index_.end()) return std::nullopt;
  recent_.splice(recent_.begin(), recent_, found->second);
  return found->second->bytes;
}

void GroupCache::put(const ContentId& id, std::uint64_t group, std::shared_ptr<const Bytes> bytes) {
  if (bytes->size() > bytes_max_) return;  // a cache of 0 bytes caches nothing
  const std::lock_guard lock(mutex_);
  const Key key{id, group};
  if (const auto found = index_.find(key); found != index_.end()) {
    bytes_used_ -= found->second->bytes->size();
    recent_.erase(found->second);
    index_.erase(found);
  }
  bytes_used_ += bytes->size();
  recent_.push_front({key, std::move(bytes)});
  index_[key] = recent_.begin();
  evict_locked();
}

void GroupCache::erase(const ContentId& id) {
  const std::lock_guard lock(mutex_);
  auto it = index_.lower_bound({id, 0});
  while (it != index_.end() && it->first.first == id) {
    bytes_used_ -= it->second->bytes->size();
    recent_.erase(it->second);
    it = index_.erase(it);
  }
}

void GroupCache::evict_locked() {
  while (bytes_used_ > bytes_max_ && !recent_.empty()) {
    const Entry& oldest = recent_.back();
    bytes_used_ -= oldest.bytes->size();
    index_.erase(oldest.key);
    recent_.pop_back();
  }
}

std::uint64_t GroupCache::bytes_used() const {
  const std::lock_guard lock(mutex_);
  return bytes_used_;
}

}  // namespace taho::content
