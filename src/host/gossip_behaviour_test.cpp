// GossipBehaviour on its own, the test playing the host: a swarm with one
// muxed connection (established at once, no handshake) makes the peer
// connected, and the test answers the behaviour's opens by hand, so every
// failure and every timer is exactly where the test puts it.
#include "host/gossip_behaviour.hpp"

#include <gtest/gtest.h>

#include "base/seeded_rng.hpp"
#include "crypto/crypto_suite.hpp"
#include "proto/identify/test_support.hpp"
#include "proto/multistream/message.hpp"

namespace taho::host {
namespace {

using namespace std::chrono_literals;

using identify::testing::key_from_fill;

class GossipReopen : public ::testing::Test {
 protected:
  GossipReopen() : rng_(3), swarm_(swarm_options(), suite_, rng_), gossip_(key_from_fill(1), rng_, now_, options()) {}

  static swarm::SwarmOptions swarm_options() {
    swarm::SwarmOptions options;
    options.identity = key_from_fill(1);
    return options;
  }
  static GossipOptions options() {
    GossipOptions options;
    options.reopen_backoff_initial = 100ms;
    options.reopen_backoff_max = 1s;
    options.reopen_attempts_max = 6;
    return options;
  }

  void connect() {
    ASSERT_TRUE(swarm_.add_muxed_connection(now_, kConnection, swarm::Direction::outbound,
                                            *Multiaddr::parse("/ip4/10.0.0.1/udp/4001/quic-v1"),
                                            *Multiaddr::parse("/ip4/10.0.0.2/udp/4001/quic-v1"), peer_));
    ASSERT_TRUE(swarm_.is_connected(peer_));
  }
  // The peer speaks gossipsub up to v1.1 only.
  void identified() {
    identify::Info info;
    info.protocols = {"/ipfs/id/1.0.0", std::string(gossipsub::protocol_v1_1), std::string(gossipsub::protocol_v1_0)};
    gossip_.on_identified(now_, peer_, info, swarm_.is_connected(peer_));
  }
  // Runs the behaviour's timers, as the host does, until it asks for an
  // open or `until` passed.
  std::optional<GossipOpen> run_until_open(Instant until) {
    while (true) {
      if (auto open = gossip_.poll_open()) return open;
      const auto next = gossip_.next_timeout();
      if (!next || *next > until) {
        now_ = until;
        return std::nullopt;
      }
      now_ = std::max(now_, *next);
      gossip_.handle_timeout(now_, swarm_);
    }
  }

