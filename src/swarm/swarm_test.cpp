#include "swarm/swarm.hpp"

#include <gtest/gtest.h>

#include "base/seeded_rng.hpp"

namespace taho::swarm {
namespace {

using namespace std::chrono_literals;

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

SwarmOptions options_for(std::uint8_t fill) {
  SwarmOptions options;
  options.identity = key_from(fill);
  options.agent_version = "taho/test";
  return options;
}

// Two swarms whose connections are joined in memory by the test, on a
// virtual clock, so identify and ping run end to end without sockets.
class TwoSwarms : public ::testing::Test {
 protected:
  TwoSwarms() : rng_(3), a(options_for(1), suite_, rng_), b(options_for(2), suite_, rng_) {}

  void connect(ConnectionId id = 1) {
    auto a_addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/1000");
    auto b_addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/2000");
    ASSERT_TRUE(a.add_connection(now, id, Direction::outbound, a_addr, b_addr, b.local_peer()));
    ASSERT_TRUE(b.add_connection(now, id, Direction::inbound, b_addr, a_addr, std::nullopt));
    run();
  }

  void run() {
    for (int round = 0; round < 1000; ++round) {
      bool moved = false;
      moved |= deliver(a, b);
      moved |= deliver(b, a);
      if (!moved) return;
    }
    FAIL() << "swarms did not settle";
  }

  template <class E>
  std::vector<E> events(Swarm& swarm) {
    std::vector<E> found;
    while (auto e = swarm.poll_event()) {
      if (auto* match = std::get_if<E>(&*e)) found.push_back(*match);
    }
    return found;
  }

  static void drain(Swarm& swarm) {
    while (swarm.poll_event()) {
    }
  }

  Instant now{};
  crypto::OpenSslCryptoSuite suite_;
  SeededRng rng_;
  Swarm a;
  Swarm b;
  std::vector<ConnectionId> closed_by_a;

  bool deliver(Swarm& from, Swarm& to) {
    bool moved = false;
    while (auto out = from.poll_output()) {
      moved = true;
      if (auto* transmit = std::get_if<swarm_output::Transmit>(&*out)) {
        to.handle_input(now, transmit->connection, transmit->bytes);
      } else if (auto* close = std::get_if<swarm_output::Close>(&*out)) {
        if (&from == &a) closed_by_a.push_back(close->connection);
        to.handle_closed(now, close->connection, "closed by the other side");
      }
    }
    return moved;
  }
};

TEST_F(TwoSwarms, ConnectIdentifiesBothWays) {
  connect();
  ASSERT_TRUE(a.is_connected(b.local_peer()));
  ASSERT_TRUE(b.is_connected(a.local_peer()));
  auto identified_by_a = events<swarm_event::Identified>(a);
  ASSERT_EQ(identified_by_a.size(), 1u);
  EXPECT_EQ(identified_by_a[0].peer, b.local_peer());
  EXPECT_EQ(identified_by_a[0].info.agent_version, "taho/test");
  const auto* info = a.peerstore().find(b.local_peer());
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->agent_version, "taho/test");
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), "/ipfs/ping/1.0.0"), info->protocols.end());
  EXPECT_EQ(events<swarm_event::Identified>(b).size(), 1u);
}

TEST_F(TwoSwarms, PingMeasuresRttFromTheInjectedClock) {
  connect();
  drain(a);
  a.ping(now, b.local_peer(), 77);
  // Every flight takes 10 ms: the ping payload goes out when the stream is
  // negotiated and its echo is back two flights later.
  for (int flight = 0; flight < 20; ++flight) {
    now = now + 10ms;
    if (!deliver(flight % 2 == 0 ? a : b, flight % 2 == 0 ? b : a) && flight > 4) break;
  }
  auto results = events<swarm_event::PingResult>(a);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].request, 77u);
  ASSERT_TRUE(results[0].rtt) << results[0].error;
  EXPECT_EQ(*results[0].rtt, 20ms);
}

