// The stream transport over real loopback sockets. Every wait is bounded
// (run_until with a deadline), so a broken transport fails, never hangs.
#include "runtime/asio/stream_transport.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "runtime/asio/event_loop.hpp"

namespace taho::runtime::asio {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kPeerId = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";

Multiaddr address(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  if (!parsed) ADD_FAILURE() << "test address does not parse: " << text;
  return parsed ? *parsed : Multiaddr{};
}

// Runs the loop until `done` or the deadline; false on timeout.
bool run_until(EventLoop& loop, const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
  auto& context = loop.context();
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    if (context.stopped()) context.restart();
    if (context.run_one_for(20ms) == 0) std::this_thread::sleep_for(1ms);
  }
  return true;
}

void run_for(EventLoop& loop, std::chrono::milliseconds duration) {
  run_until(
      loop, [] { return false; }, duration);
}

// A deterministic byte pattern, so a receiver can check any offset.
std::uint8_t pattern_byte(std::uint64_t offset) { return static_cast<std::uint8_t>((offset * 2654435761u) >> 13); }

Bytes pattern(std::uint64_t offset, std::size_t size) {
  Bytes out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = pattern_byte(offset + i);
  return out;
}

// A StreamTransport whose callbacks record everything and check the
// lifecycle promises (open first, nothing after on_closed, closed once).
class Peer {
 public:
  struct Log {
    ConnectionInfo info;
    Bytes received;
    std::optional<std::string> closed_reason;
    std::uint64_t pattern_errors = 0;
    std::uint64_t received_count = 0;
  };

  explicit Peer(EventLoop& loop, StreamTransportOptions options = {}) : transport(loop, options, callbacks()) {}

  StreamTransport transport;
  std::map<ConnectionId, Log> logs;
  std::vector<ConnectionId> inbound;
  std::map<DialId, ConnectionId> dialed;
  std::map<DialId, std::string> dial_failures;
  bool keep_received = true;  // false: only count and check the pattern
  bool echo = false;          // send received bytes straight back
  bool pause_new_inbound = false;
  std::function<void(ConnectionId, ByteView)> on_data_hook;

  Log& log(ConnectionId id) { return logs.at(id); }
  bool closed(ConnectionId id) const { return logs.count(id) != 0 && logs.at(id).closed_reason.has_value(); }
  std::string reason(ConnectionId id) const { return closed(id) ? *logs.at(id).closed_reason : "(open)"; }

 private:
  StreamTransportCallbacks callbacks() {
    StreamTransportCallbacks out;
    out.on_open = [this](const ConnectionInfo& info) {
      opened(info);
      EXPECT_TRUE(info.inbound);
      inbound.push_back(info.id);
      if (pause_new_inbound) transport.pause_reading(info.id, true);
    };
    out.on_dialed = [this](DialId dial, const ConnectionInfo& info) {
      opened(info);
      EXPECT_FALSE(info.inbound);
      EXPECT_EQ(dialed.count(dial), 0u);
      dialed[dial] = info.id;
    };
    out.on_dial_failed = [this](DialId dial, std::string error) {
      EXPECT_EQ(dial_failures.count(dial), 0u);
      dial_failures[dial] = std::move(error);
    };
    out.on_data = [this](ConnectionId id, ByteView data) {
      ASSERT_EQ(logs.count(id), 1u) << "on_data before open";
      Log& entry = logs[id];
      ASSERT_FALSE(entry.closed_reason) << "on_data after on_closed";
      for (std::size_t i = 0; i < data.size(); ++i) {
        if (data[i] != pattern_byte(entry.received_count + i)) ++entry.pattern_errors;
      }
      entry.received_count += data.size();
      if (keep_received) append(entry.received, data);
      if (echo) transport.send(id, Bytes(data.begin(), data.end()));
      if (on_data_hook) on_data_hook(id, data);
    };
    out.on_closed = [this](ConnectionId id, std::string reason) {
      ASSERT_EQ(logs.count(id), 1u) << "on_closed before open";
      ASSERT_FALSE(logs[id].closed_reason) << "on_closed twice";
      logs[id].closed_reason = std::move(reason);
    };
    return out;
  }

  void opened(const ConnectionInfo& info) {
    EXPECT_EQ(logs.count(info.id), 0u) << "connection id reused";
    logs[info.id].info = info;
  }
};

