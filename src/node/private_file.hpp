// Small helpers for the files in TAHO_HOME that only the owner may read
// (identity.key, api.token): created 0600 and replaced atomically.
#pragma once

#include <filesystem>
#include <string>
#include <sys/types.h>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::node {

enum class IfExists { replace, keep };

// Writes `contents` to `path` via a temp file in the same directory: fsync,
// then rename, so readers see the old file or the whole new one. With
// IfExists::keep an existing file wins (a concurrent creator got there first)
// and `*kept_existing` says so.
Result<void> write_file_atomically(const std::filesystem::path& path, ByteView contents, mode_t mode,
                                   IfExists if_exists = IfExists::replace, bool* kept_existing = nullptr);

// Reads a whole file that must not be accessible by group or others.
// Sets `unsafe_mode` to the offending mode bits when the check fails.
Result<Bytes> read_private_file(const std::filesystem::path& path, bool* unsafe_mode = nullptr,
                                bool* missing = nullptr);

}  // namespace taho::node
