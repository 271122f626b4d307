// Connections a transport secured and multiplexes (QUIC), through the swarm:
// a test relay stands in for the transport, carrying each swarm's stream
// outputs to the other swarm's handle_stream_* inputs, so identify, ping
// and the protocol router run end to end over "transport streams".
#include <gtest/gtest.h>

#include <map>

#include "base/seeded_rng.hpp"
#include "swarm/swarm.hpp"

namespace taho::swarm {
namespace {

using namespace std::chrono_literals;

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

SwarmOptions options_for(std::uint8_t fill, std::size_t stream_bytes_max = 1024 * 1024) {
  SwarmOptions options;
  options.identity = key_from(fill);
  options.agent_version = "taho/test";
  options.connection.muxed_streams.stream_receive_bytes_max = stream_bytes_max;
  options.connection.muxed_streams.stream_send_bytes_max = stream_bytes_max;
  return options;
}

constexpr ConnectionId kConnection = 7;
constexpr const char* kProtocol = "/test/blob/1.0.0";

// The transport: per direction, a map from the opener's stream id to the
// other side's. Like QUIC, a stream exists for the peer once data or the
// end flows on it; the relay announces it with handle_stream_opened then.
class MuxedSwarms : public ::testing::Test {
 protected:
  MuxedSwarms(std::size_t stream_bytes_max = 1024 * 1024)
      : rng_(5), a(options_for(1, stream_bytes_max), suite_, rng_), b(options_for(2, stream_bytes_max), suite_, rng_) {
    a.register_protocol(kProtocol);
    b.register_protocol(kProtocol);
  }

  void connect() {
    const auto a_addr = *Multiaddr::parse("/ip4/10.0.0.1/udp/1000/quic-v1");
    const auto b_addr = *Multiaddr::parse("/ip4/10.0.0.2/udp/2000/quic-v1");
    ASSERT_TRUE(a.add_muxed_connection(now, kConnection, Direction::outbound, a_addr, b_addr, b.local_peer()));
    ASSERT_TRUE(b.add_muxed_connection(now, kConnection, Direction::inbound, b_addr, a_addr, a.local_peer()));
    run();
  }

  struct Side {
    Swarm* self;
    Swarm* other;
    std::map<StreamId, StreamId> to_other;    // our stream id -> the peer's id for it
    std::map<StreamId, StreamId> from_other;  // the peer's id -> ours
    std::map<StreamId, Bytes> backlog;        // bytes the peer had no room for yet
    std::map<StreamId, bool> end_pending;
  };

  // The other side's id for our stream `id`, announcing it on first use.
  std::optional<StreamId> peer_stream(Side& from, Side& to, StreamId id) {
    if (auto found = from.to_other.find(id); found != from.to_other.end()) return found->second;
    if (auto found = from.from_other.find(id); found != from.from_other.end()) {
      from.to_other[id] = found->second;  // a stream the peer opened: back to it
      return found->second;
    }
    auto opened = to.self->handle_stream_opened(now, kConnection);
    if (!opened) return std::nullopt;
    from.to_other[id] = *opened;
    to.from_other[*opened] = id;
    return *opened;
  }

  // Hands `to` what it has room for; the rest waits for StreamResumeReading.
  void feed(Side& from, Side& to, StreamId id) {
    auto remote = from.to_other.find(id);
    if (remote == from.to_other.end()) return;
    Bytes& pending = from.backlog[id];
    const std::size_t room = to.self->stream_receive_room(kConnection, remote->second);
    const std::size_t take = std::min(room, pending.size());
    if (take > 0) {
      Bytes chunk(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
      pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(take));
      to.self->handle_stream_data(now, kConnection, remote->second, chunk);
    }
    if (pending.empty() && from.end_pending[id]) {
      from.end_pending[id] = false;
      to.self->handle_stream_end(now, kConnection, remote->second);
    }
  }