// A reader that reserves its receive window lets the writer send that much
// before anything is read; without it Yamux's 256 KiB initial window holds.
TEST_F(TwoSwarms, ReservedReceiveWindowLetsThePeerSendAheadOfReads) {
  a.register_protocol("/test/bulk/1");
  b.register_protocol("/test/bulk/1");
  connect();
  drain(b);
  a.open_stream(now, b.local_peer(), "/test/bulk/1", 5);
  run();
  const auto mine = events<swarm_event::StreamOpened>(a);
  const auto theirs = events<swarm_event::StreamOpened>(b);
  ASSERT_EQ(mine.size(), 1u);
  ASSERT_EQ(theirs.size(), 1u);

  // Sends until the window stops it (the deliveries in between are never read by a).
  const auto send_all = [&](std::size_t total) {
    const Bytes chunk(64 * 1024, 9);
    std::size_t sent = 0;
    while (sent < total) {
      auto written = b.write(now, theirs[0].connection, theirs[0].stream, chunk);
      if (!written || *written == 0) break;
      sent += *written;
      run();
    }
    return sent;
  };
  // (The window also carried the few bytes of the protocol negotiation.)
  constexpr std::size_t negotiation_bytes_max = 64;
  const std::size_t unreserved = send_all(2 * 1024 * 1024);
  EXPECT_LE(unreserved, 256u * 1024) << "Yamux's initial window";
  EXPECT_GE(unreserved, 256u * 1024 - negotiation_bytes_max);

  a.reserve_receive_window(now, mine[0].connection, mine[0].stream, 1024 * 1024);
  run();
  const std::size_t total = unreserved + send_all(2 * 1024 * 1024);
  EXPECT_LE(total, 1024u * 1024) << "the reservation, and still nothing read";
  EXPECT_GE(total, 1024u * 1024 - negotiation_bytes_max);
}

// Lazy negotiation: the stream is usable before the peer has said a word,
// the first bytes travel with the proposal, and the echo is consumed before
// the answer reaches the reader.
TEST_F(TwoSwarms, LazyStreamIsReadyAtOnceAndItsFirstBytesTravelWithTheProposal) {
  a.register_protocol("/test/echo/1");
  b.register_protocol("/test/echo/1");
  connect();
  drain(a);
  drain(b);
  a.open_stream(now, b.local_peer(), "/test/echo/1", 6, Negotiation::lazy);
  const auto mine = events<swarm_event::StreamOpened>(a);
  ASSERT_EQ(mine.size(), 1u) << "ready before any byte came back";
  EXPECT_EQ(mine[0].request, 6u);
  ASSERT_EQ(*a.write(now, mine[0].connection, mine[0].stream, as_bytes(std::string_view("hello"))), 5u);

  // One flight a -> b carries the proposal and the request.
  ASSERT_TRUE(deliver(a, b));
  const auto theirs = events<swarm_event::StreamOpened>(b);
  ASSERT_EQ(theirs.size(), 1u);
  auto request = b.read(now, theirs[0].connection, theirs[0].stream, 64);
  ASSERT_TRUE(request);
  EXPECT_EQ(std::string(as_text(request->data)), "hello");
  ASSERT_EQ(*b.write(now, theirs[0].connection, theirs[0].stream, as_bytes(std::string_view("world"))), 5u);
  run();

  std::string answer;
  for (int i = 0; i < 4 && answer.size() < 5; ++i) {
    auto chunk = a.read(now, mine[0].connection, mine[0].stream, 64);
    ASSERT_TRUE(chunk) << chunk.error().text;
    answer += as_text(chunk->data);
  }
  EXPECT_EQ(answer, "world") << "the protocol echo is not part of the data";
}

