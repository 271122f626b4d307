// A configuration value as users see it: what `taho config` prints, what
// `--json` emits and what the config file holds. The typed fields of Config
// are what the node uses; these are their display form.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace taho::config {

using Value = std::variant<bool, std::int64_t, double, std::string, std::vector<std::string>>;

// The TOML literal of a value: `true`, `4`, `50.0`, `"1s"`, `["/ip4/...", ...]`.
std::string to_toml(const Value& value);

// The plain text of a value, as accepted by TAHO__ variables and --set:
// strings unquoted, lists comma-separated.
std::string to_text(const Value& value);

}  // namespace taho::config