class StreamTransportTest : public ::testing::Test {
 protected:
  // Dials `target` from `client` and waits for both ends; returns {client id, server id}.
  std::pair<ConnectionId, ConnectionId> connect(Peer& client, Peer& server, const Multiaddr& target) {
    const std::size_t inbound_before = server.inbound.size();
    const DialId dial = client.transport.dial(target);
    const bool connected = run_until(loop, [&] {
      return (client.dialed.count(dial) != 0 || client.dial_failures.count(dial) != 0) &&
             (server.inbound.size() > inbound_before || client.dial_failures.count(dial) != 0);
    });
    EXPECT_TRUE(connected) << "dial to " << target.to_string() << " did not finish";
    if (client.dial_failures.count(dial) != 0) ADD_FAILURE() << "dial failed: " << client.dial_failures[dial];
    if (client.dialed.count(dial) == 0 || server.inbound.size() == inbound_before) return {0, 0};
    return {client.dialed[dial], server.inbound.back()};
  }

  void echo_both_directions(const std::string& listen_text, Transport expected_transport);
  void transfer_integrity(const std::string& listen_text, std::size_t total_bytes);
  void close_flushes(const std::string& listen_text, const std::string& expected_server_reason);

  EventLoop loop;
};

void StreamTransportTest::echo_both_directions(const std::string& listen_text, Transport expected_transport) {
  Peer server(loop);
  Peer client(loop);
  auto bound = server.transport.listen(address(listen_text));
  ASSERT_TRUE(bound) << bound.error().text;
  ASSERT_NE(bound->components()[1].port().value_or(0), 0) << bound->to_string();
  EXPECT_EQ(server.transport.listen_addresses(), std::vector<Multiaddr>{*bound});

  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  const ConnectionInfo& client_info = client.log(client_id).info;
  const ConnectionInfo& server_info = server.log(server_id).info;
  EXPECT_EQ(client_info.transport, expected_transport);
  EXPECT_EQ(server_info.transport, expected_transport);
  EXPECT_EQ(client_info.remote, *bound);
  EXPECT_EQ(server_info.local, *bound);
  EXPECT_EQ(server_info.remote, client_info.local);
  EXPECT_EQ(client.transport.connection_info(client_id)->remote, *bound);

  client.transport.send(client_id, to_bytes("hello from the client"));
  server.transport.send(server_id, to_bytes("hello from the server"));
  ASSERT_TRUE(run_until(loop, [&] {
    return client.log(client_id).received.size() == 21 && server.log(server_id).received.size() == 21;
  }));
  EXPECT_EQ(as_text(server.log(server_id).received), "hello from the client");
  EXPECT_EQ(as_text(client.log(client_id).received), "hello from the server");
  EXPECT_EQ(client.transport.queued_bytes(client_id), 0u);

  client.transport.close(client_id);
  ASSERT_TRUE(run_until(loop, [&] { return client.closed(client_id) && server.closed(server_id); }));
  EXPECT_EQ(client.reason(client_id), "closed locally");
  EXPECT_NE(server.reason(server_id).find("closed by remote"), std::string::npos) << server.reason(server_id);
  EXPECT_EQ(client.transport.connection_count(), 0u);
  EXPECT_EQ(server.transport.connection_count(), 0u);
}

TEST_F(StreamTransportTest, TcpEchoBothDirections) { echo_both_directions("/ip4/127.0.0.1/tcp/0", Transport::tcp); }

TEST_F(StreamTransportTest, WebSocketEchoBothDirections) {
  echo_both_directions("/ip4/127.0.0.1/tcp/0/ws", Transport::websocket);
}

void StreamTransportTest::transfer_integrity(const std::string& listen_text, std::size_t total_bytes) {
  constexpr std::size_t kChunkBytes = 1024 * 1024 + 17;  // odd size: chunks straddle messages and reads
  constexpr std::size_t kInFlightBytesMax = 8 * 1024 * 1024;
  Peer server(loop);
  Peer client(loop);
  server.keep_received = false;
  auto bound = server.transport.listen(address(listen_text));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);

  std::size_t sent = 0;
  auto& context = loop.context();
  const auto deadline = Clock::now() + 60s;
  while (server.log(server_id).received_count < total_bytes && Clock::now() < deadline && !server.closed(server_id)) {
    while (sent < total_bytes && client.transport.queued_bytes(client_id) < kInFlightBytesMax) {
      const std::size_t size = std::min(kChunkBytes, total_bytes - sent);
      client.transport.send(client_id, pattern(sent, size));
      sent += size;
    }
    if (context.stopped()) context.restart();
    context.run_one_for(50ms);
  }
  EXPECT_EQ(server.log(server_id).received_count, total_bytes);
  EXPECT_EQ(server.log(server_id).pattern_errors, 0u);
  EXPECT_FALSE(server.closed(server_id)) << server.reason(server_id);
}

