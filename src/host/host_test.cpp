// Hosts on the simulated network: real swarms (Noise, Yamux, identify,
// ping) with the DHT, gossipsub and the connection manager on top, on a
// virtual clock. Every scenario replays exactly from its seed.
#include "host/host.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "host/sim_network.hpp"

namespace taho::host {
namespace {

using namespace std::chrono_literals;

Bytes key_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::size_t connected_peers(SimNetwork& net, std::size_t index) {
  return net.host(index).connections().connected_count();
}

// The QueryFinished event with `id` on host `index`, once it arrived.
std::optional<kad_event::QueryFinished> finished_query(SimNetwork& net, std::size_t index, QueryId id) {
  for (const auto& event : net.events(index)) {
    if (const auto* finished = std::get_if<kad_event::QueryFinished>(&event); finished && finished->id == id) {
      return *finished;
    }
  }
  return std::nullopt;
}

std::vector<GossipMessage> gossip_received(SimNetwork& net, std::size_t index) {
  std::vector<GossipMessage> received;
  for (const auto& event : net.events(index)) {
    if (const auto* message = std::get_if<GossipMessage>(&event)) received.push_back(*message);
  }
  return received;
}

SimNetworkOptions small_world(std::uint64_t seed, std::size_t min_peers = 4) {
  SimNetworkOptions options;
  options.seed = seed;
  options.configure = [min_peers](std::size_t, HostOptions& host) { host.connections.min_peers = min_peers; };
  return options;
}

TEST(Host, BootstrapFillsUpToMinPeersThroughTheDht) {
  SimNetwork net(6, small_world(1, 3));
  for (std::size_t i = 1; i < net.size(); ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  const bool formed = net.run_until(
      [&] {
        for (std::size_t i = 1; i < net.size(); ++i) {
          if (connected_peers(net, i) < 3) return false;
        }
        return true;
      },
      30s);
  EXPECT_TRUE(formed) << "a node learns others from the bootstrap node's DHT answers and dials them";
  net.run_for(5s);  // the first routing-table refresh
  for (std::size_t i = 1; i < net.size(); ++i) {
    EXPECT_GE(net.host(i).dht().routing_table().size(), 2u) << "host " << i;
    EXPECT_EQ(net.host(i).source_of(net.peer(0)), Source::bootstrap);
  }
}

TEST(Host, ProvidersFoundFromAnotherNode) {
  SimNetwork net(8, small_world(2));
  for (std::size_t i = 1; i < net.size(); ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  net.run_for(10s);
  const Bytes key = key_of("some content key");
  const auto provide = net.host(3).dht_provide(net.now(), key);
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, 3, provide).has_value(); }, 30s));
  EXPECT_FALSE(finished_query(net, 3, provide)->error);

  const auto lookup = net.host(6).dht_get_providers(net.now(), key);
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, 6, lookup).has_value(); }, 30s));
  const auto result = *finished_query(net, 6, lookup);
  ASSERT_FALSE(result.error) << *result.error;
  const bool found = std::any_of(result.result.providers.begin(), result.result.providers.end(),
                                 [&](const kad::Peer& peer) { return peer.id == net.peer(3); });
  EXPECT_TRUE(found);
}

TEST(Host, FindPeerAndValues) {
  SimNetwork net(8, small_world(3));
  for (std::size_t i = 1; i < net.size(); ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  net.run_for(10s);
  const auto find = net.host(2).dht_find_peer(net.now(), net.peer(7));
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, 2, find).has_value(); }, 30s));
  const auto found = *finished_query(net, 2, find);
  EXPECT_TRUE(std::any_of(found.result.closest.begin(), found.result.closest.end(),
                          [&](const kad::Peer& peer) { return peer.id == net.peer(7); }));

  kad::Record record{key_of("/taho/test/name"), key_of("value"), ""};
  const auto put = net.host(4).dht_put_value(net.now(), record);
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, 4, put).has_value(); }, 30s));
  const auto get = net.host(5).dht_get_value(net.now(), record.key);
  ASSERT_TRUE(net.run_until([&] { return finished_query(net, 5, get).has_value(); }, 30s));
  const auto got = *finished_query(net, 5, get);
  ASSERT_FALSE(got.result.records.empty());
  EXPECT_EQ(got.result.records.front().record.value, record.value);

  kad::Record foreign{key_of("/other/name"), key_of("value"), ""};
  const auto refused = net.host(4).dht_put_value(net.now(), foreign);
  ASSERT_TRUE(finished_query(net, 4, refused).has_value() ||
              net.run_until([&] { return finished_query(net, 4, refused).has_value(); }, 1s));
  EXPECT_TRUE(finished_query(net, 4, refused)->error);
}

