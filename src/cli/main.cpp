// `taho`: the mesh node (`taho --daemon`) and its command-line client.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "cli/command.hpp"

namespace {

using taho::cli::Context;

void configure_logging(const taho::cli::GlobalOptions& global) {
  auto logger = spdlog::stderr_color_mt("taho");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%-5l%$ %v");
  auto level = spdlog::level::warn;
  if (global.verbosity == 1) level = spdlog::level::info;
  if (global.verbosity == 2) level = spdlog::level::debug;
  if (global.verbosity >= 3) level = spdlog::level::trace;
  if (!global.log_level.empty()) level = spdlog::level::from_str(global.log_level);
  spdlog::set_level(level);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"taho: a self-forming peer-to-peer mesh node and its client.\n"
               "Run `taho --daemon` to join the mesh; other commands talk to the running daemon.",
               "taho"};
  app.set_version_flag("-V,--version", std::string("taho ") + TAHO_VERSION);
  app.require_subcommand(0, 1);
  app.fallthrough();  // global flags may follow the subcommand: `taho id --json`

  Context context;
  auto& global = context.global;
  bool daemon_flag = false;
  app.add_flag("--daemon", daemon_flag, "Run the node (same as `taho daemon`)");
  app.add_flag("--json", global.json, "Print machine-readable JSON on stdout");
  app.add_flag("-v,--verbose", global.verbosity, "More log output on stderr (-vv for debug)");
  app.add_option("--log-level", global.log_level, "Log level: trace, debug, info, warn, error, off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--home", global.home, "Use DIR as TAHO_HOME (config, identity, store)")
      ->type_name("DIR");
  app.add_option("--set", global.config_sets,
                 "Override a config value for this run, e.g. --set mesh.min_peers=8 (repeatable)")
      ->type_name("SECTION.KEY=VALUE")
      ->take_all();

  taho::cli::register_daemon_command(app, context);
  taho::cli::register_id_command(app, context);
  taho::cli::register_config_command(app, context);
  taho::cli::register_peers_commands(app, context);
  taho::cli::register_ping_command(app, context);
  taho::cli::register_publish_command(app, context);
  taho::cli::register_content_command(app, context);
  taho::cli::register_get_command(app, context);
  taho::cli::register_dht_command(app, context);
  taho::cli::register_mesh_command(app, context);
  taho::cli::register_events_command(app, context);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "taho: " << e.what() << "\nRun 'taho --help' for usage.\n";
    return taho::cli::kExitUsage;
  }

  configure_logging(global);
  if (daemon_flag && !context.action) {
    context.action = context.daemon_action;  // `taho --daemon` is `taho daemon`
  }
  if (!context.action) {
    std::cout << app.help();
    return taho::cli::kExitOk;
  }
  try {
    return context.action();
  } catch (const std::exception& e) {
    spdlog::critical("unexpected error: {}", e.what());
    return taho::cli::kExitFailure;
  }
}