TEST_F(StreamTransportTest, Tcp64MiBArriveIntact) { transfer_integrity("/ip4/127.0.0.1/tcp/0", 64 * 1024 * 1024); }

TEST_F(StreamTransportTest, WebSocket64MiBArriveIntact) {
  transfer_integrity("/ip4/127.0.0.1/tcp/0/ws", 64 * 1024 * 1024);
}

TEST_F(StreamTransportTest, HundredConnectionsEchoTheirOwnBytes) {
  constexpr std::size_t kConnections = 100;
  Peer server(loop);
  Peer client(loop);
  server.echo = true;
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  std::vector<DialId> dials;
  for (std::size_t i = 0; i < kConnections; ++i) dials.push_back(client.transport.dial(*bound));
  ASSERT_TRUE(run_until(loop, [&] { return client.dialed.size() + client.dial_failures.size() == kConnections; }));
  ASSERT_EQ(client.dialed.size(), kConnections) << client.dial_failures.begin()->second;
  for (const auto& [dial, id] : client.dialed) {
    client.transport.send(id, to_bytes("connection " + std::to_string(id)));
  }
  ASSERT_TRUE(run_until(loop, [&] {
    for (const auto& [dial, id] : client.dialed) {
      if (client.log(id).received.size() < ("connection " + std::to_string(id)).size()) return false;
    }
    return true;
  }));
  for (const auto& [dial, id] : client.dialed) {
    EXPECT_EQ(as_text(client.log(id).received), "connection " + std::to_string(id));
  }
  EXPECT_EQ(server.transport.connection_count(), kConnections);
  EXPECT_EQ(server.transport.stats().connections_opened, kConnections);
}

