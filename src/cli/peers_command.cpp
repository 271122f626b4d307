// `taho peers`, `taho connect`, `taho disconnect`: the daemon's connections.
#include <cstdio>
#include <iostream>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "cli/session.hpp"

namespace taho::cli {
namespace {

std::string rtt_text(const nlohmann::json& rtt) {
  if (!rtt.is_number()) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.2f ms", rtt.get<double>());
  return text;
}

int run_peers(const Context& context) {
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "peers");
  if (!daemon) return kExitFailure;
  auto answer = daemon->get("/api/v1/peers");
  if (!answer) {
    std::cerr << "taho peers: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << (*answer)["peers"].dump() << "\n";
    return kExitOk;
  }
  const auto& peers = (*answer)["peers"];
  if (peers.empty()) {
    std::cout << "no peers connected\n";
    return kExitOk;
  }
  std::printf("%-52s  %-9s  %-8s  %-10s  %-10s  %-24s  %s\n", "PEER", "TRANSPORT", "DIR", "FOUND BY", "RTT", "AGENT",
              "ADDRESS");
  for (const auto& peer : peers) {
    std::printf("%-52s  %-9s  %-8s  %-10s  %-10s  %-24s  %s\n", peer["peer_id"].get<std::string>().c_str(),
                peer["transport"].get<std::string>().c_str(), peer["direction"].get<std::string>().c_str(),
                peer.value("source", "").c_str(),
                rtt_text(peer["rtt_ms"]).c_str(), peer["agent"].get<std::string>().c_str(),
                peer["addr"].get<std::string>().c_str());
  }
  return kExitOk;
}

int run_connect(const Context& context, const std::string& address) {
  if (auto parsed = Multiaddr::parse(address); !parsed) {
    std::cerr << "taho connect: bad multiaddr: " << parsed.error().detail << "\n";
    return kExitUsage;
  }
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "connect");
  if (!daemon) return kExitFailure;
  auto answer = daemon->post("/api/v1/connect", {{"addr", address}});
  if (!answer) {
    std::cerr << "taho connect: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
  } else {
    std::cout << "connected to " << (*answer)["peer_id"].get<std::string>() << "\n";
  }
  return kExitOk;
}

int run_disconnect(const Context& context, const std::string& peer) {
  if (auto parsed = PeerId::parse(peer); !parsed) {
    std::cerr << "taho disconnect: bad peer id: " << parsed.error().detail << "\n";
    return kExitUsage;
  }
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "disconnect");
  if (!daemon) return kExitFailure;
  auto answer = daemon->post("/api/v1/disconnect", {{"peer", peer}});
  if (!answer) {
    std::cerr << "taho disconnect: " << answer.error().text << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << answer->dump() << "\n";
  } else {
    std::cout << "disconnected from " << (*answer)["peer_id"].get<std::string>() << "\n";
  }
  return kExitOk;
}

}  // namespace

void register_peers_commands(CLI::App& app, Context& context) {
  auto* peers = app.add_subcommand("peers", "List connected peers: id, transport, direction, how found, RTT, agent, address");
  peers->callback([&context] { context.action = [&context] { return run_peers(context); }; });

  auto address = std::make_shared<std::string>();
  auto* connect = app.add_subcommand("connect", "Connect to a peer by multiaddr (…/p2p/<peer id>)");
  connect->add_option("MULTIADDR", *address, "e.g. /ip4/192.0.2.7/tcp/4001/p2p/12D3KooW…")->required();
  connect->callback([&context, address] { context.action = [&context, address] { return run_connect(context, *address); }; });

  auto peer = std::make_shared<std::string>();
  auto* disconnect = app.add_subcommand("disconnect", "Close every connection to a peer");
  disconnect->add_option("PEER", *peer, "Peer id")->required();
  disconnect->callback([&context, peer] { context.action = [&context, peer] { return run_disconnect(context, *peer); }; });
}

}  // namespace taho::cli
