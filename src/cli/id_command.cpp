// `taho id`: the node's peer id (and listen addresses when the daemon runs).
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/session.hpp"
#include "node/identity.hpp"
#include "node/node.hpp"

namespace taho::cli {
namespace {

int run_id(const Context& context) {
  auto session = load_session(context);
  if (!session) return kExitUsage;

  nlohmann::json info;
  if (auto daemon = DaemonClient::find(session->home)) {
    auto answer = daemon->get("/api/v1/id");
    if (!answer) {
      std::cerr << "taho id: " << answer.error().text << "\n";
      return kExitFailure;
    }
    info = {{"peer_id", (*answer)["peer_id"]}, {"addrs", (*answer)["addrs"]}};
  } else {
    // No daemon: read (or on first use create) the key ourselves.
    auto identity = node::load_or_create_identity(session->home.identity_key());
    if (!identity) {
      std::cerr << "taho id: " << identity.error().detail << "\n";
      return kExitFailure;
    }
    info = {{"peer_id", node::peer_id_of(*identity).to_string()}, {"addrs", nlohmann::json::array()}};
  }

  if (context.global.json) {
    std::cout << info.dump() << "\n";
  } else {
    std::cout << info["peer_id"].get<std::string>() << "\n";
  }
  return kExitOk;
}

}  // namespace

void register_id_command(CLI::App& app, Context& context) {
  auto* command = app.add_subcommand("id", "Print this node's peer id (--json adds its listen addresses)");
  command->callback([&context] { context.action = [&context] { return run_id(context); }; });
}

}  // namespace taho::cli
