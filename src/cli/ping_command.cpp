// `taho ping MULTIADDR|PEER [-n N] [--transport quic|tcp|ws]`: libp2p ping
// through the daemon, printed like ping(8), over the chosen transport.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/session.hpp"

namespace taho::cli {
namespace {

struct PingFlags {
  std::string target;
  int count = 4;
  double interval_s = 1.0;
  std::string transport;  // empty: the address's transport, or any connection
};

int run_ping(const Context& context, const PingFlags& flags) {
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "ping");
  if (!daemon) return kExitFailure;
  // A multiaddr starts with '/'; anything else is taken as a peer id.
  const bool by_address = !flags.target.empty() && flags.target.front() == '/';
  nlohmann::json request = by_address ? nlohmann::json{{"addr", flags.target}} : nlohmann::json{{"peer", flags.target}};
  if (!flags.transport.empty()) request["transport"] = flags.transport;

  std::vector<double> rtts;
  std::string peer_id;
  std::string transport;
  int sent = 0;
  for (int i = 0; i < flags.count; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::duration<double>(flags.interval_s));
    ++sent;
    auto answer = daemon->post("/api/v1/ping", request);
    if (!answer) {
      if (!context.global.json) std::cout << "ping failed: " << answer.error().text << "\n" << std::flush;
      continue;
    }
    peer_id = (*answer)["peer_id"].get<std::string>();
    double rtt = (*answer)["rtt_ms"].get<double>();
    transport = answer->value("transport", "");
    rtts.push_back(rtt);
    // After the first answer, ping by peer id over the same transport: no
    // need to re-resolve the address.
    request = {{"peer", peer_id}};
    if (!transport.empty()) request["transport"] = transport;
    if (!context.global.json) {
      std::printf("pong from %s via %s: seq=%d time=%.3f ms\n", peer_id.c_str(),
                  transport.empty() ? "?" : transport.c_str(), i + 1, rtt);
      std::fflush(stdout);
    }
  }

  if (context.global.json) {
    std::cout << nlohmann::json{{"peer_id", peer_id}, {"transport", transport}, {"sent", sent},
                                {"received", rtts.size()}, {"rtts_ms", rtts}}.dump()
              << "\n";
  } else if (!rtts.empty()) {
    double sum = 0;
    for (double r : rtts) sum += r;
    std::printf("--- %s ping statistics ---\n%d sent, %zu received, %.0f%% loss, rtt min/avg/max = %.3f/%.3f/%.3f ms\n",
                peer_id.c_str(), sent, rtts.size(), 100.0 * (sent - static_cast<int>(rtts.size())) / sent,
                *std::min_element(rtts.begin(), rtts.end()), sum / static_cast<double>(rtts.size()),
                *std::max_element(rtts.begin(), rtts.end()));
  }
  return rtts.empty() ? kExitFailure : kExitOk;
}

}  // namespace

void register_ping_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<PingFlags>();
  auto* ping = app.add_subcommand("ping", "Measure the round-trip time to a peer (libp2p ping)");
  ping->add_option("TARGET", flags->target, "A multiaddr (connects first) or the peer id of a connected peer")->required();
  ping->add_option("-n,--count", flags->count, "Number of pings")->check(CLI::Range(1, 100000));
  ping->add_option("-i,--interval", flags->interval_s, "Seconds between pings")->check(CLI::Range(0.0, 3600.0));
  ping->add_option("--transport", flags->transport,
                   "Ping over this transport: quic, tcp or ws (connects over it first if needed)")
      ->check(CLI::IsMember({"quic", "tcp", "ws"}));
  ping->callback([&context, flags] { context.action = [&context, flags] { return run_ping(context, *flags); }; });
}

}  // namespace taho::cli
