// AutoNAT on the simulated network: servers dial requesters back on probe
// connections that leave the real connection alone, and the verdict drives
// the DHT and rendezvous modes, announced with identify push.
#include <gtest/gtest.h>

#include <algorithm>

#include "host/host.hpp"
#include "host/sim_network.hpp"

namespace taho::host {
namespace {

using namespace std::chrono_literals;

bool advertises(const Host& host, std::string_view protocol) {
  const auto protocols = host.advertised_protocols();
  return std::find(protocols.begin(), protocols.end(), protocol) != protocols.end();
}

std::optional<kad_event::QueryFinished> finished_query(SimNetwork& net, std::size_t index, QueryId id) {
  for (const auto& event : net.events(index)) {
    if (const auto* finished = std::get_if<kad_event::QueryFinished>(&event); finished && finished->id == id) {
      return *finished;
    }
  }
  return std::nullopt;
}

// Every host follows reachability, as the daemon's "auto" does.
SimNetworkOptions automatic_modes(std::uint64_t seed, std::size_t private_index = SIZE_MAX) {
  SimNetworkOptions options;
  options.seed = seed;
  options.configure = [private_index](std::size_t index, HostOptions& host) {
    host.kad.follow_reachability = true;
    host.rendezvous.follow_reachability = true;
    host.connections.min_peers = 3;
    host.autonat.reachability.probe_interval = 2s;
    // Behind a NAT whose mapping is not port-preserving: the address others
    // observe is not one they can dial (the simulator reports the listen
    // address as observed, so it is not offered).
    if (index == private_index) host.autonat.observed_addrs_max = 0;
  };
  return options;
}

TEST(Autonat, FixedModesNeitherProbeNorChange) {
  SimNetwork net(2, SimNetworkOptions{});
  net.host(1).add_bootstrap(net.now(), net.address(0));
  net.run_for(20s);
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(net.host(i).reachability(), autonat::Reachability::unknown);
    EXPECT_TRUE(net.host(i).dht_server());
    EXPECT_TRUE(net.host(i).rendezvous_point());
    EXPECT_EQ(net.host(i).autonat().stats().probes_sent, 0u);
    EXPECT_TRUE(advertises(net.host(i), AutonatBehaviour::protocol())) << "served by default";
  }
}

// A switch is pushed at once and once more a little later: an identify of
// the old mode still on its way (another connection's answer) could
// otherwise arrive last and leave a peer believing it.
TEST(Autonat, AModeSwitchIsPushedAgainAfterAWhile) {
  SimNetwork net(3, automatic_modes(12));
  for (std::size_t i = 1; i < 3; ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  std::uint64_t before_switch = 0;
  ASSERT_TRUE(net.run_until(
      [&] {
        if (net.host(0).dht_server()) return true;
        before_switch = net.host(0).identify_pushes_sent();
        return false;
      },
      30s));
  // Counted once its stream is open, a round trip later.
  net.run_for(300ms);
  const std::uint64_t pushed = net.host(0).identify_pushes_sent();
  ASSERT_GT(pushed, before_switch) << "the switch is pushed at once";
  const Duration repush = HostOptions{}.reachability_repush_after;
  net.run_for(repush - 500ms);
  EXPECT_EQ(net.host(0).identify_pushes_sent(), pushed) << "a server pushes only on a switch";
  net.run_for(500ms);
  EXPECT_GT(net.host(0).identify_pushes_sent(), pushed);
  EXPECT_TRUE(net.host(0).dht_server());
}

std::vector<std::string> disconnect_reasons(SimNetwork& net, std::size_t index) {
  std::vector<std::string> reasons;
  for (const auto& event : net.events(index)) {
    const auto* swarm_event = std::get_if<swarm::SwarmEvent>(&event);
    if (!swarm_event) continue;
    if (const auto* gone = std::get_if<swarm::swarm_event::PeerDisconnected>(swarm_event)) {
      reasons.push_back(gone->reason);
    }
  }
  return reasons;
}

// A server writes its answer as soon as its end of the dial-back is
// secure; our end of it completes a moment later, so the answer can come
// first. The dial-back must still not pass for a crossed dial of the
// server's: that rule would close our young connection in its favour, and
// the server then closes the dial-back, leaving none.
TEST(Autonat, ADialBackAfterTheAnswerLeavesTheConnectionAlone) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    SimNetworkOptions options = automatic_modes(seed);
    options.jitter = 8ms;  // the answer and the dial-back's last handshake message race
    SimNetwork net(2, options);
    net.host(1).add_bootstrap(net.now(), net.address(0));
    net.run_for(10s);
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(disconnect_reasons(net, i), std::vector<std::string>{}) << "seed " << seed << ", host " << i;
      EXPECT_EQ(net.host(i).autonat().stats().last_status, autonat::ResponseStatus::ok) << "seed " << seed << ", host " << i;
    }
    EXPECT_EQ(net.connections_between(0, 1), 1u) << "seed " << seed;
  }
}

// Only the dial-back itself is claimed: another connection the server
// opens to us right after its answer (here over WebSocket, as `taho ping
// --transport` would) is a peer connection and stays.
TEST(Autonat, TheServersNextConnectionAfterItsDialBackStays) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SimNetworkOptions options = automatic_modes(seed);
    options.jitter = 8ms;
    SimNetwork net(2, options);
    net.host(1).add_bootstrap(net.now(), net.address(0));
    ASSERT_TRUE(net.run_until([&] { return net.host(1).autonat().stats().last_status == autonat::ResponseStatus::ok; },
                              10s))
        << "seed " << seed;
    net.run_for(100ms);  // a dial-back completing after the answer arrives meanwhile
    ASSERT_TRUE(net.connect(0, 1, Transport::websocket)) << "seed " << seed;
    net.run_for(1s);
    EXPECT_EQ(net.connections_between(0, 1), 2u) << "seed " << seed << ": TCP and WebSocket";
  }
}

