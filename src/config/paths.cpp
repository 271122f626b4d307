#include "config/paths.hpp"

namespace taho::config {
namespace {

constexpr const char* kConfigFileName = "config.toml";
constexpr const char* kAppDirName = "taho";

std::filesystem::path absolute_home(const std::string& dir) {
  std::error_code ignored;
  auto absolute = std::filesystem::absolute(dir, ignored);
  return (absolute.empty() ? std::filesystem::path(dir) : absolute).lexically_normal();
}

// An XDG base directory: the variable when it holds an absolute path, else
// the fallback under $HOME.
std::optional<std::filesystem::path> xdg_dir(const Environment& env, std::string_view variable,
                                             const char* under_home) {
  if (auto value = lookup(env, variable); value && std::filesystem::path(*value).is_absolute()) {
    return std::filesystem::path(*value);
  }
  if (auto home = lookup(env, "HOME")) return std::filesystem::path(*home) / under_home;
  return std::nullopt;
}

}  // namespace

Result<Paths> resolve_paths(const Environment& env, const std::optional<std::string>& home_flag) {
  std::optional<std::string> home = home_flag;
  if (home && home->empty()) return fail("--home needs a directory");
  if (!home) home = lookup(env, "TAHO_HOME");
  if (home) {
    const auto dir = absolute_home(*home);
    return Paths{dir / kConfigFileName, dir};
  }
  const auto config_home = xdg_dir(env, "XDG_CONFIG_HOME", ".config");
  const auto data_home = xdg_dir(env, "XDG_DATA_HOME", ".local/share");
  if (!config_home || !data_home) {
    return fail("cannot tell where taho keeps its files: set TAHO_HOME (or HOME), or pass --home DIR");
  }
  return Paths{*config_home / kAppDirName / kConfigFileName, *data_home / kAppDirName};
}

}  // namespace taho::config