  bool deliver(Side& from, Side& to) {
    bool moved = false;
    while (auto out = from.self->poll_output()) {
      moved = true;
      if (auto* write = std::get_if<swarm_output::StreamWrite>(&*out)) {
        if (!peer_stream(from, to, write->stream)) continue;
        append(from.backlog[write->stream], write->bytes);
        from.self->handle_stream_sent(now, kConnection, write->stream, write->bytes.size());
        feed(from, to, write->stream);
        written_bytes += write->bytes.size();
      } else if (auto* close = std::get_if<swarm_output::StreamCloseWrite>(&*out)) {
        if (!peer_stream(from, to, close->stream)) continue;
        from.end_pending[close->stream] = true;
        feed(from, to, close->stream);
      } else if (auto* reset = std::get_if<swarm_output::StreamReset>(&*out)) {
        if (auto remote = from.to_other.find(reset->stream); remote != from.to_other.end()) {
          to.self->handle_stream_reset(now, kConnection, remote->second);
        }
        ++resets;
      } else if (auto* resume = std::get_if<swarm_output::StreamResumeReading>(&*out)) {
        // `from` read and has room again: move what `to` sent it on that stream.
        if (auto origin = from.to_other.find(resume->stream); origin != from.to_other.end()) {
          feed(to, from, origin->second);
        } else if (auto opened = from.from_other.find(resume->stream); opened != from.from_other.end()) {
          feed(to, from, opened->second);
        }
        ++resumes;
      } else if (std::holds_alternative<swarm_output::Close>(*out)) {
        to.self->handle_closed(now, kConnection, "closed by the other side");
      }
      // OpenStream needs nothing: the stream appears with its first bytes.
    }
    return moved;
  }

  void run() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = deliver(side_a, side_b);
      moved |= deliver(side_b, side_a);
      moved |= app_step();
      if (!moved) return;
    }
    FAIL() << "swarms did not settle";
  }

  // The application side of kProtocol: b echoes what it reads; a collects.
  virtual bool app_step() {
    bool moved = false;
    while (auto event = b.poll_event()) {
      moved = true;
      if (auto* opened = std::get_if<swarm_event::StreamOpened>(&*event)) b_streams.push_back(opened->stream);
      b_events.push_back(std::move(*event));
    }
    for (StreamId stream : b_streams) {
      auto chunk = b.read(now, kConnection, stream, 1 << 20);
      if (!chunk) continue;
      if (!chunk->data.empty()) {
        moved = true;
        auto written = b.write(now, kConnection, stream, chunk->data);
        EXPECT_TRUE(written && *written == chunk->data.size());
      }
      if (chunk->finished) {
        moved = true;
        (void)b.close_write(now, kConnection, stream);
      }
    }
    return moved;
  }

  template <class E>
  std::vector<E> take(const std::vector<SwarmEvent>& from) {
    std::vector<E> found;
    for (const auto& event : from) {
      if (const auto* match = std::get_if<E>(&event)) found.push_back(*match);
    }
    return found;
  }

  std::vector<SwarmEvent> drain_a() {
    std::vector<SwarmEvent> all;
    while (auto event = a.poll_event()) all.push_back(std::move(*event));
    return all;
  }

  Instant now{};
  crypto::OpenSslCryptoSuite suite_;
  SeededRng rng_;
  Swarm a;
  Swarm b;
  Side side_a{&a, &b, {}, {}, {}, {}};
  Side side_b{&b, &a, {}, {}, {}, {}};
  std::vector<StreamId> b_streams;
  std::vector<SwarmEvent> b_events;
  std::size_t written_bytes = 0;
  std::size_t resets = 0;
  std::size_t resumes = 0;
};

TEST_F(MuxedSwarms, EstablishedAtOnceAndIdentifiedBothWays) {
  connect();
  ASSERT_TRUE(a.is_connected(b.local_peer()));
  ASSERT_TRUE(b.is_connected(a.local_peer()));
  auto a_events = drain_a();
  auto connected = take<swarm_event::PeerConnected>(a_events);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0].remote_addr.to_string(), "/ip4/10.0.0.2/udp/2000/quic-v1");
  auto identified = take<swarm_event::Identified>(a_events);
  ASSERT_EQ(identified.size(), 1u);
  EXPECT_EQ(identified[0].info.agent_version, "taho/test");
  EXPECT_EQ(take<swarm_event::Identified>(b_events).size(), 1u);
  const auto* info = a.peerstore().find(b.local_peer());
  ASSERT_NE(info, nullptr);
  EXPECT_NE(std::find(info->protocols.begin(), info->protocols.end(), kProtocol), info->protocols.end());
  // The summary says the transport multiplexes it.
  auto summaries = a.connections();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_TRUE(summaries[0].transport_muxed);
  EXPECT_TRUE(summaries[0].established);
}