TEST_F(TwoSwarms, LazyStreamToAProtocolThePeerLacksFailsOnRead) {
  a.register_protocol("/test/echo/1");
  connect();
  drain(a);
  a.open_stream(now, b.local_peer(), "/test/echo/1", 7, Negotiation::lazy);
  const auto mine = events<swarm_event::StreamOpened>(a);
  ASSERT_EQ(mine.size(), 1u);
  (void)a.write(now, mine[0].connection, mine[0].stream, as_bytes(std::string_view("hello")));
  run();
  EXPECT_TRUE(events<swarm_event::StreamOpened>(b).empty());
  auto chunk = a.read(now, mine[0].connection, mine[0].stream, 64);
  ASSERT_FALSE(chunk) << "the refusal surfaces on the first read";
  EXPECT_FALSE(a.read(now, mine[0].connection, mine[0].stream, 64)) << "and the stream is gone";
}

TEST_F(TwoSwarms, PingToAnUnknownPeerFailsAtOnce) {
  a.ping(now, PeerId::from_ed25519(key_from(9).public_key()), 5);
  auto results = events<swarm_event::PingResult>(a);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_FALSE(results[0].rtt);
  EXPECT_NE(results[0].error.find("not connected"), std::string::npos);
}

TEST_F(TwoSwarms, DisconnectTellsBothSides) {
  connect();
  drain(a);
  drain(b);
  a.disconnect(b.local_peer());
  run();
  EXPECT_EQ(events<swarm_event::PeerDisconnected>(a).size(), 1u);
  EXPECT_EQ(events<swarm_event::PeerDisconnected>(b).size(), 1u);
  EXPECT_FALSE(a.is_connected(b.local_peer()));
  EXPECT_FALSE(b.is_connected(a.local_peer()));
}

// A connection we close (a duplicate, a trim) or that the transport loses
// takes its streams along: whoever opened or reads one hears of it.
TEST_F(TwoSwarms, ClosingAConnectionEndsItsStreamsAndFailsItsOpens) {
  a.register_protocol("/test/echo/1");
  b.register_protocol("/test/echo/1");
  connect();
  drain(a);
  drain(b);
  a.open_stream(now, b.local_peer(), "/test/echo/1", 8);
  run();
  const auto open = events<swarm_event::StreamOpened>(a);
  ASSERT_EQ(open.size(), 1u);
  a.open_stream(now, b.local_peer(), "/test/echo/1", 9);  // not negotiated yet
  a.close_connection(open[0].connection, "test");

  std::vector<swarm_event::StreamClosed> closed;
  std::vector<swarm_event::StreamOpenFailed> failed;
  bool disconnected_last = false;
  while (auto e = a.poll_event()) {
    disconnected_last = std::holds_alternative<swarm_event::PeerDisconnected>(*e);
    if (auto* c = std::get_if<swarm_event::StreamClosed>(&*e)) closed.push_back(*c);
    if (auto* f = std::get_if<swarm_event::StreamOpenFailed>(&*e)) failed.push_back(*f);
  }
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].stream, open[0].stream);
  EXPECT_TRUE(closed[0].reset);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].request, 9u);
  EXPECT_EQ(failed[0].protocol, "/test/echo/1");
  EXPECT_TRUE(disconnected_last) << "streams first, then the disconnect";
  EXPECT_FALSE(a.read(now, open[0].connection, open[0].stream, 64)) << "the stream is gone";

  // The peer's side of each stream it saw (the second one's proposal left
  // before the close) ends when the close reaches it.
  run();
  std::size_t opened_by_b = 0, closed_by_b = 0;
  while (auto e = b.poll_event()) {
    opened_by_b += std::holds_alternative<swarm_event::StreamOpened>(*e);
    closed_by_b += std::holds_alternative<swarm_event::StreamClosed>(*e);
  }
  EXPECT_EQ(closed_by_b, opened_by_b);
}