TEST(Host, GossipReachesEverySubscriberOnce) {
  SimNetwork net(10, small_world(4));
  for (std::size_t i = 1; i < net.size(); ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "demo"));
  net.run_for(15s);  // meshes form over a few heartbeats
  const Bytes payload{0, 1, 2, 255};
  ASSERT_TRUE(net.host(7).publish(net.now(), "demo", payload));
  ASSERT_TRUE(net.run_until(
      [&] {
        for (std::size_t i = 0; i < net.size(); ++i) {
          if (i != 7 && gossip_received(net, i).empty()) return false;
        }
        return true;
      },
      10s));
  net.run_for(5s);
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (i == 7) continue;
    const auto received = gossip_received(net, i);
    ASSERT_EQ(received.size(), 1u) << "host " << i;
    EXPECT_EQ(received[0].data, payload);
    EXPECT_EQ(received[0].author, net.peer(7));
    EXPECT_EQ(received[0].topic, "demo");
  }
}

TEST(Host, FloodingPeerIsRateLimitedAndScoredDown) {
  SimNetworkOptions options = small_world(9, 1);
  options.configure = [](std::size_t, HostOptions& host) {
    host.connections.min_peers = 1;
    host.gossip.peer_messages_per_second = 50;
    host.gossip.peer_message_burst = 100;
  };
  SimNetwork net(2, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "flood"));
  net.run_for(3s);
  for (int m = 0; m < 1000; ++m) {
    const Bytes payload{static_cast<std::uint8_t>(m), static_cast<std::uint8_t>(m >> 8)};
    ASSERT_TRUE(net.host(1).publish(net.now(), "flood", payload));
  }
  net.run_for(1s);
  const auto received = gossip_received(net, 0).size();
  EXPECT_GE(received, 100u);
  EXPECT_LT(received, 300u) << "a burst of 100 plus about 50/s may pass";
  EXPECT_GT(net.host(0).gossip().stats().rpcs_dropped_rate_limited, 0u);
  EXPECT_LT(net.host(0).gossip().router().score(net.peer(1)), 0.0);
}

TEST(Host, CrossedDialsLeaveOneConnection) {
  SimNetwork net(2, small_world(10, 1));
  // Each names the other: both dial at the same instant.
  net.host(0).add_bootstrap(net.now(), net.address(1));
  net.host(1).add_bootstrap(net.now(), net.address(0));
  net.run_for(5s);
  EXPECT_EQ(net.connections_between(0, 1), 1u);
  EXPECT_EQ(net.connections_between(1, 0), 1u);
  EXPECT_EQ(net.host(0).swarm().connection_count(), 1u);
  EXPECT_EQ(net.host(1).swarm().connection_count(), 1u);
  EXPECT_TRUE(net.host(0).swarm().is_connected(net.peer(1)));
}