TEST_F(StreamTransportTest, DialToClosedPortFailsWithConnectionRefused) {
  std::uint16_t port = 0;
  {
    // Bind without listening to learn a port nobody listens on.
    tcp::acceptor probe(loop.context(), tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    port = probe.local_endpoint().port();
  }
  Peer client(loop);
  const DialId dial = client.transport.dial(address("/ip4/127.0.0.1/tcp/" + std::to_string(port)));
  ASSERT_TRUE(run_until(loop, [&] { return client.dial_failures.count(dial) != 0; }));
  EXPECT_NE(client.dial_failures[dial].find("connection refused"), std::string::npos) << client.dial_failures[dial];
  EXPECT_NE(client.dial_failures[dial].find(std::to_string(port)), std::string::npos) << client.dial_failures[dial];
  EXPECT_EQ(client.transport.stats().dials_failed, 1u);
}

TEST_F(StreamTransportTest, DialToUnresolvableNameFailsClearly) {
  Peer client(loop);
  const DialId dial = client.transport.dial(address("/dns4/does-not-exist.invalid/tcp/1"));
  ASSERT_TRUE(run_until(
      loop, [&] { return client.dial_failures.count(dial) != 0; }, 20s));
  const std::string& error = client.dial_failures[dial];
  EXPECT_NE(error.find("cannot resolve does-not-exist.invalid"), std::string::npos) << error;
  std::printf("unresolvable name: %s\n", error.c_str());
}

TEST_F(StreamTransportTest, DialByDnsNameAndWithPeerIdSuffix) {
  Peer server(loop);
  Peer client(loop);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  const std::string port = std::to_string(*bound->components()[1].port());
  auto [by_name, inbound_one] = connect(client, server, address("/dns4/localhost/tcp/" + port));
  EXPECT_NE(by_name, 0u);
  if (by_name != 0) EXPECT_EQ(client.log(by_name).info.remote, *bound);
  auto [with_peer, inbound_two] = connect(client, server, address(bound->to_string() + "/p2p/" + std::string(kPeerId)));
  EXPECT_NE(with_peer, 0u);
}

TEST_F(StreamTransportTest, WebSocketUpgradeTimeoutFailsTheDial) {
  // A TCP server that accepts and never answers the upgrade request.
  tcp::acceptor silent(loop.context(), tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  std::optional<tcp::socket> accepted;
  silent.async_accept(
      [&](const boost::system::error_code&, tcp::socket socket) { accepted.emplace(std::move(socket)); });
  StreamTransportOptions options;
  options.dial_timeout_ms = 300;
  Peer client(loop, options);
  const auto started = Clock::now();
  const DialId dial =
      client.transport.dial(address("/ip4/127.0.0.1/tcp/" + std::to_string(silent.local_endpoint().port()) + "/ws"));
  ASSERT_TRUE(run_until(loop, [&] { return client.dial_failures.count(dial) != 0; }));
  EXPECT_GE(Clock::now() - started, 300ms);
  EXPECT_NE(client.dial_failures[dial].find("timed out after 300 ms"), std::string::npos) << client.dial_failures[dial];
  EXPECT_TRUE(accepted.has_value());
}

TEST_F(StreamTransportTest, BadDialAddressFailsAfterTheCallReturns) {
  Peer client(loop);
  const DialId udp = client.transport.dial(address("/ip4/127.0.0.1/udp/5"));
  const DialId wss = client.transport.dial(address("/ip4/127.0.0.1/tcp/5/wss"));
  EXPECT_NE(udp, wss);
  EXPECT_TRUE(client.dial_failures.empty()) << "failure reported inside dial()";
  ASSERT_TRUE(run_until(loop, [&] { return client.dial_failures.size() == 2; }));
  EXPECT_EQ(client.dial_failures[udp].rfind("bad address /ip4/127.0.0.1/udp/5", 0), 0u) << client.dial_failures[udp];
  EXPECT_NE(client.dial_failures[wss].find("unsupported component /wss"), std::string::npos)
      << client.dial_failures[wss];
}

TEST_F(StreamTransportTest, ListenRejectsBadAddressesAndPortsInUse) {
  Peer first(loop);
  Peer second(loop);
  auto bound = first.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto again = second.transport.listen(*bound);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().text.find("address already in use"), std::string::npos) << again.error().text;
  EXPECT_NE(again.error().text.find(bound->to_string()), std::string::npos) << again.error().text;
  auto dns = second.transport.listen(address("/dns4/localhost/tcp/0"));
  ASSERT_FALSE(dns);
  EXPECT_NE(dns.error().text.find("bad address"), std::string::npos) << dns.error().text;
  EXPECT_FALSE(second.transport.listen(address("/ip4/127.0.0.1/udp/0")));
  EXPECT_TRUE(second.transport.listen_addresses().empty());
}

// Reads from a raw socket until the peer closes it or `timeout` passes;
// returns what arrived, or nullopt when the socket stayed open.
std::optional<std::string> read_until_closed(EventLoop& loop, tcp::socket& socket, std::chrono::milliseconds timeout) {
  std::string received;
  bool closed = false;
  std::array<char, 4096> buffer{};
  std::function<void()> read_more = [&] {
    socket.async_read_some(boost::asio::buffer(buffer), [&](const boost::system::error_code& error, std::size_t count) {
      received.append(buffer.data(), count);
      if (error) {
        closed = true;
        return;
      }
      read_more();
    });
  };
  read_more();
  run_until(
      loop, [&] { return closed; }, timeout);
  if (!closed) {
    socket.close();
    run_until(
        loop, [&] { return closed; }, 1s);
    return std::nullopt;
  }
  return received;
}

TEST_F(StreamTransportTest, GarbageWebSocketUpgradeIsClosed) {
  Peer server(loop);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0/ws"));
  ASSERT_TRUE(bound) << bound.error().text;
  const std::uint16_t port = *bound->components()[1].port();

  tcp::socket raw(loop.context());
  raw.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  boost::asio::write(raw, boost::asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
  auto answer = read_until_closed(loop, raw, 5s);
  ASSERT_TRUE(answer.has_value()) << "server kept a garbage connection open";
  EXPECT_TRUE(server.inbound.empty());
  EXPECT_EQ(server.transport.stats().upgrades_failed, 1u);

  // A plain HTTP request without the upgrade headers is refused with 400.
  tcp::socket plain(loop.context());
  plain.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  boost::asio::write(plain, boost::asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\n\r\n")));
  auto refused = read_until_closed(loop, plain, 5s);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->rfind("HTTP/1.1 400", 0), 0u) << *refused;

  // The listener still serves real clients.
  Peer client(loop);
  auto [client_id, server_id] = connect(client, server, *bound);
  EXPECT_NE(client_id, 0u);
}

TEST_F(StreamTransportTest, SilentWebSocketClientIsDroppedAfterTheHandshakeTimeout) {
  StreamTransportOptions options;
  options.websocket_handshake_timeout_ms = 200;
  Peer server(loop, options);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0/ws"));
  ASSERT_TRUE(bound) << bound.error().text;
  tcp::socket raw(loop.context());
  raw.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), *bound->components()[1].port()));
  const auto started = Clock::now();
  EXPECT_TRUE(read_until_closed(loop, raw, 5s).has_value());
  EXPECT_GE(Clock::now() - started, 150ms);
  EXPECT_EQ(server.transport.stats().upgrades_failed, 1u);
}

