// What most commands start with: the effective configuration and the home
// directory, resolved from flags, environment and the config file.
#pragma once

#include <optional>
#include <vector>

#include "cli/command.hpp"
#include "config/config.hpp"
#include "node/home.hpp"

namespace taho::cli {

struct Session {
  config::Paths paths;
  config::Config config;
  node::Home home;
};

// Loads the configuration with the global --set flags plus `extra` command
// flags on top. On a bad configuration prints every problem to stderr and
// returns nothing (the caller exits with kExitUsage). `create_config_file`
// writes the commented default file when it is missing (the daemon does).
std::optional<Session> load_session(const Context& context, const std::vector<config::Override>& extra = {},
                                    bool create_config_file = false);

}  // namespace taho::cli
