// Two hosts joined by real QUIC (ngtcp2 + GnuTLS, libp2p TLS) through
// QuicBridge, on an in-memory wire and a virtual clock: identify, ping and a
// registered stream protocol run through the swarm over QUIC streams.
#include "node/quic_bridge.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "proto/quic/endpoint_pair.hpp"

namespace taho::node {
namespace {

using namespace std::chrono_literals;
using quic::testing::EndpointPair;

constexpr const char* kEcho = "/test/echo/1.0.0";
constexpr swarm::ConnectionId kFirstId = std::uint64_t{1} << 48;

host::HostOptions options_for(const crypto::Ed25519KeyPair& key) {
  host::HostOptions options;
  options.swarm.identity = key;
  options.swarm.agent_version = "taho/quic-test";
  options.connections.min_peers = 0;  // no dialing of its own
  return options;
}

class QuicHosts : public ::testing::Test {
 protected:
  QuicHosts() : QuicHosts(quic::Options{}) {}
  // `server_options` configure b's endpoint (what a may open, for one).
  explicit QuicHosts(const quic::Options& server_options)
      : pair(quic::Options{}, server_options),
        rng_a_(11), rng_b_(12),
        a(options_for(pair.client.key), suite_, rng_a_, pair.now),
        b(options_for(pair.server.key), suite_, rng_b_, pair.now),
        bridge_a(a, kFirstId), bridge_b(b, kFirstId) {
    a.register_protocol(kEcho);
    b.register_protocol(kEcho);
    bridge_a.add_endpoint(*pair.client.endpoint, pair.client.address.to_quic_multiaddr());
    bridge_b.add_endpoint(*pair.server.endpoint, pair.server.address.to_quic_multiaddr());
  }

  // Moves endpoint events into the bridges (and connections into the
  // hosts), host outputs onto the endpoints, and runs b's echo server.
  void pump() {
    for (bool moved = true; moved;) {
      moved = false;
      for (auto* side : {&pair.client, &pair.server}) {
        const bool is_a = side == &pair.client;
        auto& bridge = is_a ? bridge_a : bridge_b;
        auto& host = is_a ? a : b;
        while (!side->events.empty()) {
          moved = true;
          const quic::Event event = std::move(side->events.front());
          side->events.pop_front();
          auto link = bridge.handle_event(pair.now, 0, event);
          if (!link) continue;
          if (const auto* up = std::get_if<quic_link::Up>(&*link)) {
            (is_a ? a_connection : b_connection) = up->id;
            const auto direction = up->inbound ? swarm::Direction::inbound : swarm::Direction::outbound;
            if (host.add_muxed_connection(pair.now, up->id, direction, up->local, up->remote, up->peer)) {
              bridge.connection_added(pair.now, up->id);
            } else {
              bridge.close(up->id);
            }
          } else if (const auto* down = std::get_if<quic_link::Down>(&*link); down && down->id) {
            host.handle_closed(pair.now, *down->id, down->reason);
          }
        }
        if (auto due = host.next_timeout(); due && *due <= pair.now) host.handle_timeout(pair.now);
        host.process(pair.now);
        while (auto output = host.poll_output()) {
          moved = true;
          EXPECT_TRUE(bridge.handle_output(pair.now, *output)) << "every output of a QUIC-only host is the bridge's";
        }
        while (auto event = host.poll_event()) {
          moved = true;
          if (auto* swarm_event = std::get_if<swarm::SwarmEvent>(&*event)) {
            on_event(is_a, *swarm_event);
            (is_a ? a_events : b_events).push_back(std::move(*swarm_event));
          }
        }
      }
      moved |= serve_echo();
      pair.collect();
    }
  }

  void on_event(bool is_a, const swarm::SwarmEvent& event) {
    if (const auto* opened = std::get_if<swarm::swarm_event::StreamOpened>(&event); opened && !is_a) {
      echo_streams.push_back(opened->stream);
    }
  }