// Crossed dials close one of the two connections, perhaps the one that
// carried a gossip stream: gossip between the two must keep flowing.
TEST(Host, GossipSurvivesTheCrossedDialThatLoses) {
  for (std::uint64_t seed = 10; seed < 40; ++seed) {
    SimNetwork net(2, small_world(seed, 1));
    for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "demo"));
    net.host(0).add_bootstrap(net.now(), net.address(1));
    net.host(1).add_bootstrap(net.now(), net.address(0));
    net.run_for(5s);
    ASSERT_EQ(net.host(0).swarm().connection_count(), 1u) << "seed " << seed;
    ASSERT_TRUE(net.host(0).publish(net.now(), "demo", Bytes{1}));
    ASSERT_TRUE(net.host(1).publish(net.now(), "demo", Bytes{2}));
    net.run_for(3s);
    EXPECT_EQ(gossip_received(net, 1).size(), 1u) << "seed " << seed;
    EXPECT_EQ(gossip_received(net, 0).size(), 1u) << "seed " << seed;
  }
}

// Two hosts keep a TCP and a WebSocket connection to each other (different
// transports are not duplicates). When the one that carried both gossip
// streams closes, each end reopens its stream on the other connection.
TEST(Host, GossipReopensItsStreamWhenItsConnectionClosesAndAnotherRemains) {
  for (std::uint64_t seed = 40; seed < 50; ++seed) {
    SimNetwork net(2, small_world(seed, 1));
    for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "demo"));
    net.host(1).add_bootstrap(net.now(), net.address(0));
    net.run_for(3s);
    ASSERT_EQ(net.connections_between(1, 0), 1u) << "seed " << seed;
    ASSERT_TRUE(net.connect(0, 1, Transport::websocket)) << "seed " << seed;
    net.run_for(2s);
    ASSERT_EQ(net.host(0).swarm().connection_count(), 2u) << "seed " << seed;
    ASSERT_EQ(net.host(1).swarm().connection_count(), 2u) << "seed " << seed;
    const auto carrier = net.host(0).gossip().outbound_connection(net.peer(1));
    ASSERT_TRUE(carrier) << "seed " << seed;

    net.close_connection(*carrier);
    net.run_for(50ms);  // both ends have seen it close
    ASSERT_TRUE(net.host(0).swarm().is_connected(net.peer(1))) << "seed " << seed;
    ASSERT_TRUE(net.host(1).swarm().is_connected(net.peer(0))) << "seed " << seed;
    ASSERT_EQ(net.host(0).swarm().connection_count(), 1u) << "seed " << seed;
    net.run_for(2s);
    const auto reopened = net.host(0).gossip().outbound_connection(net.peer(1));
    EXPECT_TRUE(reopened && *reopened != *carrier) << "seed " << seed;
    EXPECT_EQ(net.host(0).gossip().stats().streams_reopened, 1u) << "seed " << seed;
    EXPECT_EQ(net.host(1).gossip().stats().streams_reopened, 1u) << "seed " << seed;
    for (std::size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(net.host(i).gossip().router().stats().unknown_peer_rpcs, 0u) << "seed " << seed << " host " << i;
    }

    ASSERT_TRUE(net.host(0).publish(net.now(), "demo", Bytes{1})) << "seed " << seed;
    ASSERT_TRUE(net.host(1).publish(net.now(), "demo", Bytes{2})) << "seed " << seed;
    const bool delivered = net.run_until(
        [&] { return gossip_received(net, 0).size() == 1 && gossip_received(net, 1).size() == 1; }, 3s);
    EXPECT_TRUE(delivered) << "seed " << seed;
  }
}

// Closing the connection that does not carry the gossip stream changes
// nothing: no reopen, no churn in the router.
TEST(Host, GossipStreamStaysWhenAnotherConnectionCloses) {
  SimNetwork net(2, small_world(60, 1));
  for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "demo"));
  net.host(1).add_bootstrap(net.now(), net.address(0));
  net.run_for(3s);
  const auto websocket = net.connect(0, 1, Transport::websocket);
  ASSERT_TRUE(websocket);
  net.run_for(2s);
  const auto carrier = net.host(0).gossip().outbound_connection(net.peer(1));
  ASSERT_TRUE(carrier);
  ASSERT_NE(*carrier, *websocket) << "the swarm opens streams on the oldest connection";
  net.close_connection(*websocket);
  net.run_for(5s);
  EXPECT_EQ(net.host(0).gossip().outbound_connection(net.peer(1)), carrier);
  EXPECT_EQ(net.host(0).gossip().stats().streams_opened, 1u);
  EXPECT_EQ(net.host(1).gossip().stats().streams_opened, 1u);
  ASSERT_TRUE(net.host(0).publish(net.now(), "demo", Bytes{1}));
  EXPECT_TRUE(net.run_until([&] { return gossip_received(net, 1).size() == 1; }, 3s));
}

