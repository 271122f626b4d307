// Runs the node as a daemon: takes the home's lock, loads the identity,
// serves the local API and stops cleanly on SIGINT/SIGTERM.
#pragma once

#include <filesystem>
#include <string>

#include "config/config.hpp"
#include "node/home.hpp"

namespace taho::daemon {

struct DaemonOptions {
  config::Config config;
  node::Home home;
  std::filesystem::path config_file;
  std::string version;
  bool json = false;  // the ready line on stdout as JSON
};

// Blocks until a signal stops the daemon. Returns the process exit code:
// 0 after a clean shutdown, 1 when the daemon could not start.
int run(const DaemonOptions& options);

}  // namespace taho::daemon