  bool serve_echo() {
    bool moved = false;
    for (auto stream : echo_streams) {
      for (;;) {
        auto chunk = b.swarm().read(pair.now, b_connection, stream, 64 * 1024);
        if (!chunk || (chunk->data.empty() && !chunk->finished)) break;
        moved = true;
        append(echo_backlog[stream], chunk->data);
        if (chunk->finished) echo_finished[stream] = true;
        if (chunk->finished) break;
      }
      auto& backlog = echo_backlog[stream];
      if (!backlog.empty()) {
        auto written = b.swarm().write(pair.now, b_connection, stream, backlog);
        if (written && *written > 0) {
          moved = true;
          backlog.erase(backlog.begin(), backlog.begin() + static_cast<std::ptrdiff_t>(*written));
        }
      }
      if (backlog.empty() && echo_finished[stream] && !echo_closed[stream]) {
        echo_closed[stream] = true;
        (void)b.swarm().close_write(pair.now, b_connection, stream);
        moved = true;
      }
    }
    b.process(pair.now);
    return moved;
  }

  bool run_until(const std::function<bool()>& done, Duration limit = 10s) {
    const Instant deadline = pair.now + limit;
    while (pair.now < deadline) {
      if (pair.run_until(
              [&] {
                pump();
                return done();
              },
              1ms)) {
        return true;
      }
    }
    return false;
  }

  void connect() {
    ASSERT_TRUE(pair.client.endpoint->connect(pair.now, pair.server.address, pair.server.id()));
    ASSERT_TRUE(run_until([&] { return a.swarm().is_connected(b.local_peer()) && b.swarm().is_connected(a.local_peer()); }));
  }

  template <class E>
  static std::vector<E> find(const std::vector<swarm::SwarmEvent>& events) {
    std::vector<E> found;
    for (const auto& event : events) {
      if (const auto* match = std::get_if<E>(&event)) found.push_back(*match);
    }
    return found;
  }

  crypto::OpenSslCryptoSuite suite_;
  EndpointPair pair;
  SeededRng rng_a_;
  SeededRng rng_b_;
  host::Host a;
  host::Host b;
  QuicBridge bridge_a;
  QuicBridge bridge_b;
  swarm::ConnectionId a_connection = 0;
  swarm::ConnectionId b_connection = 0;
  std::vector<swarm::SwarmEvent> a_events;
  std::vector<swarm::SwarmEvent> b_events;
  std::vector<swarm::StreamId> echo_streams;
  std::map<swarm::StreamId, Bytes> echo_backlog;
  std::map<swarm::StreamId, bool> echo_finished;
  std::map<swarm::StreamId, bool> echo_closed;
};

TEST_F(QuicHosts, ConnectIdentifiesBothWaysOverQuicStreams) {
  connect();
  ASSERT_TRUE(run_until([&] {
    return !find<swarm::swarm_event::Identified>(a_events).empty() &&
           !find<swarm::swarm_event::Identified>(b_events).empty();
  }));
  auto identified = find<swarm::swarm_event::Identified>(a_events);
  EXPECT_EQ(identified[0].peer, b.local_peer());
  EXPECT_EQ(identified[0].info.agent_version, "taho/quic-test");
  const auto* info = a.swarm().peerstore().find(b.local_peer());
  ASSERT_NE(info, nullptr);
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), kEcho), info->protocols.end());
  auto connected = find<swarm::swarm_event::PeerConnected>(a_events);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0].remote_addr.to_string(), "/ip4/10.0.0.2/udp/2000/quic-v1");
  EXPECT_EQ(host::transport_of(connected[0].remote_addr), host::Transport::quic);
  EXPECT_TRUE(a.swarm().connections().at(0).transport_muxed);
}

