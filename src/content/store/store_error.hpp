// Why a store operation failed; the CLI maps these to messages and exit codes.
#pragma once

#include "base/error.hpp"

namespace taho::content {

enum class StoreErrc {
  io,               // the OS refused a read or write (permissions, I/O error)
  not_found,        // no object with this id in the store
  source_missing,   // the file to publish does not exist
  source_unreadable,// the file to publish cannot be opened or read
  source_directory, // the path to publish is a directory (not supported yet)
  source_changed,   // the file changed size while it was being published
  store_full,       // storing would pass [content] max_store_gb
  disk_full,        // not enough free space on the store's file system
  corrupt,          // stored bytes or outboard do not match the id
  bad_request,      // a range the store does not serve (unaligned, too large)
  id_mismatch,      // imported data does not hash to the id it was announced as
  in_use,           // a partial download is held open by another fetch (flock)
  not_verified,     // bytes of a partial download that are not written and verified yet
};
using StoreError = Error<StoreErrc>;

}  // namespace taho::content
