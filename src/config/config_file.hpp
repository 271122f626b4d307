// The config file on disk: created with every default commented out, and
// edited line by line by `taho config set` so comments and layout survive
// (toml++ drops comments when it writes a document).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "config/config.hpp"

namespace taho::config {

// Config files are small; a bigger one is a mistake, not a config.
inline constexpr std::uintmax_t config_file_bytes_max = 1 << 20;

// The file's text; nothing when it does not exist. Fails when it cannot be
// read, is not a regular file or is over config_file_bytes_max.
Result<std::optional<std::string>> read_config_file(const std::filesystem::path& path);

// The text of a new config file: each section with its keys' docs and
// defaults, commented out. Parses back to the defaults.
std::string default_file_text();

// Creates the config file (mode 0644, parent directories too) when missing.
// Returns true when it created the file.
Result<bool> ensure_config_file(const Paths& paths);

// What `set_in_file` changed.
struct FileChange {
  std::string key;                     // "mesh.min_peers"
  std::optional<std::string> before;   // the file's previous value (TOML), if it set one
  std::string after;                   // the new value as written (TOML)
};

// Validates `value` (environment syntax: lists comma-separated) for `key`,
// then rewrites the file in place: replaces the key's value, or uncomments
// its "# key = ..." line, or appends it to its section (adding the section
// when missing). The edited file must load without errors before it
// replaces the old one (temp file + rename). Creates the file when missing.
Result<FileChange> set_in_file(const Paths& paths, std::string_view key, std::string_view value);

// The pure text edit behind set_in_file: `toml_value` replaces the value of
// section.name in `file_text`. Fails when the text is not valid TOML.
Result<std::string> edit_config_text(std::string_view file_text, std::string_view section,
                                     std::string_view name, std::string_view toml_value);

}  // namespace taho::config
