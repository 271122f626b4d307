// `taho daemon` / `taho --daemon`: run the node until SIGINT or SIGTERM.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/command.hpp"
#include "cli/session.hpp"
#include "daemon/daemon.hpp"

namespace taho::cli {
namespace {

struct DaemonFlags {
  std::vector<std::string> listen;
  std::vector<std::string> bootstrap;
  std::string api_listen;
  bool no_mdns = false;
};

// Dedicated daemon flags are shorthands for config keys; they take part in
// the precedence as flags (defaults < file < env < flags).
std::vector<config::Override> overrides_from(const DaemonFlags& flags) {
  std::vector<config::Override> overrides;
  auto join = [](const std::vector<std::string>& items) {
    std::string joined;
    for (const auto& item : items) joined += (joined.empty() ? "" : ",") + item;
    return joined;
  };
  if (!flags.listen.empty()) overrides.push_back({"mesh.listen", join(flags.listen), "--listen"});
  if (!flags.bootstrap.empty()) overrides.push_back({"mesh.bootstrap", join(flags.bootstrap), "--bootstrap"});
  if (!flags.api_listen.empty()) overrides.push_back({"api.listen", flags.api_listen, "--api-listen"});
  if (flags.no_mdns) overrides.push_back({"mesh.mdns", "false", "--no-mdns"});
  return overrides;
}

int run_daemon(const Context& context, const DaemonFlags& flags) {
  auto session = load_session(context, overrides_from(flags), /*create_config_file=*/true);
  if (!session) return kExitUsage;
  // The daemon logs at [log] level unless -v or --log-level said otherwise.
  if (context.global.verbosity == 0 && context.global.log_level.empty()) {
    spdlog::set_level(spdlog::level::from_str(session->config.log.level));
  }
  daemon::DaemonOptions options;
  options.config = session->config;
  options.home = session->home;
  options.config_file = session->paths.config_file;
  options.version = TAHO_VERSION;
  options.json = context.global.json;
  return daemon::run(options);
}

}  // namespace

void register_daemon_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<DaemonFlags>();
  auto* command = app.add_subcommand("daemon", "Run the mesh node in the foreground (also: taho --daemon)");
  command->add_option("--listen", flags->listen, "Listen multiaddr (repeatable; overrides [mesh] listen)")
      ->type_name("MULTIADDR");
  command->add_option("--bootstrap", flags->bootstrap, "Bootstrap peer multiaddr with /p2p/ (repeatable)")
      ->type_name("MULTIADDR");
  command->add_option("--api-listen", flags->api_listen, "Local API address, e.g. 127.0.0.1:0 for a free port")
      ->type_name("HOST:PORT");
  command->add_flag("--no-mdns", flags->no_mdns, "Do not discover peers on the LAN");
  context.daemon_action = [&context] { return run_daemon(context, DaemonFlags{}); };
  command->callback([&context, flags] { context.action = [&context, flags] { return run_daemon(context, *flags); }; });
}

}  // namespace taho::cli