TEST(Autonat, ReachableHostsTurnDhtServersAndKeepTheirConnection) {
  SimNetwork net(3, automatic_modes(11));
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(net.host(i).dht_server()) << "client mode until AutoNAT speaks";
    EXPECT_FALSE(advertises(net.host(i), net.host(i).dht().protocol()));
  }
  for (std::size_t i = 1; i < 3; ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  const bool public_all = net.run_until(
      [&] {
        for (std::size_t i = 0; i < 3; ++i) {
          if (net.host(i).reachability() != autonat::Reachability::reachable) return false;
        }
        return true;
      },
      30s);
  ASSERT_TRUE(public_all);
  net.run_for(5s);  // identify pushes and the first routing-table refresh
  for (std::size_t i = 0; i < 3; ++i) {
    const Host& host = net.host(i);
    EXPECT_TRUE(host.dht_server()) << i;
    EXPECT_TRUE(host.rendezvous_point()) << i;
    EXPECT_TRUE(advertises(host, host.dht().protocol())) << i;
    EXPECT_GE(host.autonat().stats().probes_answered, 1u) << i;
    EXPECT_EQ(host.autonat().stats().last_status, autonat::ResponseStatus::ok) << i;
  }
  // The others learnt of the switches by identify push and took each other
  // into their routing tables (hosts 1 and 2 know only host 0 for sure).
  EXPECT_TRUE(net.host(0).dht().routing_table().contains(net.peer(1)));
  EXPECT_TRUE(net.host(0).dht().routing_table().contains(net.peer(2)));
  EXPECT_TRUE(net.host(1).dht().routing_table().contains(net.peer(0)));
  EXPECT_TRUE(net.host(2).dht().routing_table().contains(net.peer(0)));
  std::uint64_t dial_backs = 0;
  for (std::size_t i = 0; i < 3; ++i) dial_backs += net.host(i).autonat().stats().dial_backs_ok;
  EXPECT_GE(dial_backs, 3u);
  // The probe connections are gone; the real ones survived them.
  net.run_for(3s);
  EXPECT_EQ(net.connections_between(0, 1), 1u);
  EXPECT_EQ(net.connections_between(0, 2), 1u);
  EXPECT_TRUE(net.host(1).swarm().is_connected(net.peer(0)));
}

TEST(Autonat, UnreachableHostStaysDhtClientYetLooksUp) {
  constexpr std::size_t kPrivate = 3;
  SimNetwork net(4, automatic_modes(12, kPrivate));
  // It listens on a port nobody can reach (say, a NAT forwards nothing).
  const auto ip = net.address(kPrivate).components().front().value_text();
  net.host(kPrivate).set_listen_addrs(net.now(), {*Multiaddr::parse("/ip4/" + ip + "/tcp/5555")});
  for (std::size_t i = 1; i < 3; ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  for (std::size_t i = 0; i < 3; ++i) net.host(kPrivate).add_bootstrap(net.now(), net.address(i));
  const bool settled = net.run_until(
      [&] {
        if (net.host(kPrivate).reachability() != autonat::Reachability::unreachable) return false;
        for (std::size_t i = 0; i < 3; ++i) {
          if (net.host(i).reachability() != autonat::Reachability::reachable) return false;
        }
        return true;
      },
      60s);
  ASSERT_TRUE(settled) << "private host: " << to_string(net.host(kPrivate).reachability());
  net.run_for(5s);
  const Host& hidden = net.host(kPrivate);
  EXPECT_FALSE(hidden.dht_server());
  EXPECT_FALSE(hidden.rendezvous_point());
  EXPECT_FALSE(advertises(hidden, hidden.dht().protocol()));
  EXPECT_EQ(hidden.autonat().stats().last_status, autonat::ResponseStatus::dial_error);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(net.host(i).dht_server()) << i;
    EXPECT_FALSE(net.host(i).dht().routing_table().contains(net.peer(kPrivate)))
        << "host " << i << " must not take a DHT client into its table";
  }
  // Client mode still looks things up through the servers.
  const auto lookup = net.host(kPrivate).dht_find_peer(net.now(), net.peer(2));
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, kPrivate, lookup).has_value(); }, 30s));
  const auto result = *finished_query(net, kPrivate, lookup);
  EXPECT_FALSE(result.error);
  EXPECT_TRUE(std::any_of(result.result.closest.begin(), result.result.closest.end(),
                          [&](const kad::Peer& peer) { return peer.id == net.peer(2); }));
}

TEST(Autonat, RefusesAddressesOffTheObservedIp) {
  SimNetwork net(2, automatic_modes(13, 1));
  // Host 1 claims only an address on another IP: host 0 must not dial it.
  net.host(1).set_listen_addrs(net.now(), {*Multiaddr::parse("/ip4/10.9.9.9/tcp/4001")});
  net.host(1).add_bootstrap(net.now(), net.address(0));
  ASSERT_TRUE(net.run_until([&] { return net.host(1).autonat().stats().probes_answered >= 1; }, 30s));
  EXPECT_EQ(net.host(1).autonat().stats().last_status, autonat::ResponseStatus::dial_refused);
  EXPECT_EQ(net.host(0).autonat().stats().dial_backs_ok + net.host(0).autonat().stats().dial_backs_failed, 0u);
  EXPECT_EQ(net.host(1).reachability(), autonat::Reachability::unknown) << "a refusal teaches nothing";
}

}  // namespace
}  // namespace taho::host