TEST_F(MuxedSwarms, PingRoundTripsOverTheConnection) {
  connect();
  drain_a();
  a.ping_connection(now, kConnection, 41);
  run();
  auto results = take<swarm_event::PingResult>(drain_a());
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].request, 41u);
  EXPECT_TRUE(results[0].rtt.has_value()) << results[0].error;
  EXPECT_EQ(results[0].connection, std::optional<ConnectionId>(kConnection));
}

TEST_F(MuxedSwarms, AppProtocolStreamEchoesMoreThanTheBuffers) {
  connect();
  drain_a();
  a.open_stream(now, b.local_peer(), kProtocol, 9);
  run();
  auto a_events = drain_a();
  auto opened = take<swarm_event::StreamOpened>(a_events);
  ASSERT_EQ(opened.size(), 1u);
  EXPECT_EQ(opened[0].request, 9u);
  EXPECT_EQ(opened[0].protocol, kProtocol);
  const StreamId stream = opened[0].stream;

  // 3 MiB through 1 MiB buffers: writes are cut short (credit), reads resume.
  Bytes payload(3 * 1024 * 1024);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<std::uint8_t>(i * 31 + 7);
  std::size_t offset = 0;
  Bytes echoed;
  bool closed = false;
  bool finished = false;
  for (int round = 0; round < 100000 && !finished; ++round) {
    if (offset < payload.size()) {
      auto written = a.write(now, kConnection, stream, ByteView(payload).subspan(offset));
      ASSERT_TRUE(written);
      offset += *written;
    } else if (!closed) {
      ASSERT_TRUE(a.close_write(now, kConnection, stream));
      closed = true;
    }
    run();
    drain_a();
    for (;;) {
      auto chunk = a.read(now, kConnection, stream, 256 * 1024);
      if (!chunk) break;
      append(echoed, chunk->data);
      if (chunk->finished) finished = true;
      if (chunk->data.empty() || chunk->finished) break;
    }
  }
  ASSERT_TRUE(finished);
  EXPECT_EQ(echoed, payload);
  EXPECT_GT(resumes, 0u);  // the bounded buffers filled and drained
}

TEST_F(MuxedSwarms, UnregisteredProtocolIsRefusedAndOpenFails) {
  connect();
  drain_a();
  a.open_stream(now, b.local_peer(), "/nobody/1.0.0", 3);
  run();
  auto failed = take<swarm_event::StreamOpenFailed>(drain_a());
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].request, 3u);
}

TEST_F(MuxedSwarms, ClosingTheTransportDisconnectsAndFailsPings) {
  connect();
  drain_a();
  a.ping(now, b.local_peer(), 5);  // in flight when the connection goes
  a.handle_closed(now, kConnection, "idle timeout");
  auto a_events = drain_a();
  auto disconnected = take<swarm_event::PeerDisconnected>(a_events);
  ASSERT_EQ(disconnected.size(), 1u);
  EXPECT_EQ(disconnected[0].reason, "idle timeout");
  auto pings = take<swarm_event::PingResult>(a_events);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_FALSE(pings[0].rtt.has_value());
  EXPECT_FALSE(a.is_connected(b.local_peer()));
  // Inputs for the forgotten connection are ignored.
  EXPECT_FALSE(a.handle_stream_opened(now, kConnection).has_value());
  EXPECT_EQ(a.stream_receive_room(kConnection, 1), 0u);
}

TEST_F(MuxedSwarms, ResetByThePeerEndsTheAppStream) {
  connect();
  drain_a();
  a.open_stream(now, b.local_peer(), kProtocol, 1);
  run();
  auto opened = take<swarm_event::StreamOpened>(drain_a());
  ASSERT_EQ(opened.size(), 1u);
  ASSERT_EQ(b_streams.size(), 1u);
  b.reset(now, kConnection, b_streams[0]);
  b_streams.clear();
  run();
  auto closed = take<swarm_event::StreamClosed>(drain_a());
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_TRUE(closed[0].reset);
  EXPECT_FALSE(a.write(now, kConnection, opened[0].stream, Bytes{1, 2, 3}));
}

TEST_F(MuxedSwarms, SelfConnectionIsNeverKept) {
  const auto addr = *Multiaddr::parse("/ip4/10.0.0.1/udp/1000/quic-v1");
  ASSERT_TRUE(a.add_muxed_connection(now, 99, Direction::inbound, addr, addr, a.local_peer()));
  EXPECT_FALSE(a.is_connected(a.local_peer()));
  EXPECT_EQ(a.self_connections_refused(), 1u);
  EXPECT_EQ(a.connection_count(), 0u);
}

}  // namespace
}  // namespace taho::swarm