  static constexpr swarm::ConnectionId kConnection = 1;
  const PeerId peer_ = PeerId::from_ed25519(key_from_fill(2).public_key());
  crypto::OpenSslCryptoSuite suite_;
  SeededRng rng_;
  Instant now_{};
  swarm::Swarm swarm_;
  GossipBehaviour gossip_;
};

TEST_F(GossipReopen, FailedOpensBackOffDoublingUpToTheCapThenGiveUp) {
  connect();
  identified();
  auto open = gossip_.poll_open();
  ASSERT_TRUE(open);
  EXPECT_EQ(open->protocol, gossipsub::protocol_v1_1);
  const std::vector<Duration> waits{100ms, 200ms, 400ms, 800ms, 1s, 1s};
  for (std::size_t k = 0; k < waits.size(); ++k) {
    const Instant failed = now_;
    gossip_.on_open_failed(now_, swarm_, open->token);
    const auto reopen = gossip_.reopen_of(peer_);
    ASSERT_TRUE(reopen) << "failure " << k;
    EXPECT_EQ(reopen->due, failed + waits[k]);
    EXPECT_EQ(reopen->failures, k + 1);
    // The timer shows in next_timeout: the host wakes up for it, not later.
    open = run_until_open(failed + 1min);
    ASSERT_TRUE(open) << "failure " << k;
    EXPECT_EQ(now_, failed + waits[k]);
    EXPECT_EQ(open->peer, peer_);
    EXPECT_EQ(open->protocol, gossipsub::protocol_v1_1) << "the version chosen from identify";
  }
  gossip_.on_open_failed(now_, swarm_, open->token);
  EXPECT_FALSE(gossip_.reopen_of(peer_));
  EXPECT_FALSE(run_until_open(now_ + 10min)) << "given up";
  EXPECT_EQ(gossip_.stats().streams_opened, 7u);
  EXPECT_EQ(gossip_.stats().streams_reopened, 6u);
  EXPECT_EQ(gossip_.stats().reopens_given_up, 1u);

  identified();  // a new identify (a push, a new connection) starts afresh
  open = gossip_.poll_open();
  ASSERT_TRUE(open);
  gossip_.on_open_failed(now_, swarm_, open->token);
  ASSERT_TRUE(gossip_.reopen_of(peer_));
  EXPECT_EQ(gossip_.reopen_of(peer_)->failures, 1u);
}

TEST_F(GossipReopen, NothingReopensOnceThePeerDisconnected) {
  connect();
  identified();
  auto open = gossip_.poll_open();
  ASSERT_TRUE(open);
  gossip_.on_open_failed(now_, swarm_, open->token);
  const auto reopen = gossip_.reopen_of(peer_);
  ASSERT_TRUE(reopen);
  gossip_.on_disconnected(now_, peer_);
  EXPECT_FALSE(gossip_.reopen_of(peer_));
  EXPECT_FALSE(run_until_open(reopen->due + 1min));
  EXPECT_EQ(gossip_.stats().streams_reopened, 0u);
}

TEST_F(GossipReopen, AnOpenFailingAfterTheLastConnectionClosedIsNotRetried) {
  connect();
  identified();
  const auto open = gossip_.poll_open();
  ASSERT_TRUE(open);
  swarm_.close_connection(kConnection, "closed by the test");
  ASSERT_FALSE(swarm_.is_connected(peer_));
  gossip_.on_open_failed(now_, swarm_, open->token);
  EXPECT_FALSE(gossip_.reopen_of(peer_));
  EXPECT_FALSE(run_until_open(now_ + 1min));
}

TEST_F(GossipReopen, APeerThatNoLongerSpeaksGossipsubIsNotReopened) {
  connect();
  identified();
  const auto open = gossip_.poll_open();
  ASSERT_TRUE(open);
  gossip_.on_open_failed(now_, swarm_, open->token);
  ASSERT_TRUE(gossip_.reopen_of(peer_));
  identify::Info pushed;
  pushed.protocols = {"/ipfs/id/1.0.0"};
  gossip_.on_identified(now_, peer_, pushed, true);
  EXPECT_FALSE(gossip_.reopen_of(peer_));
  EXPECT_FALSE(run_until_open(now_ + 1min));
}

TEST_F(GossipReopen, AFreshIdentifyOpensAtOnceAndKeepsTheFailureCount) {
  connect();
  identified();
  auto open = gossip_.poll_open();
  ASSERT_TRUE(open);
  gossip_.on_open_failed(now_, swarm_, open->token);
  ASSERT_TRUE(gossip_.reopen_of(peer_));
  identified();
  EXPECT_FALSE(gossip_.reopen_of(peer_)) << "the scheduled reopen gave way";
  open = gossip_.poll_open();
  ASSERT_TRUE(open);
  EXPECT_FALSE(gossip_.poll_open()) << "one open at a time";
  gossip_.on_open_failed(now_, swarm_, open->token);
  ASSERT_TRUE(gossip_.reopen_of(peer_));
  EXPECT_EQ(gossip_.reopen_of(peer_)->failures, 2u);
  EXPECT_EQ(gossip_.reopen_of(peer_)->due, now_ + 200ms);
  identified();
  identified();
  ASSERT_TRUE(gossip_.poll_open());
  EXPECT_FALSE(gossip_.poll_open()) << "identify while opening asks for nothing more";
}

// The peer's inbound gossipsub streams, negotiated by the swarm as a peer
// would open them over QUIC.
class GossipInbound : public GossipReopen {
 protected:
  GossipInbound() { swarm_.register_protocol(std::string(gossipsub::protocol_v1_1)); }

  // The peer opens a gossipsub stream: its id, once the behaviour took it.
  std::optional<swarm::StreamId> peer_opens_stream() {
    const auto id = swarm_.handle_stream_opened(now_, kConnection);
    if (!id) return std::nullopt;
    Bytes proposal;
    multistream::append_message(multistream::kProtocolId, proposal);
    multistream::append_message(gossipsub::protocol_v1_1, proposal);
    swarm_.handle_stream_data(now_, kConnection, *id, proposal);
    while (auto event = swarm_.poll_event()) {
      const auto* opened = std::get_if<swarm::swarm_event::StreamOpened>(&*event);
      if (opened && opened->stream == *id) {
        gossip_.on_inbound_stream(now_, swarm_, *opened);
        return id;
      }
    }
    return std::nullopt;
  }
  // The streams reset since the last call.
  std::vector<swarm::StreamId> resets() {
    std::vector<swarm::StreamId> reset;
    while (auto output = swarm_.poll_output()) {
      if (const auto* r = std::get_if<swarm::swarm_output::StreamReset>(&*output)) reset.push_back(r->stream);
    }
    return reset;
  }
};

TEST_F(GossipInbound, ANewStreamBeyondTheLimitReplacesThePeersOldest) {
  connect();
  identified();
  const auto first = peer_opens_stream();
  const auto second = peer_opens_stream();
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(resets().empty()) << "two streams are within the limit";
  const auto third = peer_opens_stream();
  ASSERT_TRUE(third);
  EXPECT_EQ(resets(), std::vector<swarm::StreamId>{*first});
  const auto fourth = peer_opens_stream();
  ASSERT_TRUE(fourth);
  EXPECT_EQ(resets(), std::vector<swarm::StreamId>{*second});
  EXPECT_EQ(gossip_.stats().inbound_streams_replaced, 2u);
}

}  // namespace
}  // namespace taho::host