// The host closes a connection itself (a duplicate, a dial-back, a trim)
// while our gossip stream is being opened on it: the swarm reports nothing
// about that open, so the behaviour must not wait for it forever.
TEST(Host, GossipOpenLostWithAClosedConnectionIsRetried) {
  SimNetwork net(2, small_world(63, 1));
  for (std::size_t i = 0; i < 2; ++i) ASSERT_TRUE(net.host(i).subscribe(net.now(), "demo"));
  net.host(1).add_bootstrap(net.now(), net.address(0));
  ASSERT_TRUE(net.run_until([&] { return net.connections_between(1, 0) == 1; }, 3s));
  const auto websocket = net.connect(0, 1, Transport::websocket);  // the younger one
  ASSERT_TRUE(websocket);
  // Until host 0 asked for its stream (on the older, TCP connection).
  ASSERT_TRUE(net.run_until([&] { return net.host(0).gossip().stats().streams_opened == 1; }, 3s));
  ASSERT_FALSE(net.host(0).gossip().outbound_connection(net.peer(1))) << "still opening";
  std::optional<swarm::ConnectionId> tcp;
  for (const auto& summary : net.host(0).swarm().connections()) {
    if (summary.id != *websocket) tcp = summary.id;
  }
  ASSERT_TRUE(tcp && *tcp < *websocket);
  net.host(0).swarm().close_connection(*tcp, "closed by the test");
  net.host(0).process(net.now());
  ASSERT_TRUE(net.host(0).swarm().is_connected(net.peer(1)));
  ASSERT_TRUE(net.run_until([&] { return net.host(0).gossip().outbound_connection(net.peer(1)).has_value(); }, 3s));
  EXPECT_EQ(net.host(0).gossip().outbound_connection(net.peer(1)), websocket);
  net.run_for(2s);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_EQ(net.host(i).gossip().router().stats().unknown_peer_rpcs, 0u);
  ASSERT_TRUE(net.host(0).publish(net.now(), "demo", Bytes{1}));
  ASSERT_TRUE(net.host(1).publish(net.now(), "demo", Bytes{2}));
  EXPECT_TRUE(net.run_until(
      [&] { return gossip_received(net, 0).size() == 1 && gossip_received(net, 1).size() == 1; }, 3s));
}