TEST_F(StreamTransportTest, PendingWebSocketUpgradesAreBounded) {
  StreamTransportOptions options;
  options.pending_inbound_max = 2;
  Peer server(loop, options);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0/ws"));
  ASSERT_TRUE(bound) << bound.error().text;
  const tcp::endpoint target(boost::asio::ip::make_address("127.0.0.1"), *bound->components()[1].port());
  std::vector<tcp::socket> silent;
  for (int i = 0; i < 3; ++i) {
    silent.emplace_back(loop.context());
    silent.back().connect(target);
  }
  ASSERT_TRUE(run_until(
      loop, [&] { return server.transport.stats().inbound_refused == 1; }, 5s));
  // The third was closed at once; the first two wait in their upgrade.
  EXPECT_TRUE(read_until_closed(loop, silent[2], 2s).has_value());
  EXPECT_FALSE(read_until_closed(loop, silent[0], 200ms).has_value());
}

TEST_F(StreamTransportTest, OversizeWebSocketMessageClosesTheConnection) {
  StreamTransportOptions big_messages;
  big_messages.websocket_message_bytes_max = 4 * 1024 * 1024;
  Peer server(loop);  // default: 1 MiB
  Peer client(loop, big_messages);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0/ws"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  client.transport.send(client_id, pattern(0, 2 * 1024 * 1024));  // one 2 MiB message
  ASSERT_TRUE(run_until(loop, [&] { return server.closed(server_id) && client.closed(client_id); }));
  EXPECT_NE(server.reason(server_id).find("websocket_message_bytes_max"), std::string::npos)
      << server.reason(server_id);
  EXPECT_EQ(server.log(server_id).received_count, 0u);
}

void StreamTransportTest::close_flushes(const std::string& listen_text, const std::string& expected_server_reason) {
  constexpr std::size_t kBytes = 8 * 1024 * 1024;
  Peer server(loop);
  Peer client(loop);
  server.keep_received = false;
  auto bound = server.transport.listen(address(listen_text));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  for (std::size_t offset = 0; offset < kBytes; offset += 256 * 1024) {
    client.transport.send(client_id, pattern(offset, 256 * 1024));
  }
  EXPECT_EQ(client.transport.queued_bytes(client_id), kBytes);
  client.transport.close(client_id);
  client.transport.close(client_id);  // idempotent
  client.transport.send(client_id, to_bytes("ignored after close"));
  EXPECT_FALSE(client.closed(client_id)) << "on_closed must not fire inside close()";
  ASSERT_TRUE(run_until(loop, [&] { return server.closed(server_id) && client.closed(client_id); }));
  EXPECT_EQ(server.log(server_id).received_count, kBytes);
  EXPECT_EQ(server.log(server_id).pattern_errors, 0u);
  EXPECT_EQ(client.reason(client_id), "closed locally");
  EXPECT_EQ(server.reason(server_id), expected_server_reason);
}

TEST_F(StreamTransportTest, TcpCloseFlushesQueuedBytesFirst) {
  close_flushes("/ip4/127.0.0.1/tcp/0", "closed by remote");
}

