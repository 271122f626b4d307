#include "cli/session.hpp"

#include <iostream>

#include "config/config_file.hpp"

namespace taho::cli {

std::optional<Session> load_session(const Context& context, const std::vector<config::Override>& extra,
                                    bool create_config_file) {
  const auto env = config::process_environment();
  auto paths = config::resolve_paths(env, context.global.home);
  if (!paths) {
    std::cerr << "taho: " << paths.error().text << "\n";
    return std::nullopt;
  }
  auto overrides = config::parse_set_flags(context.global.config_sets);
  if (!overrides) {
    std::cerr << config::describe(overrides.error());
    return std::nullopt;
  }
  // Dedicated flags come after --set: the more specific flag wins.
  overrides->insert(overrides->end(), extra.begin(), extra.end());

  if (create_config_file) {
    auto created = config::ensure_config_file(*paths);
    if (!created) {
      std::cerr << "taho: " << created.error().text << "\n";
      return std::nullopt;
    }
  }
  auto loaded = config::load(*paths, env, *overrides);
  if (!loaded) {
    std::cerr << config::describe(loaded.error());
    std::cerr << "taho: refusing to start with a bad configuration (" << paths->config_file.string() << ")\n";
    return std::nullopt;
  }
  return Session{*paths, std::move(*loaded), node::Home{paths->data_dir}};
}

}  // namespace taho::cli
