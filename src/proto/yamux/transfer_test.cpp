// Two sessions back to back over a virtual link: real traffic, flow control,
// fragmentation and the stream and session lifecycles end to end.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "proto/yamux/session_pair.hpp"

namespace taho::yamux {
namespace {

using namespace std::chrono_literals;
using testing::SessionPair;

Options quiet() {
  Options options;
  options.ping_on_start = false;
  options.keepalive_interval = Duration::zero();
  return options;
}

// Deterministic content so the receiver can check every byte it gets.
Bytes pattern(std::size_t size, std::uint32_t seed) {
  Bytes out(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : out) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return out;
}

template <class T>
bool has_event(const std::deque<Event>& events, auto predicate) {
  for (const auto& event : events) {
    if (const T* e = std::get_if<T>(&event); e && predicate(*e)) return true;
  }
  return false;
}

// Echo server: accepts streams, reads everything, sends it back and closes.
struct EchoServer {
  Session& session;
  std::deque<Event>& events;
  std::map<StreamId, Bytes> pending;  // read, not yet echoed
  std::set<StreamId> finished_reading;
  std::set<StreamId> closed;

  void act() {
    while (!events.empty()) {
      const Event event = std::move(events.front());
      events.pop_front();
      if (std::holds_alternative<StreamIncoming>(event)) {
        while (auto id = session.accept_stream()) pending[*id];
      } else if (const auto* readable = std::get_if<StreamReadable>(&event)) {
        drain(readable->stream);
      } else if (const auto* done = std::get_if<StreamClosed>(&event)) {
        closed.insert(done->stream);
      }
    }
    for (auto& [id, bytes] : pending) flush(id);
  }
  void drain(StreamId id) {
    while (true) {
      auto read = session.read(id, 1 << 20);
      if (!read) return;
      append(pending[id], read->data);
      if (read->finished) finished_reading.insert(id);
      if (read->data.empty()) return;
    }
  }
  void flush(StreamId id) {
    Bytes& bytes = pending[id];
    if (!bytes.empty()) {
      auto written = session.write(id, bytes);
      if (!written) return;
      bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(*written));
    }
    if (bytes.empty() && finished_reading.contains(id) && !closed.contains(id)) {
      if (auto info = session.stream_info(id); info && !info->local_fin) (void)session.close_write(id);
    }
  }
};

struct ClientStream {
  Bytes to_send;
  std::size_t sent = 0;
  Bytes received;
  bool finished = false;
  bool closed = false;
};

// Client: opens streams, writes its payloads, reads the echoes.
struct EchoClient {
  Session& session;
  std::deque<Event>& events;
  std::map<StreamId, ClientStream> streams;