TEST_F(StreamTransportTest, WebSocketCloseFlushesQueuedBytesFirst) {
  close_flushes("/ip4/127.0.0.1/tcp/0/ws", "closed by remote (websocket close)");
}

TEST_F(StreamTransportTest, PauseReadingHoldsDataUntilResumed) {
  Peer server(loop);
  Peer client(loop);
  server.pause_new_inbound = true;
  server.keep_received = false;
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);

  // Far more than socket buffers hold: the sender's queue must back up.
  constexpr std::size_t kBytes = 16 * 1024 * 1024;
  client.transport.send(client_id, pattern(0, kBytes));
  run_for(loop, 300ms);
  EXPECT_EQ(server.log(server_id).received_count, 0u);
  EXPECT_GT(client.transport.queued_bytes(client_id), 0u) << "a paused reader must push back on the sender";

  server.transport.pause_reading(server_id, false);
  ASSERT_TRUE(run_until(loop, [&] { return server.log(server_id).received_count == kBytes; }));
  EXPECT_EQ(server.log(server_id).pattern_errors, 0u);
  EXPECT_EQ(client.transport.queued_bytes(client_id), 0u);

  // Pausing from inside on_data stops delivery right after that chunk.
  std::size_t deliveries = 0;
  server.on_data_hook = [&](ConnectionId id, ByteView) {
    ++deliveries;
    server.transport.pause_reading(id, true);
  };
  client.transport.send(client_id, pattern(kBytes, 1024 * 1024));
  run_for(loop, 300ms);
  EXPECT_EQ(deliveries, 1u);
  server.on_data_hook = nullptr;
  server.transport.pause_reading(server_id, false);
  ASSERT_TRUE(run_until(loop, [&] { return server.log(server_id).received_count == kBytes + 1024 * 1024; }));
  EXPECT_EQ(server.log(server_id).pattern_errors, 0u);
}

TEST_F(StreamTransportTest, SendQueueOverflowClosesWithAReason) {
  StreamTransportOptions options;
  options.send_queue_bytes_max = 1024 * 1024;
  Peer server(loop);
  Peer client(loop, options);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  client.transport.send(client_id, Bytes(600 * 1024, 1));
  EXPECT_EQ(client.transport.queued_bytes(client_id), 600u * 1024);
  client.transport.send(client_id, Bytes(600 * 1024, 2));  // 1200 KiB > 1 MiB
  EXPECT_FALSE(client.closed(client_id)) << "on_closed must not fire inside send()";
  EXPECT_EQ(client.transport.connection_count(), 0u);
  ASSERT_TRUE(run_until(loop, [&] { return client.closed(client_id) && server.closed(server_id); }));
  EXPECT_NE(client.reason(client_id).find("send_queue_bytes_max"), std::string::npos) << client.reason(client_id);
  EXPECT_EQ(client.transport.stats().send_queue_overflows, 1u);
}

TEST_F(StreamTransportTest, CloseIsIdempotentAndUnknownIdsAreIgnored) {
  Peer server(loop);
  Peer client(loop);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  server.transport.close(server_id);
  server.transport.close(server_id);
  ASSERT_TRUE(run_until(loop, [&] { return server.closed(server_id) && client.closed(client_id); }));
  server.transport.close(server_id);
  server.transport.send(server_id, to_bytes("late"));
  server.transport.pause_reading(server_id, true);
  EXPECT_EQ(server.transport.queued_bytes(server_id), 0u);
  client.transport.close(12345);
  EXPECT_FALSE(client.transport.connection_info(12345));
  run_for(loop, 100ms);  // the Peer checks catch any callback after on_closed
  EXPECT_EQ(client.reason(client_id), "closed by remote");
}

TEST_F(StreamTransportTest, DestroyingTheTransportCallsNothingAndClosesSockets) {
  Peer server(loop);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  int callbacks_after_destruction = 0;
  bool destroyed = false;
  StreamTransportCallbacks counting;
  counting.on_dialed = [&](DialId, const ConnectionInfo&) { callbacks_after_destruction += destroyed; };
  counting.on_closed = [&](ConnectionId, std::string) { callbacks_after_destruction += destroyed; };
  counting.on_dial_failed = [&](DialId, std::string) { callbacks_after_destruction += destroyed; };
  auto client = std::make_unique<StreamTransport>(loop, StreamTransportOptions{}, counting);
  client->dial(*bound);
  ASSERT_TRUE(run_until(loop, [&] { return !server.inbound.empty(); }));
  ASSERT_TRUE(run_until(loop, [&] { return client->connection_count() == 1; }));
  client->dial(*bound);                           // in flight when destroyed
  client->dial(address("/ip4/127.0.0.1/udp/1"));  // failure already posted
  client.reset();
  destroyed = true;
  ASSERT_TRUE(run_until(loop, [&] { return server.closed(server.inbound.front()); }));
  run_for(loop, 200ms);
  EXPECT_EQ(callbacks_after_destruction, 0);
}