TEST_F(QuicHosts, PingMeasuresTheWireRoundTrip) {
  connect();
  const auto request = a.ping_connection(pair.now, a_connection);
  ASSERT_TRUE(run_until([&] {
    for (const auto& result : find<swarm::swarm_event::PingResult>(a_events)) {
      if (result.request == request) return true;
    }
    return false;
  }));
  for (const auto& result : find<swarm::swarm_event::PingResult>(a_events)) {
    if (result.request != request) continue;
    ASSERT_TRUE(result.rtt) << result.error;
    // Two one-way latencies of 500 us on the wire, whatever else happens.
    EXPECT_GE(*result.rtt, 1ms);
    EXPECT_LT(*result.rtt, 100ms);
  }
}

TEST_F(QuicHosts, RegisteredProtocolEchoesFourMegabytes) {
  connect();
  a.open_stream(pair.now, b.local_peer(), kEcho);
  ASSERT_TRUE(run_until([&] { return !find<swarm::swarm_event::StreamOpened>(a_events).empty(); }));
  const auto stream = find<swarm::swarm_event::StreamOpened>(a_events)[0].stream;
  EXPECT_EQ(find<swarm::swarm_event::StreamOpened>(a_events)[0].protocol, kEcho);

  Bytes payload(4 * 1024 * 1024);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 131 + i / 977);
  std::size_t sent = 0;
  bool closed = false;
  bool finished = false;
  Bytes echoed;
  ASSERT_TRUE(run_until(
      [&] {
        while (sent < payload.size()) {
          auto written = a.swarm().write(pair.now, a_connection, stream, ByteView(payload).subspan(sent));
          if (!written || *written == 0) break;
          sent += *written;
        }
        if (sent == payload.size() && !closed) {
          closed = true;
          (void)a.swarm().close_write(pair.now, a_connection, stream);
        }
        for (;;) {
          auto chunk = a.swarm().read(pair.now, a_connection, stream, 256 * 1024);
          if (!chunk) break;
          append(echoed, chunk->data);
          if (chunk->finished) finished = true;
          if (chunk->data.empty() || chunk->finished) break;
        }
        a.process(pair.now);
        return finished;
      },
      60s));
  EXPECT_EQ(echoed.size(), payload.size());
  EXPECT_TRUE(echoed == payload);
}

TEST_F(QuicHosts, ClosingTheQuicConnectionDisconnectsTheOtherHost) {
  connect();
  a.disconnect(pair.now, b.local_peer());  // the swarm's Close output reaches the bridge
  ASSERT_TRUE(run_until([&] { return !b.swarm().is_connected(a.local_peer()); }));
  EXPECT_FALSE(a.swarm().is_connected(b.local_peer()));
  EXPECT_EQ(find<swarm::swarm_event::PeerDisconnected>(b_events).size(), 1u);
  EXPECT_EQ(bridge_a.connection_count(), 0u);
  EXPECT_EQ(bridge_b.connection_count(), 0u);
}

// b's endpoint lets a open only two streams at a time (MAX_STREAMS 2).
class QuicHostsWithFewStreams : public QuicHosts {
 protected:
  static quic::Options two_streams() {
    quic::Options options;
    options.streams_per_connection_max = 2;
    return options;
  }
  QuicHostsWithFewStreams() : QuicHosts(two_streams()) {}

  // Opens `count` echo streams from a at once; each sends its own bytes and
  // closes its write side. True once every one came back whole.
  bool echo_many(std::size_t count, Duration limit) {
    for (std::size_t i = 0; i < count; ++i) a.open_stream(pair.now, b.local_peer(), kEcho);
    std::map<swarm::StreamId, std::size_t> index_of;
    std::map<swarm::StreamId, Bytes> echoed;
    std::set<swarm::StreamId> finished;
    return run_until(
        [&] {
          for (const auto& opened : find<swarm::swarm_event::StreamOpened>(a_events)) {
            if (!index_of.emplace(opened.stream, index_of.size()).second) continue;
            const Bytes payload = payload_of(index_of[opened.stream]);
            EXPECT_EQ(a.swarm().write(pair.now, a_connection, opened.stream, payload).value_or(0), payload.size());
            (void)a.swarm().close_write(pair.now, a_connection, opened.stream);
          }
          for (const auto& [stream, index] : index_of) {
            auto chunk = a.swarm().read(pair.now, a_connection, stream, 64 * 1024);
            if (!chunk) continue;
            append(echoed[stream], chunk->data);
            if (chunk->finished && finished.insert(stream).second) EXPECT_EQ(echoed[stream], payload_of(index));
          }
          a.process(pair.now);
          return finished.size() == count;
        },
        limit);
  }
  static Bytes payload_of(std::size_t index) {
    Bytes payload(1000 + index);
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(index * 7 + i);
    return payload;
  }
};

