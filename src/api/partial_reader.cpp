#include "api/partial_reader.hpp"

namespace taho::api {

PartialReader store_partial_reader(const content::Store& store) {
  return [&store](const content::ContentId& id, std::uint64_t offset, std::uint64_t length,
                  std::uint64_t vouched_end_bytes) {
    // The store vouches by prefix: groups ending at or below the bound. Our
    // reads lie inside [fetch start, vouched end), so a range fetch that
    // began past 0 vouches only for groups it has really verified.
    return store.read_partial(id, offset, length, vouched_end_bytes);
  };
}

}  // namespace taho::api
