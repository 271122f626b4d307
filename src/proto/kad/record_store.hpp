// Values stored with PUT_VALUE. Every record passes a validator first (the
// spec leaves validity to the key's namespace, e.g. /ipns or /pk); without
// one, nothing is stored. Bounded in count and value size; records expire
// after record_ttl (go-libp2p keeps them 36 h, re-put by their publisher).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/time.hpp"
#include "proto/kad/message.hpp"

namespace taho::kad {

inline constexpr Duration record_ttl = std::chrono::hours(36);

using RecordValidator = std::function<Result<void>(const Record& record)>;

struct RecordStoreLimits {
  std::size_t records_max = 10'000;
  std::size_t value_bytes_max = 64 * 1024;
};

class RecordStore {
 public:
  explicit RecordStore(RecordValidator validator = {}, const RecordStoreLimits& limits = {})
      : validator_(std::move(validator)), limits_(limits) {}

  // Validates and stores (replacing any record under the same key).
  Expected<void, KadError> put(Instant now, const Record& record);
  std::optional<Record> get(Instant now, const Bytes& key) const;
  void expire(Instant now);
  std::size_t size() const { return records_.size(); }

 private:
  struct Stored {
    Record record;
    Instant expires;
  };
  RecordValidator validator_;
  RecordStoreLimits limits_;
  std::map<Bytes, Stored> records_;
};

}  // namespace taho::kad