TEST_F(QuicHostsWithFewStreams, OpensBeyondThePeersStreamLimitWaitForCredit) {
  connect();
  // Let identify's streams finish so a's credit is the whole two.
  ASSERT_TRUE(run_until([&] { return !find<swarm::swarm_event::Identified>(a_events).empty(); }));
  pair.run_until([&] { pump(); return false; }, 50ms);
  constexpr std::size_t kStreams = 9;
  ASSERT_TRUE(echo_many(kStreams, 20s));
  EXPECT_EQ(find<swarm::swarm_event::StreamOpened>(a_events).size(), kStreams);
  EXPECT_TRUE(find<swarm::swarm_event::StreamOpenFailed>(a_events).empty());
  EXPECT_TRUE(a.swarm().is_connected(b.local_peer()));
}


// An open that waits for credit which never comes fails at the swarm's
// stream negotiation timeout: the connection stays up, and once the streams
// holding the credit end, opens go through again.
TEST_F(QuicHostsWithFewStreams, AnOpenWaitingInVainTimesOutAndLeavesTheQueue) {
  using swarm::swarm_event::StreamOpened;
  using swarm::swarm_event::StreamOpenFailed;
  connect();
  ASSERT_TRUE(run_until([&] { return !find<swarm::swarm_event::Identified>(a_events).empty(); }));
  pair.run_until([&] { pump(); return false; }, 50ms);
  const auto echo_opens = [&] {
    std::vector<StreamOpened> found;
    for (const auto& opened : find<StreamOpened>(a_events)) {
      if (opened.protocol == kEcho) found.push_back(opened);
    }
    return found;
  };
  const auto echo_failures = [&] {
    std::size_t count = 0;
    for (const auto& failed : find<StreamOpenFailed>(a_events)) count += failed.protocol == kEcho ? 1 : 0;
    return count;
  };

  // Three streams held open: b lets a have two at once at most, and other
  // protocols hold some of that too, so at least one open has to wait, and
  // no credit comes back while they are held.
  for (int i = 0; i < 3; ++i) a.open_stream(pair.now, b.local_peer(), kEcho);
  ASSERT_TRUE(run_until([&] { return echo_opens().size() + echo_failures() == 3; }, 30s));
  EXPECT_GE(echo_failures(), 1u);
  for (const auto& failed : find<StreamOpenFailed>(a_events)) {
    EXPECT_NE(failed.error.find("timed out"), std::string::npos) << failed.error;
  }
  EXPECT_TRUE(a.swarm().is_connected(b.local_peer()));

  // The held streams end; the credit they return serves new opens.
  for (const auto& held : echo_opens()) (void)a.swarm().close_write(pair.now, a_connection, held.stream);
  std::set<swarm::StreamId> ended;
  const std::size_t held_count = echo_opens().size();
  ASSERT_TRUE(run_until([&] {
    for (const auto& held : echo_opens()) {
      auto chunk = a.swarm().read(pair.now, a_connection, held.stream, 64 * 1024);
      if (chunk && chunk->finished) ended.insert(held.stream);
    }
    a.process(pair.now);
    return ended.size() == held_count;
  }));
  a_events.clear();
  ASSERT_TRUE(echo_many(2, 10s));
  EXPECT_EQ(echo_failures(), 0u);
}

}  // namespace
}  // namespace taho::node