  void act() {
    while (!events.empty()) {
      const Event event = std::move(events.front());
      events.pop_front();
      if (const auto* readable = std::get_if<StreamReadable>(&event)) {
        ClientStream& stream = streams[readable->stream];
        while (true) {
          auto read = session.read(readable->stream, 1 << 20);
          if (!read) break;
          append(stream.received, read->data);
          if (read->finished) stream.finished = true;
          if (read->data.empty()) break;
        }
      } else if (const auto* done = std::get_if<StreamClosed>(&event)) {
        streams[done->stream].closed = true;
      }
    }
    for (auto& [id, stream] : streams) {
      if (stream.sent < stream.to_send.size()) {
        auto written = session.write(id, ByteView(stream.to_send).subspan(stream.sent));
        if (written) stream.sent += *written;
        if (stream.sent == stream.to_send.size()) (void)session.close_write(id);
      }
    }
  }
  bool all_done() const {
    for (const auto& [id, stream] : streams) {
      if (!stream.closed) return false;
    }
    return true;
  }
};

void run_echo(SessionPair& pair, std::size_t streams, std::size_t bytes_per_stream) {
  EchoClient client{pair.client, pair.client_events, {}};
  EchoServer server{pair.server, pair.server_events, {}, {}, {}};
  for (std::size_t i = 0; i < streams; ++i) {
    auto id = pair.client.open_stream();
    ASSERT_TRUE(id);
    client.streams[*id].to_send = pattern(bytes_per_stream + i, static_cast<std::uint32_t>(i));
  }
  ASSERT_TRUE(pair.run_until([&] { return client.all_done() && server.closed.size() == streams; },
                             [&] {
                               client.act();
                               server.act();
                             }));
  for (const auto& [id, stream] : client.streams) {
    EXPECT_TRUE(stream.finished);
    EXPECT_EQ(stream.received, stream.to_send) << "stream " << id;
  }
  EXPECT_EQ(pair.client.stream_count(), 0u);
  EXPECT_EQ(pair.server.stream_count(), 0u);
  EXPECT_EQ(pair.client_to_server.violations, 0u);
  EXPECT_EQ(pair.server_to_client.violations, 0u);
  EXPECT_FALSE(pair.client.is_closed());
  EXPECT_FALSE(pair.server.is_closed());
}

TEST(YamuxTransfer, ManyConcurrentStreamsWithRandomFragmentation) {
  SessionPair pair({.client_options = quiet(), .server_options = quiet(), .one_way_delay = 2ms,
                    .fragment = true, .fragment_bytes_max = 3000, .seed = 7});
  run_echo(pair, 64, 300 * 1024);  // each stream exceeds the initial window both ways
}

TEST(YamuxTransfer, OneByteFragments) {
  SessionPair pair({.client_options = quiet(), .server_options = quiet(), .fragment = true,
                    .fragment_bytes_max = 1});
  run_echo(pair, 3, 20 * 1024);
}

TEST(YamuxTransfer, Transfer64MiBThroughOneStream) {
  constexpr std::size_t kTotal = 64u * 1024 * 1024;
  Options options;  // defaults: ping on start gives the RTT that tuning needs
  SessionPair pair({.client_options = options, .server_options = options, .one_way_delay = 1ms});
  const Bytes source = pattern(1024 * 1024 + 7, 42);  // odd size: chunks straddle its end

  const StreamId id = *pair.client.open_stream();
  std::size_t sent = 0;
  std::size_t received = 0;
  bool mismatch = false;
  bool finished = false;
  std::uint32_t largest_target = 0;
  std::size_t reads = 0;

  auto app = [&] {
    while (!pair.server_events.empty()) {
      const Event event = std::move(pair.server_events.front());
      pair.server_events.pop_front();
      if (std::holds_alternative<StreamIncoming>(event)) (void)pair.server.accept_stream();
      if (!std::holds_alternative<StreamReadable>(event)) continue;
      while (true) {
        auto read = pair.server.read(id, 1 << 20);
        if (!read) break;
        ++reads;
        for (std::size_t offset = 0; offset < read->data.size();) {
          const std::size_t at = (received + offset) % source.size();
          const std::size_t run = std::min(read->data.size() - offset, source.size() - at);
          mismatch |= std::memcmp(read->data.data() + offset, source.data() + at, run) != 0;
          offset += run;
        }
        received += read->data.size();
        if (read->finished) finished = true;
        if (auto info = pair.server.stream_info(id)) largest_target = std::max(largest_target, info->receive_window_target);
        if (read->data.empty()) break;
      }
    }
    pair.client_events.clear();
    while (sent < kTotal) {
      const std::size_t at = sent % source.size();
      const std::size_t size = std::min(kTotal - sent, source.size() - at);
      auto written = pair.client.write(id, ByteView(source).subspan(at, size));
      if (!written || *written == 0) break;
      sent += *written;
      if (sent == kTotal) (void)pair.client.close_write(id);
    }
  };

  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(pair.run_until([&] { return finished; }, app));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(received, kTotal);
  EXPECT_FALSE(mismatch);
  EXPECT_EQ(pair.client_to_server.violations, 0u);
  EXPECT_EQ(pair.client_to_server.data_bytes, kTotal);
  EXPECT_LE(pair.client_to_server.largest_data_frame, 64u * 1024);
  // The fast reader made the window grow all the way.
  EXPECT_EQ(largest_target, options.stream_receive_window_bytes_max);
  EXPECT_EQ(pair.client.rtt(), 2ms);
  std::printf("[ yamux    ] 64 MiB in %.3f s wall = %.0f MB/s (%zu reads, virtual time %.1f ms)\n", seconds,
              static_cast<double>(kTotal) / 1e6 / seconds, reads,
              std::chrono::duration<double, std::milli>(pair.now.since_start).count());
}

TEST(YamuxTransfer, SlowReaderKeepsTheInitialWindow) {
  constexpr std::size_t kTotal = 2u * 1024 * 1024;
  Options options;
  SessionPair pair({.client_options = options, .server_options = options, .one_way_delay = 1ms});
  const Bytes source = pattern(kTotal, 5);
  const StreamId id = *pair.client.open_stream();
  std::size_t sent = 0;
  Bytes received;
  bool finished = false;
  Instant next_read{};
  std::uint32_t largest_target = 0;

  auto app = [&] {
    pair.client_events.clear();
    for (const auto& event : pair.server_events) {
      if (std::holds_alternative<StreamIncoming>(event)) (void)pair.server.accept_stream();
    }
    pair.server_events.clear();
    // The application reads 16 KiB per 10 ms, far slower than the link.
    if (pair.now >= next_read && pair.server.stream_info(id)) {
      auto read = pair.server.read(id, 16 * 1024);
      if (read) {
        append(received, read->data);
        finished = read->finished;
      }
      next_read = pair.now + 10ms;
      if (auto info = pair.server.stream_info(id)) {
        largest_target = std::max(largest_target, info->receive_window_target);
        EXPECT_LE(info->buffered, kInitialWindowBytes);
      }
    }
    if (sent < kTotal) {
      auto written = pair.client.write(id, ByteView(source).subspan(sent));
      if (written) sent += *written;
      if (sent == kTotal) (void)pair.client.close_write(id);
    }
  };
  // The reader polls on its own clock: keep time moving with keep-alive pings
  // disabled by stepping the clock when the network is idle.
  auto idle_app = [&] {
    app();
    if (pair.links_empty() && pair.now < next_read) pair.now = next_read;
  };
  ASSERT_TRUE(pair.run_until([&] { return finished; }, idle_app));
  EXPECT_EQ(received, source);
  EXPECT_EQ(largest_target, kInitialWindowBytes);
  EXPECT_EQ(pair.client_to_server.violations, 0u);
}

TEST(YamuxTransfer, HalfCloseInBothDirections) {
  SessionPair pair({.client_options = quiet(), .server_options = quiet(), .one_way_delay = 1ms});
  const StreamId id = *pair.client.open_stream();
  ASSERT_TRUE(pair.client.write(id, to_bytes("request")));
  ASSERT_TRUE(pair.client.close_write(id));
  std::string server_got;
  std::string client_got;
  bool server_finished = false;
  bool client_finished = false;
  bool client_closed = false;
  auto app = [&] {
    for (const auto& event : pair.server_events) {
      if (std::holds_alternative<StreamIncoming>(event)) ASSERT_EQ(pair.server.accept_stream(), id);
      if (std::holds_alternative<StreamReadable>(event)) {
        auto read = pair.server.read(id, 100);
        ASSERT_TRUE(read);
        server_got += as_text(read->data);
        if (read->finished && !server_finished) {
          server_finished = true;
          // The client's FIN closed only its direction: we can still answer.
          ASSERT_TRUE(pair.server.write(id, to_bytes("response")));
          ASSERT_TRUE(pair.server.close_write(id));
        }
      }
    }
    pair.server_events.clear();
    for (const auto& event : pair.client_events) {
      if (std::holds_alternative<StreamReadable>(event)) {
        auto read = pair.client.read(id, 100);
        ASSERT_TRUE(read);
        client_got += as_text(read->data);
        client_finished |= read->finished;
      }
      client_closed |= std::holds_alternative<StreamClosed>(event);
    }
    pair.client_events.clear();
  };
  ASSERT_TRUE(pair.run_until([&] { return client_closed; }, app));
  EXPECT_TRUE(client_finished);
  EXPECT_EQ(server_got, "request");
  EXPECT_EQ(client_got, "response");
  EXPECT_EQ(pair.client.stream_count(), 0u);
  EXPECT_EQ(pair.server.stream_count(), 0u);
}

TEST(YamuxTransfer, ResetWhileDataIsInFlight) {
  SessionPair pair({.client_options = quiet(), .server_options = quiet(), .one_way_delay = 5ms});
  const StreamId id = *pair.client.open_stream();
  const Bytes chunk(64 * 1024, 9);
  bool reset_seen = false;
  auto app = [&] {
    for (const auto& event : pair.server_events) {
      if (std::holds_alternative<StreamIncoming>(event)) {
        ASSERT_EQ(pair.server.accept_stream(), id);
        ASSERT_TRUE(pair.server.reset(id));  // while the client keeps sending
      }
    }
    pair.server_events.clear();
    for (const auto& event : pair.client_events) {
      if (const auto* reset = std::get_if<StreamReset>(&event)) reset_seen |= reset->stream == id;
    }
    pair.client_events.clear();
    if (!reset_seen) (void)pair.client.write(id, chunk);
  };
  ASSERT_TRUE(pair.run_until([&] { return reset_seen && pair.links_empty(); }, app));
  EXPECT_EQ(pair.client.write(id, chunk).error().code, CommandErrc::unknown_stream);
  EXPECT_FALSE(pair.client.is_closed());
  EXPECT_FALSE(pair.server.is_closed());  // late data for the reset stream was dropped, not an error
  EXPECT_EQ(pair.client.stream_count(), 0u);
  EXPECT_EQ(pair.server.stream_count(), 0u);
}

TEST(YamuxTransfer, PingMeasuresTheRoundTrip) {
  Options options = quiet();
  SessionPair pair({.client_options = options, .server_options = options, .one_way_delay = 5ms});
  ASSERT_TRUE(pair.client.ping());
  ASSERT_TRUE(pair.run_until([&] {
    return has_event<PingRtt>(pair.client_events, [](const PingRtt& e) { return e.rtt == 10ms; });
  }));
  EXPECT_EQ(pair.client.rtt(), 10ms);
}

TEST(YamuxTransfer, GracefulGoAway) {
  SessionPair pair({.client_options = quiet(), .server_options = quiet(), .one_way_delay = 1ms});
  const StreamId id = *pair.client.open_stream();
  ASSERT_TRUE(pair.client.write(id, to_bytes("last words")));
  pair.client.go_away();
  EXPECT_EQ(pair.client.open_stream().error().code, CommandErrc::going_away);
  bool server_read = false;
  std::optional<Errc> client_end;
  std::optional<Errc> server_end;
  auto record_end = [](const Event& event, std::optional<Errc>& end) {
    if (const auto* closed = std::get_if<SessionClosed>(&event)) end = closed->error.code;
  };
  auto app = [&] {
    for (const auto& event : pair.server_events) {
      record_end(event, server_end);
      if (std::holds_alternative<StreamIncoming>(event)) ASSERT_TRUE(pair.server.accept_stream());
      if (std::holds_alternative<GoAwayReceived>(event)) {
        EXPECT_EQ(pair.server.open_stream().error().code, CommandErrc::going_away);
      }
      if (std::holds_alternative<StreamReadable>(event) && !server_read) {
        auto read = pair.server.read(id, 100);
        ASSERT_TRUE(read);
        EXPECT_EQ(as_text(read->data), "last words");
        server_read = true;
        ASSERT_TRUE(pair.server.close_write(id));  // our answer: nothing more to say
        (void)pair.client.close_write(id);
      } else if (std::holds_alternative<StreamReadable>(event)) {
        EXPECT_TRUE(pair.server.read(id, 100)->finished);
      }
    }
    pair.server_events.clear();
    for (const auto& event : pair.client_events) {
      record_end(event, client_end);
      if (std::holds_alternative<StreamReadable>(event)) EXPECT_TRUE(pair.client.read(id, 100)->finished);
    }
    pair.client_events.clear();
  };
  ASSERT_TRUE(pair.run_until([&] { return client_end && server_end; }, app));
  // The existing stream finished first; then both sessions ended cleanly.
  EXPECT_TRUE(server_read);
  EXPECT_EQ(client_end, Errc::closed_normally);
  EXPECT_EQ(server_end, Errc::closed_normally);
}

TEST(YamuxTransfer, KeepaliveDetectsADeadPeer) {
  SessionPair pair({});  // default options: keep-alive on
  ASSERT_TRUE(pair.run_until([&] { return pair.client.rtt().has_value(); }));
  pair.link_up = false;
  ASSERT_TRUE(pair.run_until([&] { return pair.client.is_closed(); }));
  EXPECT_TRUE(has_event<SessionClosed>(pair.client_events, [](const SessionClosed& e) {
    return e.error.code == Errc::keepalive_timeout;
  }));
  EXPECT_LE(pair.now, Instant{} + 30s + 15s + 1s);
}

TEST(YamuxTransfer, BacklogOverflowResetsTheDialersStreams) {
  Options server_options = quiet();
  server_options.inbound_backlog_max = 2;
  SessionPair pair({.client_options = quiet(), .server_options = server_options, .one_way_delay = 1ms});
  std::vector<StreamId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(*pair.client.open_stream());
  ASSERT_TRUE(pair.run_until([&] { return pair.client.stream_count() == 2 && pair.links_empty(); }));
  std::set<StreamId> reset;
  for (const auto& event : pair.client_events) {
    if (const auto* r = std::get_if<StreamReset>(&event)) reset.insert(r->stream);
  }
  EXPECT_EQ(reset, (std::set<StreamId>{ids[2], ids[3]}));
  EXPECT_EQ(pair.server.refused_streams(), 2u);
  EXPECT_EQ(pair.client.stream_count(), 2u);
}

}  // namespace
}  // namespace taho::yamux
