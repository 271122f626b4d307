// `taho mesh`: a summary of the node's place in the mesh.
#include <iostream>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/session.hpp"

namespace taho::cli {
namespace {

void print_counts(const char* title, const nlohmann::json& counts) {
  std::cout << title << ":";
  if (counts.empty()) std::cout << " none";
  for (const auto& [name, count] : counts.items()) std::cout << " " << name << "=" << count.get<int>();
  std::cout << "\n";
}

int run_mesh(const Context& context) {
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "mesh");
  if (!daemon) return kExitFailure;
  auto answer = daemon->get("/api/v1/mesh");
  if (!answer) {
    std::cerr << "taho mesh: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
    return kExitOk;
  }
  const auto& mesh = *answer;
  std::cout << "connected peers: " << mesh["connected_peers"].get<int>() << " (keeping " << mesh["min_peers"].get<int>()
            << " to " << mesh["max_peers"].get<int>() << ")\n";
  std::cout << "known peers:     " << mesh["known_peers"].get<int>() << "\n";
  print_counts("per transport  ", mesh["per_transport"]);
  print_counts("found by       ", mesh["per_source"]);
  print_counts("known, found by", mesh["known_per_source"]);
  std::cout << "reachability:    " << mesh.value("reachability", "unknown") << " (AutoNAT, confidence "
            << mesh.value("reachability_confidence", 0) << ")\n";
  std::cout << "DHT mode:        " << mesh.value("dht_mode", "server") << "\n";
  std::cout << "rendezvous point: " << (mesh.value("rendezvous_point", false) ? "yes" : "no") << "\n";
  std::cout << "DHT routing table: " << mesh["dht_routing_table"].get<int>() << " peers\n";
  for (const auto& [topic, counts] : mesh["gossip_topics"].items()) {
    std::cout << "topic " << topic << ": " << counts["mesh_peers"].get<int>() << " mesh peers, "
              << counts["topic_peers"].get<int>() << " subscribed peers\n";
  }
  std::cout << "dials: " << mesh["dials"].get<int>() << ", failed " << mesh["dial_failures"].get<int>()
            << "; dropped as unresponsive: " << mesh["dropped_unresponsive"].get<int>() << "\n";
  return kExitOk;
}

}  // namespace

void register_mesh_command(CLI::App& app, Context& context) {
  auto* mesh = app.add_subcommand("mesh", "Summary: connected and known peers, per transport and discovery source");
  mesh->callback([&context] { context.action = [&context] { return run_mesh(context); }; });
}

}  // namespace taho::cli