// A masked client frame (RFC 6455 §5.2), as a browser would send it.
std::string client_frame(std::uint8_t first_byte, std::string_view payload) {
  const std::uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string frame;
  frame += static_cast<char>(first_byte);
  if (payload.size() < 126) {
    frame += static_cast<char>(0x80 | payload.size());
  } else {
    frame += static_cast<char>(0x80 | 126);
    frame += static_cast<char>(payload.size() >> 8);
    frame += static_cast<char>(payload.size() & 0xff);
  }
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (std::size_t i = 0; i < payload.size(); ++i) frame += static_cast<char>(payload[i] ^ mask[i % 4]);
  return frame;
}

// Reads exactly `count` bytes from a raw socket while the loop runs.
std::optional<std::string> read_exactly(EventLoop& loop, tcp::socket& socket, std::size_t count) {
  std::string buffer(count, '\0');
  std::optional<boost::system::error_code> result;
  boost::asio::async_read(socket, boost::asio::buffer(buffer),
                          [&](const boost::system::error_code& error, std::size_t) { result = error; });
  if (!run_until(
          loop, [&] { return result.has_value(); }, 5s) ||
      *result)
    return std::nullopt;
  return buffer;
}

std::optional<std::string> read_http_head(EventLoop& loop, tcp::socket& socket) {
  std::string head;
  while (head.size() < 4096 && (head.size() < 4 || head.compare(head.size() - 4, 4, "\r\n\r\n") != 0)) {
    auto byte = read_exactly(loop, socket, 1);
    if (!byte) return std::nullopt;
    head += *byte;
  }
  return head;
}

