#include "config/environment.hpp"

#include <unistd.h>

namespace taho::config {

Environment environment_from(const char* const* entries) {
  Environment env;
  if (entries == nullptr) return env;
  for (; *entries != nullptr; ++entries) {
    const std::string_view entry = *entries;
    const auto equals = entry.find('=');
    if (equals == std::string_view::npos || equals == 0) continue;
    env.emplace(std::string(entry.substr(0, equals)), std::string(entry.substr(equals + 1)));
  }
  return env;
}

Environment process_environment() { return environment_from(environ); }

std::optional<std::string> lookup(const Environment& env, std::string_view name) {
  const auto found = env.find(name);
  if (found == env.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

}  // namespace taho::config
