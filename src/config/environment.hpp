// The process environment as a value, so that configuration code and its
// tests never read or change the real environment.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace taho::config {

using Environment = std::map<std::string, std::string, std::less<>>;

// Builds an Environment from a NAME=VALUE array ending in nullptr (`environ`).
Environment environment_from(const char* const* entries);

// The environment of this process.
Environment process_environment();

// The value of `name`, or nothing when it is unset or empty (an empty
// variable counts as unset, as in the XDG base directory spec).
std::optional<std::string> lookup(const Environment& env, std::string_view name);

}  // namespace taho::config