TEST_F(StreamTransportTest, WebSocketServerSpeaksTheProtocolToABrowserLikeClient) {
  StreamTransportOptions options;
  options.websocket_handshake_timeout_ms = 300;  // also bounds the closing handshake
  Peer server(loop, options);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0/ws"));
  ASSERT_TRUE(bound) << bound.error().text;
  tcp::socket raw(loop.context());
  raw.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), *bound->components()[1].port()));
  // Any path; a compression offer that must be declined; no subprotocol.
  boost::asio::write(raw, boost::asio::buffer(std::string(
                              "GET /any/path?x=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                              "Sec-WebSocket-Version: 13\r\n"
                              "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n")));
  auto head = read_http_head(loop, raw);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->rfind("HTTP/1.1 101", 0), 0u) << *head;
  EXPECT_NE(head->find("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), std::string::npos) << *head;  // RFC 6455 §1.3 example
  EXPECT_EQ(head->find("permessage-deflate"), std::string::npos) << *head;
  ASSERT_TRUE(run_until(loop, [&] { return server.inbound.size() == 1; }));
  const ConnectionId id = server.inbound.front();
  EXPECT_EQ(server.log(id).info.transport, Transport::websocket);

  // A ping is answered with a pong carrying the same payload.
  boost::asio::write(raw, boost::asio::buffer(client_frame(0x89, "are you there")));
  auto pong = read_exactly(loop, raw, 2 + 13);
  ASSERT_TRUE(pong);
  EXPECT_EQ(static_cast<std::uint8_t>((*pong)[0]), 0x8A);
  EXPECT_EQ(pong->substr(2), "are you there");

  // Binary and text messages, and a message in two fragments, all arrive as
  // one byte stream.
  boost::asio::write(
      raw, boost::asio::buffer(client_frame(0x82, "abc") + client_frame(0x81, "def") + client_frame(0x02, "gh") +
                               client_frame(0x80, "ij") + client_frame(0x82, std::string(300, 'k'))));
  ASSERT_TRUE(run_until(loop, [&] { return server.log(id).received.size() == 10 + 300; }));
  EXPECT_EQ(as_text(server.log(id).received), "abcdefghij" + std::string(300, 'k'));

  // What the server sends arrives as an unmasked binary message.
  server.transport.send(id, to_bytes("reply"));
  auto reply = read_exactly(loop, raw, 2 + 5);
  ASSERT_TRUE(reply);
  EXPECT_EQ(static_cast<std::uint8_t>((*reply)[0]), 0x82);
  EXPECT_EQ(static_cast<std::uint8_t>((*reply)[1]), 5);
  EXPECT_EQ(reply->substr(2), "reply");

  // A close frame is answered with a close frame, and the connection ends
  // even though this client never closes its TCP side (bounded teardown).
  boost::asio::write(raw, boost::asio::buffer(client_frame(0x88, std::string("\x03\xe8", 2))));
  auto close_reply = read_exactly(loop, raw, 4);
  ASSERT_TRUE(close_reply);
  EXPECT_EQ(static_cast<std::uint8_t>((*close_reply)[0]), 0x88);
  EXPECT_EQ(close_reply->substr(2), std::string("\x03\xe8", 2));
  ASSERT_TRUE(run_until(
      loop, [&] { return server.closed(id); }, 3s));
  EXPECT_NE(server.reason(id).find("closed by remote"), std::string::npos) << server.reason(id);
}

TEST_F(StreamTransportTest, CloseGivesUpFlushingAfterTheTimeout) {
  StreamTransportOptions options;
  options.close_flush_timeout_ms = 200;
  Peer server(loop);
  Peer client(loop, options);
  server.pause_new_inbound = true;  // never reads: the flush cannot finish
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  client.transport.send(client_id, pattern(0, 16 * 1024 * 1024));
  client.transport.close(client_id);
  const auto started = Clock::now();
  ASSERT_TRUE(run_until(
      loop, [&] { return client.closed(client_id); }, 5s));
  EXPECT_GE(Clock::now() - started, 150ms);
  EXPECT_EQ(client.reason(client_id).rfind("closed locally (flush timed out, ", 0), 0u) << client.reason(client_id);
}

// Nagle's algorithm holds a small segment while an earlier one is unacked,
// and the receiver delays that ack (it has nothing to send until the
// second byte arrives): ~40 ms per round without TCP_NODELAY.
TEST_F(StreamTransportTest, SmallWritesAreNotDelayedByNagle) {
  constexpr int kRounds = 50;
  Peer server(loop);
  Peer client(loop);
  auto bound = server.transport.listen(address("/ip4/127.0.0.1/tcp/0"));
  ASSERT_TRUE(bound) << bound.error().text;
  server.on_data_hook = [&](ConnectionId id, ByteView) {
    if (server.log(id).received.size() % 2 == 0) server.transport.send(id, to_bytes("!"));
  };
  auto [client_id, server_id] = connect(client, server, *bound);
  ASSERT_NE(client_id, 0u);
  const auto started = Clock::now();
  for (int round = 1; round <= kRounds; ++round) {
    client.transport.send(client_id, to_bytes("a"));
    ASSERT_TRUE(run_until(loop, [&] { return client.transport.queued_bytes(client_id) == 0; }));
    client.transport.send(client_id, to_bytes("b"));
    ASSERT_TRUE(
        run_until(loop, [&] { return client.log(client_id).received.size() == static_cast<std::size_t>(round); }));
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::printf("%d write-write-read rounds took %lld ms\n", kRounds, static_cast<long long>(elapsed.count()));
  EXPECT_LT(elapsed, 1000ms);
}

TEST_F(StreamTransportTest, Ipv6Loopback) {
  {
    boost::system::error_code error;
    tcp::acceptor probe(loop.context());
    probe.open(tcp::v6(), error);
    if (!error) probe.bind(tcp::endpoint(boost::asio::ip::make_address("::1"), 0), error);
    if (error) {
      std::printf("IPv6 loopback ::1 is not configured here (%s): skipping\n", error.message().c_str());
      GTEST_SKIP() << "IPv6 loopback ::1 is not configured: " << error.message();
    }
  }
  echo_both_directions("/ip6/::1/tcp/0", Transport::tcp);
  echo_both_directions("/ip6/::1/tcp/0/ws", Transport::websocket);
}

}  // namespace
}  // namespace taho::runtime::asio