// A reopened stream that dies soon doubles the wait before the next
// reopen; one that lived reopen_stable_after starts the count afresh.
TEST(Host, GossipReopenBackoffResetsAfterAStableStream) {
  SimNetworkOptions options = small_world(64, 1);
  options.configure = [](std::size_t, HostOptions& host) {
    host.connections.min_peers = 1;
    host.gossip.reopen_backoff_initial = 100ms;
    host.gossip.reopen_stable_after = 1s;
  };
  SimNetwork net(2, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  net.run_for(3s);
  ASSERT_TRUE(net.connect(0, 1, Transport::websocket));
  net.run_for(1s);
  Instant closed_at{};
  auto close_carrier = [&] {
    const auto carrier = net.host(0).gossip().outbound_connection(net.peer(1));
    ASSERT_TRUE(carrier);
    closed_at = net.now();
    net.close_connection(*carrier);
    net.run_for(1ms);  // host 0 sees its end close at once
  };
  auto reopen = [&] { return net.host(0).gossip().reopen_of(net.peer(1)); };
  auto open_again = [&] { return net.host(0).gossip().outbound_connection(net.peer(1)).has_value(); };

  close_carrier();  // the TCP connection; the WebSocket one stays
  ASSERT_TRUE(reopen());
  EXPECT_EQ(reopen()->failures, 1u);
  EXPECT_EQ(reopen()->due, closed_at + 100ms);
  ASSERT_TRUE(net.run_until(open_again, 1s));
  ASSERT_TRUE(net.connect(0, 1, Transport::tcp));
  net.run_for(200ms);
  close_carrier();  // the WebSocket one, 200 ms old
  ASSERT_TRUE(reopen());
  EXPECT_EQ(reopen()->failures, 2u);
  EXPECT_EQ(reopen()->due, closed_at + 200ms);
  ASSERT_TRUE(net.run_until(open_again, 1s));
  ASSERT_TRUE(net.connect(0, 1, Transport::websocket));
  net.run_for(2s);
  close_carrier();  // the second TCP one, 2 s old
  ASSERT_TRUE(reopen());
  EXPECT_EQ(reopen()->failures, 1u);
  ASSERT_TRUE(net.run_until(open_again, 1s));
  EXPECT_EQ(net.host(0).gossip().stats().streams_reopened, 3u);
}

// Host 1 takes no gossip stream from anyone, so each one host 0 opens is
// reset at once: the waits before reopening double up to the cap, and host
// 0 gives up after reopen_attempts_max failures.
TEST(Host, GossipReopenBacksOffAndGivesUp) {
  SimNetworkOptions options = small_world(61, 1);
  options.configure = [](std::size_t index, HostOptions& host) {
    host.connections.min_peers = 1;
    host.gossip.reopen_backoff_initial = 100ms;
    host.gossip.reopen_backoff_max = 1s;
    host.gossip.reopen_attempts_max = 7;
    if (index == 1) host.gossip.inbound_streams_per_peer_max = 0;
  };
  SimNetwork net(2, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  std::vector<GossipReopen> scheduled;
  for (int step = 0; step < 3000; ++step) {  // 15 s in 5 ms steps
    net.run_for(5ms);
    const auto reopen = net.host(0).gossip().reopen_of(net.peer(1));
    if (reopen && (scheduled.empty() || scheduled.back().due != reopen->due)) scheduled.push_back(*reopen);
  }
  ASSERT_TRUE(net.host(0).swarm().is_connected(net.peer(1)));
  ASSERT_EQ(scheduled.size(), 7u);
  const std::vector<Duration> waits{100ms, 200ms, 400ms, 800ms, 1s, 1s, 1s};
  for (std::size_t k = 0; k < scheduled.size(); ++k) EXPECT_EQ(scheduled[k].failures, k + 1);
  // Between two due times: the next wait, plus opening the stream and
  // having it reset (a few link delays).
  for (std::size_t k = 1; k < scheduled.size(); ++k) {
    const Duration gap = scheduled[k].due - scheduled[k - 1].due;
    EXPECT_GE(gap, waits[k]) << "reopen " << k;
    EXPECT_LT(gap, waits[k] + 100ms) << "reopen " << k;
  }
  const auto& stats = net.host(0).gossip().stats();
  EXPECT_EQ(stats.streams_reopened, 7u);
  EXPECT_EQ(stats.streams_opened, 8u);
  EXPECT_EQ(stats.reopens_given_up, 1u);
  EXPECT_FALSE(net.host(0).gossip().reopen_of(net.peer(1)));
}

// A reopen waiting for its time is dropped with the peer's last connection.
TEST(Host, GossipReopenIsForgottenWhenThePeerDisconnects) {
  SimNetworkOptions options = small_world(62, 1);
  options.configure = [](std::size_t index, HostOptions& host) {
    host.connections.min_peers = 1;
    host.gossip.reopen_backoff_initial = 2s;
    if (index == 1) host.gossip.inbound_streams_per_peer_max = 0;
  };
  SimNetwork net(2, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  ASSERT_TRUE(net.run_until([&] { return net.host(0).gossip().reopen_of(net.peer(1)).has_value(); }, 5s));
  const auto due = net.host(0).gossip().reopen_of(net.peer(1))->due;
  const auto opened = net.host(0).gossip().stats().streams_opened;
  net.stop(1);
  net.run_for(50ms);
  ASSERT_FALSE(net.host(0).swarm().is_connected(net.peer(1)));
  EXPECT_FALSE(net.host(0).gossip().reopen_of(net.peer(1)));
  net.run_until(due + 10s);
  EXPECT_EQ(net.host(0).gossip().stats().streams_opened, opened);
  EXPECT_EQ(net.host(0).gossip().stats().streams_reopened, 0u);
}

TEST(Host, ReplacesALostPeerAndRedialsAfterRestart) {
  // max_peers = min_peers: trimming keeps each node at exactly 3 links, so
  // losing one really leaves it short.
  SimNetworkOptions options = small_world(5, 3);
  options.configure = [](std::size_t index, HostOptions& host) {
    host.connections.min_peers = 3;
    if (index > 0) host.connections.max_peers = 3;
  };
  SimNetwork net(7, options);
  for (std::size_t i = 1; i < net.size(); ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  net.run_for(20s);
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_GE(connected_peers(net, i), 3u) << "host " << i;

  net.stop(0);  // the bootstrap node dies
  net.run_for(100ms);  // every other node has seen its connection drop, nothing re-dialed yet
  std::size_t below_min = 0;
  for (std::size_t i = 1; i < net.size(); ++i) below_min += connected_peers(net, i) < 3 ? 1 : 0;
  EXPECT_GT(below_min, 0u) << "the test needs nodes that lost a needed peer";
  net.run_for(20s);
  for (std::size_t i = 1; i < net.size(); ++i) {
    EXPECT_GE(connected_peers(net, i), 3u) << "host " << i << " should have replaced the lost peer";
  }
  net.start(0);
  // The others re-dial their bootstrap peer with backoff once it is back.
  const bool back = net.run_until([&] { return connected_peers(net, 0) >= 3; }, 2min);
  EXPECT_TRUE(back);
}

TEST(Host, UnresponsivePeerIsDroppedByKeepAlive) {
  SimNetworkOptions options = small_world(6, 1);
  options.configure = [](std::size_t, HostOptions& host) {
    host.connections.min_peers = 1;
    host.connections.keepalive_initial = 2s;
    host.connections.keepalive_ping_timeout = 3s;
    host.swarm.connection.yamux.keepalive_interval = std::chrono::minutes(10);  // leave it to the adaptive keep-alive
  };
  SimNetwork net(3, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  ASSERT_TRUE(net.run_until([&] { return connected_peers(net, 1) == 1; }, 10s));
  // Cut the link silently both ways: nothing closes, pings just vanish.
  net.blackhole(0, 1);
  const bool dropped = net.run_until([&] { return connected_peers(net, 1) == 0; }, 60s);
  EXPECT_TRUE(dropped);
  // Both ends ping; whichever gives up first closes the connection.
  EXPECT_GE(net.host(0).connections().stats().dropped_unresponsive +
                net.host(1).connections().stats().dropped_unresponsive,
            1u);
}

// With the DHT out of the picture (the bootstrap node is a DHT client, so
// nobody's routing table fills), rendezvous alone introduces the nodes.
TEST(Host, RendezvousIntroducesPeersThroughTheBootstrapNode) {
  SimNetworkOptions options;
  options.seed = 8;
  options.configure = [](std::size_t index, HostOptions& host) {
    host.connections.min_peers = 2;
    if (index == 0) host.kad.server = false;
  };
  SimNetwork net(3, options);
  net.host(1).add_bootstrap(net.now(), net.address(0));
  net.host(2).add_bootstrap(net.now(), net.address(0));
  const bool met = net.run_until([&] { return net.connections_between(1, 2) + net.connections_between(2, 1) > 0; }, 30s);
  ASSERT_TRUE(met);
  const auto source = net.host(1).source_of(net.peer(2)).value_or(Source::manual);
  const auto other = net.host(2).source_of(net.peer(1)).value_or(Source::manual);
  EXPECT_TRUE(source == Source::rendezvous || other == Source::rendezvous);
  EXPECT_EQ(net.host(1).dht().routing_table().size(), 0u) << "the DHT must not have been the way";
  EXPECT_EQ(net.host(0).rendezvous().registrations_served(), 2u);
}

// Everyone reachable through the DHT from one bootstrap node; lookups take
// O(log n) hops; provider records survive 20 % of the nodes leaving.
TEST(HostScale, TwoHundredNodes) {
  constexpr std::size_t n = 200;  // the issue asks for 200
  SimNetworkOptions options;
  options.seed = 200;
  options.configure = [](std::size_t, HostOptions& host) {
    host.connections.min_peers = 4;
    host.kad.refresh_interval = std::chrono::minutes(1);
    // Everyone dials the bootstrap node at the same virtual instant: let
    // it take them all rather than refuse most upgrades at once.
    host.swarm.pending_upgrades_max = 256;
  };
  SimNetwork net(n, options);
  for (std::size_t i = 1; i < n; ++i) net.host(i).add_bootstrap(net.now(), net.address(0));
  net.run_for(30s);

  SeededRng pick(7);
  std::size_t found = 0;
  std::size_t hops_max = 0;
  double hops_total = 0;
  constexpr std::size_t lookups = 40;
  for (std::size_t l = 0; l < lookups; ++l) {
    const std::size_t from = 1 + pick.next_u64() % (n - 1);
    const std::size_t target = 1 + pick.next_u64() % (n - 1);
    const auto query = net.host(from).dht_find_peer(net.now(), net.peer(target));
    ASSERT_TRUE(net.run_until([&] { return finished_query(net, from, query).has_value(); }, 60s));
    const auto result = *finished_query(net, from, query);
    const bool hit = from == target || std::any_of(result.result.closest.begin(), result.result.closest.end(),
                                                   [&](const kad::Peer& peer) { return peer.id == net.peer(target); });
    if (hit) ++found;
    hops_max = std::max(hops_max, result.rounds);
    hops_total += static_cast<double>(result.rounds);
  }
  std::printf("%zu-node DHT: %zu/%zu peers found, hops mean %.2f max %zu (log2 n = %.1f)\n", n, found, lookups,
              hops_total / lookups, hops_max, std::log2(static_cast<double>(n)));
  EXPECT_EQ(found, lookups);
  EXPECT_LE(hops_max, static_cast<std::size_t>(std::ceil(std::log2(static_cast<double>(n)))));

  // Providers, then 20 % of the nodes leave.
  std::vector<Bytes> keys;
  for (int k = 0; k < 10; ++k) {
    keys.push_back(key_of("content-" + std::to_string(k)));
    const std::size_t provider = 1 + pick.next_u64() % (n - 1);
    const auto query = net.host(provider).dht_provide(net.now(), keys.back());
    ASSERT_TRUE(net.run_until([&] { return finished_query(net, provider, query).has_value(); }, 60s));
  }
  net.run_for(5s);
  std::set<std::size_t> gone;
  while (gone.size() < n / 5) gone.insert(1 + pick.next_u64() % (n - 1));
  for (auto index : gone) net.stop(index);
  net.run_for(10s);
  std::size_t providers_found = 0;
  for (const auto& key : keys) {
    std::size_t from = 1 + pick.next_u64() % (n - 1);
    while (gone.count(from)) from = 1 + pick.next_u64() % (n - 1);
    const auto query = net.host(from).dht_get_providers(net.now(), key);
    ASSERT_TRUE(net.run_until([&] { return finished_query(net, from, query).has_value(); }, 120s));
    if (!finished_query(net, from, query)->result.providers.empty()) ++providers_found;
  }
  std::printf("after 20%% left: providers found for %zu/%zu keys\n", providers_found, keys.size());
  EXPECT_EQ(providers_found, keys.size());
}

}  // namespace
}  // namespace taho::host