TEST_F(TwoSwarms, PendingUpgradeLimitRefusesExtraConnections) {
  SwarmOptions tight = options_for(4);
  tight.pending_upgrades_max = 2;
  Swarm small(tight, suite_, rng_);
  auto addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/1");
  EXPECT_TRUE(small.add_connection(now, 1, Direction::inbound, addr, addr, std::nullopt));
  EXPECT_TRUE(small.add_connection(now, 2, Direction::inbound, addr, addr, std::nullopt));
  EXPECT_FALSE(small.add_connection(now, 3, Direction::inbound, addr, addr, std::nullopt));
  EXPECT_EQ(small.refused_connections(), 1u);
}

TEST_F(TwoSwarms, StalledHandshakeIsDroppedAfterTheUpgradeTimeout) {
  auto addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/1");
  ASSERT_TRUE(b.add_connection(now, 9, Direction::inbound, addr, addr, std::nullopt));
  auto deadline = b.next_timeout();
  ASSERT_TRUE(deadline);
  b.handle_timeout(*deadline);
  auto failed = events<swarm_event::ConnectionFailed>(b);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].reason.find("upgrade_timeout"), std::string::npos);
  bool closed = false;
  while (auto out = b.poll_output()) closed |= std::holds_alternative<swarm_output::Close>(*out);
  EXPECT_TRUE(closed);
}

// next_timeout() is kept per connection as connections change, not found by
// asking each one: it must still be the earliest deadline of them all, and
// handle_timeout() must serve exactly the connections that are due.
TEST_F(TwoSwarms, NextTimeoutIsTheEarliestConnectionDeadlineAsConnectionsComeAndGo) {
  auto addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/1");
  EXPECT_FALSE(b.next_timeout());
  const Instant t0 = now;
  ASSERT_TRUE(b.add_connection(t0, 11, Direction::inbound, addr, addr, std::nullopt));
  ASSERT_TRUE(b.add_connection(t0 + 1s, 12, Direction::inbound, addr, addr, std::nullopt));
  ASSERT_TRUE(b.add_connection(t0 + 2s, 13, Direction::inbound, addr, addr, std::nullopt));
  ASSERT_EQ(b.next_timeout(), t0 + 10s);  // the first connection's upgrade deadline

  // Not due yet: nothing happens.
  b.handle_timeout(t0 + 9s);
  EXPECT_TRUE(events<swarm_event::ConnectionFailed>(b).empty());
  EXPECT_EQ(b.next_timeout(), t0 + 10s);

  // Each deadline in turn drops exactly its own connection.
  b.handle_timeout(t0 + 10s);
  auto failed = events<swarm_event::ConnectionFailed>(b);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].connection, 11u);
  EXPECT_EQ(b.next_timeout(), t0 + 11s);
  b.handle_timeout(t0 + 12s);
  failed = events<swarm_event::ConnectionFailed>(b);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(b.connection_count(), 0u);
  EXPECT_FALSE(b.next_timeout());
}

TEST_F(TwoSwarms, NextTimeoutFollowsAnEstablishedConnectionUntilItCloses) {
  connect();
  drain(a);
  const auto deadline = a.next_timeout();
  ASSERT_TRUE(deadline);  // Yamux keep-alive or identify's response deadline
  EXPECT_GT(*deadline, now);
  EXPECT_TRUE(a.is_connected(b.local_peer()));
  EXPECT_FALSE(a.is_connected(a.local_peer()));
  // A closed connection leaves no deadline (and no peer entry) behind.
  a.disconnect(b.local_peer());
  run();
  EXPECT_EQ(a.connection_count(), 0u);
  EXPECT_FALSE(a.next_timeout());
  EXPECT_FALSE(a.is_connected(b.local_peer()));
  EXPECT_FALSE(b.is_connected(a.local_peer()));
  // Connecting again is seen again.
  connect(2);
  EXPECT_TRUE(a.is_connected(b.local_peer()));
  EXPECT_TRUE(a.next_timeout());
}

}  // namespace
}  // namespace taho::swarm
