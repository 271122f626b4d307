// Where the config file and the node's data live (DESIGN.md §6):
// everything under TAHO_HOME (or --home) when set, else the XDG directories.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "base/error.hpp"
#include "config/environment.hpp"

namespace taho::config {

struct Paths {
  std::filesystem::path config_file;  // .../config.toml
  std::filesystem::path data_dir;     // identity.key, store, peerstore, api.token
};

// --home beats TAHO_HOME; without either the config goes to
// $XDG_CONFIG_HOME/taho/config.toml (default ~/.config/taho/config.toml) and
// the data to $XDG_DATA_HOME/taho (default ~/.local/share/taho). Relative
// XDG values are ignored, as the XDG spec says. Fails only when none of
// --home, TAHO_HOME and HOME tells where to go.
Result<Paths> resolve_paths(const Environment& env, const std::optional<std::string>& home_flag);

}  // namespace taho::config
