// Transport choice (happy eyeballs) in the host: QUIC first, TCP after
// transport_fallback_delay or at once when QUIC fails, the first connection
// wins, the loser is closed, and the winner's transport is remembered.
// The test plays the driver: it answers the host's Dial outputs.
#include <gtest/gtest.h>

#include "base/seeded_rng.hpp"
#include "host/host.hpp"

namespace taho::host {
namespace {

using namespace std::chrono_literals;

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

class TransportRace : public ::testing::Test {
 protected:
  TransportRace() : rng_(9), host_(options(), suite_, rng_, now_) {}

  static HostOptions options() {
    HostOptions options;
    options.swarm.identity = key_from(1);
    options.connections.min_peers = 1;
    options.can_dial = [](const Multiaddr& addr) {
      return addr.has(multiaddr::Protocol::tcp) || addr.has(multiaddr::Protocol::quic_v1);
    };
    return options;
  }

  const PeerId remote_ = PeerId::from_ed25519(key_from(2).public_key());
  const Multiaddr tcp_ = *Multiaddr::parse("/ip4/192.0.2.7/tcp/4001");
  const Multiaddr quic_ = *Multiaddr::parse("/ip4/192.0.2.7/udp/4001/quic-v1");
  const Multiaddr local_ = *Multiaddr::parse("/ip4/192.0.2.1/udp/4001/quic-v1");

  void advance(Duration by) {
    now_ = now_ + by;
    host_.handle_timeout(now_);
  }

  std::vector<host_output::Dial> dials() {
    std::vector<host_output::Dial> found;
    while (auto output = host_.poll_output()) {
      if (auto* dial = std::get_if<host_output::Dial>(&*output)) found.push_back(*dial);
      if (auto* close = std::get_if<swarm::swarm_output::Close>(&*output)) closed_.push_back(close->connection);
    }
    return found;
  }

  // Starts the race: the connection manager dials the discovered peer.
  host_output::Dial first_dial() {
    host_.add_discovered(now_, remote_, {tcp_, quic_}, Source::manual);
    auto found = dials();
    for (int tick = 0; tick < 5 && found.empty(); ++tick) {
      advance(1s);
      found = dials();
    }
    EXPECT_EQ(found.size(), 1u) << "the connection manager dials the peer once";
    return found.empty() ? host_output::Dial{0, remote_, tcp_} : found[0];
  }

  // The driver reports the attempt connected (a muxed connection is
  // established at once, so PeerConnected follows without a handshake).
  void connected(swarm::ConnectionId id, const host_output::Dial& dial) {
    ASSERT_TRUE(host_.add_muxed_connection(now_, id, swarm::Direction::outbound, local_, dial.addr.without_peer_id(),
                                           remote_, dial.id));
  }

  crypto::OpenSslCryptoSuite suite_;
  SeededRng rng_;
  Instant now_{};
  Host host_;
  std::vector<swarm::ConnectionId> closed_;
};

TEST_F(TransportRace, QuicFirstThenTcpAfterTheDelay) {
  const auto first = first_dial();
  EXPECT_EQ(transport_of(first.addr), Transport::quic);
  EXPECT_EQ(first.addr.peer_id(), remote_);
  advance(200ms);
  EXPECT_TRUE(dials().empty()) << "TCP waits for transport_fallback_delay";
  advance(60ms);
  auto second = dials();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].addr.without_peer_id(), tcp_);
  EXPECT_NE(second[0].id, first.id);
}

TEST_F(TransportRace, FailedQuicStartsTcpAtOnce) {
  const auto first = first_dial();
  host_.handle_dial_failed(now_, first.id, "handshake timeout");
  auto second = dials();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(transport_of(second[0].addr), Transport::tcp);
  // TCP wins: the next dial of this peer starts with TCP.
  connected(50, second[0]);
  EXPECT_EQ(host_.preferred_transport(remote_), Transport::tcp);
  host_.disconnect(now_, remote_);
  dials();
  advance(2s);
  auto again = dials();
  for (int tick = 0; tick < 10 && again.empty(); ++tick) {
    advance(1s);
    again = dials();
  }
  ASSERT_FALSE(again.empty());
  EXPECT_EQ(transport_of(again[0].addr), Transport::tcp);
}

TEST_F(TransportRace, FirstConnectionWinsAndTheLaterOneIsClosed) {
  const auto first = first_dial();
  advance(300ms);
  auto second = dials();
  ASSERT_EQ(second.size(), 1u);
  connected(1 << 20, first);  // QUIC wins
  EXPECT_TRUE(host_.swarm().is_connected(remote_));
  EXPECT_EQ(host_.preferred_transport(remote_), Transport::quic);
  dials();
  closed_.clear();
  connected(7, second[0]);  // TCP arrives late
  dials();
  ASSERT_EQ(closed_.size(), 1u);
  EXPECT_EQ(closed_[0], 7u);
  const auto summaries = host_.swarm().connections();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(transport_of(summaries[0].remote_addr), Transport::quic);
}

TEST_F(TransportRace, AllAttemptsFailingFailsTheDialOnce) {
  const auto first = first_dial();
  host_.handle_dial_failed(now_, first.id, "no route");
  auto second = dials();
  ASSERT_EQ(second.size(), 1u);
  host_.handle_dial_failed(now_, second[0].id, "refused");
  const auto* known = host_.connections().find(remote_);
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(known->failures, 1u) << "one failed dial of the peer, not one per transport";
  EXPECT_EQ(host_.connections().stats().dial_failures, 1u);
  // Answers to attempts already settled are ignored.
  host_.handle_dial_failed(now_, second[0].id, "late");
  EXPECT_EQ(host_.connections().stats().dial_failures, 1u);
}

TEST_F(TransportRace, ConnectionsOverDifferentTransportsAreNotDuplicates) {
  const auto first = first_dial();
  connected(1 << 20, first);
  dials();
  closed_.clear();
  // A second connection over TCP that no race asked for (say `taho ping
  // --transport tcp`) stays; a second QUIC one is a duplicate and goes.
  ASSERT_TRUE(host_.add_muxed_connection(now_, 8, swarm::Direction::outbound, local_, tcp_, remote_));
  ASSERT_TRUE(host_.add_muxed_connection(now_, 9, swarm::Direction::outbound, local_, quic_, remote_));
  dials();
  EXPECT_EQ(closed_, std::vector<swarm::ConnectionId>{9});
  EXPECT_EQ(host_.swarm().connections().size(), 2u);
}

// A connection the peer opens long after ours (an AutoNAT dial-back, say)
// did not cross our dial: ours stays and the new one is left to its dialer.
// A dial of ours while connected goes at once.
TEST_F(TransportRace, ALaterConnectionIsNoCrossedDial) {
  const auto first = first_dial();
  connected(1 << 20, first);
  dials();
  closed_.clear();
  advance(11s);  // past the upgrade timeout: no dial of the peer's can have crossed ours
  ASSERT_TRUE(host_.add_muxed_connection(now_, 8, swarm::Direction::inbound, local_, quic_, remote_));
  dials();
  EXPECT_TRUE(closed_.empty()) << "neither the old connection nor the new inbound one is ours to close";
  EXPECT_EQ(host_.swarm().connections().size(), 2u);
  ASSERT_TRUE(host_.add_muxed_connection(now_, 9, swarm::Direction::outbound, local_, quic_, remote_));
  dials();
  EXPECT_EQ(closed_, std::vector<swarm::ConnectionId>{9});
}

}  // namespace
}  // namespace taho::host
