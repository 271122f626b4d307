// The shape every `taho` subcommand follows: a register_* function adds the
// subcommand and its flags to the CLI11 app; when CLI11 selects it, its
// callback stores the work to run in `Context::action`. main() runs that
// action after parsing, so flags of every level are known by then.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace taho::cli {

// Exit codes shared by all subcommands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;   // the operation failed (bad file, unknown id, network)
inline constexpr int kExitUsage = 2;     // bad command line or bad configuration

// Options every subcommand sees.
struct GlobalOptions {
  bool json = false;                      // --json: machine-readable output on stdout
  int verbosity = 0;                      // -v, -vv
  std::string log_level;                  // --log-level (overrides -v)
  std::optional<std::string> home;        // --home: overrides TAHO_HOME
  std::vector<std::string> config_sets;   // --set SECTION.KEY=VALUE (flag-level config)
};

struct Context {
  GlobalOptions global;
  std::function<int()> action;  // set by the selected subcommand's callback
  // What `taho --daemon` runs: the daemon subcommand with its defaults.
  std::function<int()> daemon_action;
};

// One line per subcommand group in main.cpp calls these.
void register_daemon_command(CLI::App& app, Context& context);
void register_id_command(CLI::App& app, Context& context);
void register_config_command(CLI::App& app, Context& context);
void register_peers_commands(CLI::App& app, Context& context);
void register_ping_command(CLI::App& app, Context& context);
void register_publish_command(CLI::App& app, Context& context);
void register_content_command(CLI::App& app, Context& context);
void register_get_command(CLI::App& app, Context& context);
void register_dht_command(CLI::App& app, Context& context);
void register_mesh_command(CLI::App& app, Context& context);
void register_events_command(CLI::App& app, Context& context);

}  // namespace taho::cli
