#include "proto/kad/record_store.hpp"

namespace taho::kad {

Expected<void, KadError> RecordStore::put(Instant now, const Record& record) {
  if (!validator_) return unexpected(KadError{Errc::rejected_record, "no validator configured"});
  if (record.value.size() > limits_.value_bytes_max) {
    return unexpected(KadError{Errc::rejected_record, "value over value_bytes_max"});
  }
  if (auto valid = validator_(record); !valid) return unexpected(KadError{Errc::rejected_record, valid.error().text});
  if (records_.find(record.key) == records_.end() && records_.size() >= limits_.records_max) {
    expire(now);
    if (records_.size() >= limits_.records_max) return unexpected(KadError{Errc::rejected_record, "store full"});
  }
  records_[record.key] = Stored{record, now + record_ttl};
  return {};
}

std::optional<Record> RecordStore::get(Instant now, const Bytes& key) const {
  const auto found = records_.find(key);
  if (found == records_.end() || found->second.expires <= now) return std::nullopt;
  return found->second.record;
}

void RecordStore::expire(Instant now) {
  std::erase_if(records_, [&](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace taho::kad
