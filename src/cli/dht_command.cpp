// `taho dht find-peer PEER | providers KEY | provide KEY | stats`: the
// daemon's Kademlia DHT.
#include <cstdio>
#include <iostream>

#include "base/peer_id.hpp"
#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/session.hpp"

namespace taho::cli {
namespace {

// A DHT query may take a while (the daemon gives up after 60 s).
constexpr std::uint32_t kQueryTimeoutMs = 75'000;

std::optional<DaemonClient> daemon_for(const Context& context, std::string_view command) {
  auto session = load_session(context);
  if (!session) return std::nullopt;
  return DaemonClient::require(session->home, command);
}

int run_find_peer(const Context& context, const std::string& peer) {
  if (auto parsed = PeerId::parse(peer); !parsed) {
    std::cerr << "taho dht find-peer: bad peer id: " << parsed.error().detail << "\n";
    return kExitUsage;
  }
  auto daemon = daemon_for(context, "dht find-peer");
  if (!daemon) return kExitFailure;
  auto answer = daemon->post("/api/v1/dht/find-peer", {{"peer", peer}}, kQueryTimeoutMs);
  if (!answer) {
    std::cerr << "taho dht find-peer: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
    return kExitOk;
  }
  std::cout << (*answer)["peer_id"].get<std::string>() << " (" << (*answer)["hops"].get<int>() << " hops)\n";
  for (const auto& addr : (*answer)["addrs"]) std::cout << "  " << addr.get<std::string>() << "\n";
  return kExitOk;
}

int run_providers(const Context& context, const std::string& key, bool provide) {
  const char* name = provide ? "dht provide" : "dht providers";
  auto daemon = daemon_for(context, name);
  if (!daemon) return kExitFailure;
  auto answer = daemon->post(provide ? "/api/v1/dht/provide" : "/api/v1/dht/providers", {{"key", key}},
                             kQueryTimeoutMs);
  if (!answer) {
    std::cerr << "taho " << name << ": " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
    return kExitOk;
  }
  if (provide) {
    std::cout << "announced to " << (*answer)["announced_to"].size() << " peers\n";
    return kExitOk;
  }
  const auto& providers = (*answer)["providers"];
  if (providers.empty()) {
    std::cout << "no providers found\n";
    return kExitOk;
  }
  for (const auto& provider : providers) {
    std::cout << provider["peer_id"].get<std::string>() << "\n";
    for (const auto& addr : provider["addrs"]) std::cout << "  " << addr.get<std::string>() << "\n";
  }
  return kExitOk;
}

int run_stats(const Context& context) {
  auto daemon = daemon_for(context, "dht stats");
  if (!daemon) return kExitFailure;
  auto answer = daemon->get("/api/v1/dht/stats");
  if (!answer) {
    std::cerr << "taho dht stats: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
    return kExitOk;
  }
  for (const auto& [key, value] : answer->items()) std::cout << key << ": " << value.dump() << "\n";
  return kExitOk;
}

}  // namespace

void register_dht_command(CLI::App& app, Context& context) {
  auto* dht = app.add_subcommand("dht", "The Kademlia DHT: find peers and content providers");
  dht->require_subcommand(1);

  auto peer = std::make_shared<std::string>();
  auto* find_peer = dht->add_subcommand("find-peer", "Look a peer up in the DHT and print its addresses");
  find_peer->add_option("PEER", *peer, "Peer id")->required();
  find_peer->callback([&context, peer] { context.action = [&context, peer] { return run_find_peer(context, *peer); }; });

  auto key = std::make_shared<std::string>();
  auto* providers = dht->add_subcommand("providers", "List the peers that provide a content id (or CID)");
  providers->add_option("KEY", *key, "ca_blake3_... content id or CID")->required();
  providers->callback([&context, key] { context.action = [&context, key] { return run_providers(context, *key, false); }; });

  auto* provide = dht->add_subcommand("provide", "Announce this node as a provider of a content id (or CID)");
  provide->add_option("KEY", *key, "ca_blake3_... content id or CID")->required();
  provide->callback([&context, key] { context.action = [&context, key] { return run_providers(context, *key, true); }; });

  auto* stats = dht->add_subcommand("stats", "Routing table size, stored records, queries");
  stats->callback([&context] { context.action = [&context] { return run_stats(context); }; });
}

}  // namespace taho::cli
