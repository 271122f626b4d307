// How the content routes read a download still in progress: the verified
// bytes the store keeps for it (Store::read_partial). Behind a function so
// the routes' tests can fake it.
#pragma once

#include <cstdint>
#include <functional>

#include "base/bytes.hpp"
#include "content/store/store.hpp"

namespace taho::api {

// Verified bytes [offset, offset + length) of the download of `id`.
// `vouched_end_bytes`: the fetch in progress reported every byte of
// [offset, vouched_end_bytes) verified and written (its contiguous_bytes),
// ahead of what the store's bitmap on disk may say yet; reads stay below it.
using PartialReader = std::function<Expected<Bytes, content::StoreError>(
    const content::ContentId& id, std::uint64_t offset, std::uint64_t length, std::uint64_t vouched_end_bytes)>;

// The production reader: Store::read_partial on `store`, which must outlive it.
PartialReader store_partial_reader(const content::Store& store);

}  // namespace taho::api
