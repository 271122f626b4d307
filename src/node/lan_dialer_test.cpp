#include "node/lan_dialer.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include "node/node.hpp"

namespace taho::node {
namespace {

using std::chrono::milliseconds;

Multiaddr addr(std::string_view text) { return *Multiaddr::parse(text); }

TEST(LanDialer, PrefersTheFirstPlainTcpAddressOffLoopback) {
  const std::string id = "/p2p/12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7";
  EXPECT_EQ(lan_dial_address({addr("/ip4/127.0.0.1/tcp/1" + id), addr("/ip4/10.0.0.2/tcp/2/ws" + id),
                              addr("/ip4/10.0.0.2/tcp/3" + id), addr("/ip4/10.0.0.3/tcp/4" + id)}),
            addr("/ip4/10.0.0.2/tcp/3" + id));
  EXPECT_EQ(lan_dial_address({addr("/ip6/::1/tcp/1" + id), addr("/ip4/127.0.0.1/tcp/2" + id)}),
            addr("/ip6/::1/tcp/1" + id));
  EXPECT_EQ(lan_dial_address({addr("/ip4/10.0.0.2/udp/1/quic-v1" + id), addr("/ip4/10.0.0.2/tcp/2/ws")}), std::nullopt);
  EXPECT_EQ(lan_dial_address({}), std::nullopt);
}

// Two nodes with real networks on loopback in one event loop.
struct TwoNodes {
  runtime::asio::EventLoop loop;
  Node a{*crypto::Ed25519KeyPair::generate(), "test"};
  Node b{*crypto::Ed25519KeyPair::generate(), "test"};
  NetworkOptions options = [] {
    NetworkOptions o;
    o.listen = {addr("/ip4/127.0.0.1/tcp/0")};
    return o;
  }();
  Network network_a{loop, a, options};
  Network network_b{loop, b, options};

  void run_for(milliseconds duration) {
    loop.context().restart();
    loop.context().run_for(duration);
  }
  bool a_has_b() const {
    for (const auto& row : network_a.peers()) {
      if (row.peer == b.peer_id()) return true;
    }
    return false;
  }
};

TEST(LanDialer, TheSmallerPeerIdDialsAtOnceTheOtherAfterItsGrace) {
  TwoNodes nodes;
  auto b_addrs = nodes.network_b.start();
  ASSERT_TRUE(nodes.network_a.start());
  ASSERT_TRUE(b_addrs);
  LanDialerOptions options;
  options.grace = milliseconds(600);
  LanDialer dialer(nodes.loop, nodes.network_a, nodes.a.peer_id(), options);
  dialer.on_peer(nodes.b.peer_id(), *b_addrs);
  nodes.run_for(milliseconds(300));
  const bool a_dials_first = nodes.a.peer_id().bytes() < nodes.b.peer_id().bytes();
  EXPECT_EQ(nodes.a_has_b(), a_dials_first);
  nodes.run_for(milliseconds(900));
  EXPECT_TRUE(nodes.a_has_b());
  // Reported again while connected: nothing more to do.
  dialer.on_peer(nodes.b.peer_id(), *b_addrs);
  nodes.run_for(milliseconds(100));
  EXPECT_EQ(nodes.network_a.peers().size(), 1u);
}

TEST(LanDialer, RetriesAFailedDial) {
  TwoNodes nodes;
  ASSERT_TRUE(nodes.network_a.start());
  // b is not listening yet: take a free port for it, refuse the first dial.
  NetworkOptions probe_options = nodes.options;
  Node probe_node{*crypto::Ed25519KeyPair::generate(), "test"};
  std::uint16_t port = 0;
  {
    Network probe(nodes.loop, probe_node, probe_options);
    auto bound = probe.start();
    ASSERT_TRUE(bound);
    port = *bound->front().components()[1].port();
  }
  const Multiaddr b_addr = addr("/ip4/127.0.0.1/tcp/" + std::to_string(port)).with_peer_id(nodes.b.peer_id());
  LanDialerOptions options;
  options.grace = milliseconds(0);
  options.retry_delay = milliseconds(400);
  LanDialer dialer(nodes.loop, nodes.network_a, nodes.a.peer_id(), options);
  dialer.on_peer(nodes.b.peer_id(), {b_addr});
  nodes.run_for(milliseconds(200));  // the first dial is refused
  EXPECT_FALSE(nodes.a_has_b());
  nodes.options.listen = {b_addr.without_peer_id()};
  Network late_b(nodes.loop, nodes.b, nodes.options);
  ASSERT_TRUE(late_b.start());
  nodes.run_for(milliseconds(1500));
  EXPECT_TRUE(nodes.a_has_b());
}

}  // namespace
}  // namespace taho::node
