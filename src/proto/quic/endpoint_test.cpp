#include "proto/quic/endpoint.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <set>

#include "proto/quic/endpoint_pair.hpp"
#include "proto/quic/stream_buffers.hpp"
#include "proto/tls/verify.hpp"

namespace taho::quic {
namespace {

using namespace std::chrono_literals;
using testing::EndpointPair;

// Dials client -> server and runs until both report the outcome.
bool handshake(EndpointPair& pair, std::optional<PeerId> expected = std::nullopt,
               ConnectionHandle* handle = nullptr) {
  auto dialed = pair.client.endpoint->connect(pair.now, pair.server.address, expected.value_or(pair.server.id()));
  EXPECT_TRUE(dialed) << (dialed ? "" : dialed.error().text);
  if (!dialed) return false;
  if (handle != nullptr) *handle = *dialed;
  return pair.run_until([&] { return pair.has<Connected>(pair.client) && pair.has<Connected>(pair.server); }, 5s);
}

Bytes pattern(std::size_t size, std::uint8_t seed) {
  Bytes bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>((i * 31 + seed) ^ (i >> 8));
  return bytes;
}

std::string closed_reason(EndpointPair& pair, EndpointPair::Side& side) {
  auto closed = pair.take<ConnectionClosed>(side);
  return closed.empty() ? std::string("(not closed)") : closed.front().reason;
}

TEST(QuicStreamBuffers, SendBufferKeepsBytesUntilAcknowledged) {
  SendBuffer buffer;
  buffer.push(pattern(10, 1));
  buffer.push(pattern(5, 2));
  std::array<ByteView, 4> views;
  ASSERT_EQ(buffer.unsent_views(views), 2u);
  buffer.mark_sent(12);
  EXPECT_EQ(buffer.unsent(), 3u);
  ASSERT_EQ(buffer.unsent_views(views), 1u);
  EXPECT_EQ(views[0].size(), 3u);
  buffer.acknowledge_until(9);  // first chunk not fully acknowledged: it stays put
  EXPECT_EQ(buffer.buffered(), 6u);
  buffer.push(pattern(100, 3));
  buffer.mark_sent(0);
  ASSERT_EQ(buffer.unsent_views(views), 2u);
  buffer.acknowledge_until(10);
  EXPECT_EQ(buffer.buffered(), 105u);

  ReceiveBuffer receive;
  const Bytes first = pattern(7, 1);
  receive.push(first);
  receive.push(pattern(7, 2));
  EXPECT_EQ(receive.take(5), Bytes(first.begin(), first.begin() + 5));
  EXPECT_EQ(receive.size(), 9u);
  EXPECT_EQ(receive.take(100).size(), 9u);
  EXPECT_TRUE(receive.empty());
}

TEST(QuicUdpAddress, ConvertsQuicMultiaddrs) {
  auto address = Multiaddr::parse("/ip4/127.0.0.1/udp/4001/quic-v1");
  ASSERT_TRUE(address);
  auto udp = UdpAddress::from_multiaddr(*address);
  ASSERT_TRUE(udp);
  EXPECT_EQ(udp->port, 4001);
  EXPECT_EQ(udp->to_string(), "127.0.0.1:4001");
  EXPECT_EQ(udp->to_quic_multiaddr().to_string(), "/ip4/127.0.0.1/udp/4001/quic-v1");
  EXPECT_FALSE(UdpAddress::from_multiaddr(*Multiaddr::parse("/ip4/127.0.0.1/tcp/4001")));
  auto six = UdpAddress::from_multiaddr(*Multiaddr::parse("/ip6/::1/udp/5/quic-v1"));
  ASSERT_TRUE(six);
  EXPECT_EQ(six->to_quic_multiaddr().to_string(), "/ip6/::1/udp/5/quic-v1");
}

TEST(QuicCertificate, CarriesAVerifiableLibp2pExtension) {
  const auto host = testing::host_key(5);
  auto certificate = generate_certificate(host);
  ASSERT_TRUE(certificate) << certificate.error().text;
  crypto::OpenSslCryptoSuite suite;
  auto fields = tls::parse_certificate(certificate->der);
  ASSERT_TRUE(fields) << fields.error().detail;
  EXPECT_TRUE(fields->libp2p_extension_critical);
  auto peer = tls::verify_certificate(certificate->der, testing::unix_time_s, std::nullopt, suite);
  ASSERT_TRUE(peer) << peer.error().detail;
  EXPECT_EQ(peer->peer_id, PeerId::from_ed25519(host.public_key()));

  auto broken = generate_certificate(host, CertificateKind::bad_signature);
  ASSERT_TRUE(broken);
  EXPECT_EQ(tls::verify_certificate(broken->der, testing::unix_time_s, std::nullopt, suite).error().code,
            tls::Errc::bad_signature);
  auto bare = generate_certificate(host, CertificateKind::without_extension);
  ASSERT_TRUE(bare);
  EXPECT_EQ(tls::verify_certificate(bare->der, testing::unix_time_s, std::nullopt, suite).error().code,
            tls::Errc::missing_extension);
}

TEST(QuicEndpoint, HandshakeLearnsPeerIdsBothWays) {
  EndpointPair pair;
  const auto wall_start = std::chrono::steady_clock::now();
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  const auto client_connected = pair.take<Connected>(pair.client);
  const auto server_connected = pair.take<Connected>(pair.server);
  ASSERT_EQ(client_connected.size(), 1u);
  ASSERT_EQ(server_connected.size(), 1u);
  EXPECT_EQ(client_connected[0].connection, handle);
  EXPECT_EQ(client_connected[0].remote, pair.server.id());
  EXPECT_EQ(client_connected[0].remote_key, PublicKey::ed25519(pair.server.key.public_key()));
  EXPECT_FALSE(client_connected[0].inbound);
  EXPECT_EQ(server_connected[0].remote, pair.client.id());
  EXPECT_TRUE(server_connected[0].inbound);
  EXPECT_EQ(server_connected[0].remote_address, pair.client.address);
  auto info = pair.client.endpoint->connection_info(handle);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->remote, pair.server.id());
  EXPECT_EQ(pair.server.endpoint->stats().handshakes_completed, 1u);
  std::printf("[ figures  ] handshake: %.2f ms of CPU+wall in memory, %.1f ms virtual at 0.5 ms one-way latency\n",
              std::chrono::duration<double, std::milli>(wall).count(),
              std::chrono::duration<double, std::milli>(pair.now.since_start).count());
}

// Opens 64 streams from the client, has the server echo each, and checks
// every byte came back on the right stream.
void echo_sixty_four_streams(EndpointPair& pair, ConnectionHandle handle) {
  pair.collect();
  constexpr int stream_count = 64;
  constexpr std::size_t stream_bytes = 20'000;
  std::map<StreamId, Bytes> sent;
  for (int i = 0; i < stream_count; ++i) {
    auto stream = pair.client.endpoint->open_stream(handle);
    ASSERT_TRUE(stream) << stream.error().detail;
    Bytes data = pattern(stream_bytes, static_cast<std::uint8_t>(i));
    ASSERT_EQ(*pair.client.endpoint->write(handle, *stream, data), stream_bytes);
    ASSERT_TRUE(pair.client.endpoint->close_write(handle, *stream));
    sent[*stream] = std::move(data);
  }
  // The server echoes each stream back and closes it once the client's FIN arrived.
  std::map<StreamId, Bytes> echoed;
  std::set<StreamId> finished;
  auto& server = *pair.server.endpoint;
  auto& client = *pair.client.endpoint;
  std::size_t opened = 0;
  const bool done = pair.run_until([&] {
    for (auto& event : std::exchange(pair.server.events, {})) {
      if (std::holds_alternative<StreamOpened>(event)) ++opened;
      if (auto* readable = std::get_if<StreamReadable>(&event)) {
        auto read = server.read(readable->connection, readable->stream, 1 << 20);
        if (!read) continue;
        if (!read->data.empty()) EXPECT_EQ(*server.write(readable->connection, readable->stream, read->data), read->data.size());
        if (read->finished) EXPECT_TRUE(server.close_write(readable->connection, readable->stream));
      }
    }
    for (auto& event : std::exchange(pair.client.events, {})) {
      if (auto* readable = std::get_if<StreamReadable>(&event)) {
        auto read = client.read(readable->connection, readable->stream, 1 << 20);
        if (!read) continue;
        append(echoed[readable->stream], read->data);
        if (read->finished) finished.insert(readable->stream);
      }
    }
    return finished.size() == stream_count;
  }, 60s);
  ASSERT_TRUE(done) << "finished " << finished.size() << " of " << stream_count;
  EXPECT_EQ(opened, static_cast<std::size_t>(stream_count));
  for (const auto& [id, data] : sent) EXPECT_EQ(echoed[id], data) << "stream " << id;
}

TEST(QuicEndpoint, SixtyFourConcurrentStreamsEchoed) {
  EndpointPair pair;
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  echo_sixty_four_streams(pair, handle);
}

TEST(QuicEndpoint, StreamsSurviveFivePercentLoss) {
  EndpointPair pair;
  SeededRng loss(21);
  // Loss from the first packet on: the handshake and every stream recover
  // by retransmission (from the bytes our SendBuffer keeps until acked).
  std::size_t dropped = 0;
  pair.drop = [&](const Transmit&) {
    const bool lost = loss.next_u64() % 100 < 5;
    dropped += lost ? 1 : 0;
    return lost;
  };
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  echo_sixty_four_streams(pair, handle);
  EXPECT_GT(dropped, 20u);
}

TEST(QuicEndpoint, TenMebibyteStream) {
  EndpointPair pair;
  pair.latency = 50us;
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  pair.collect();
  pair.client.events.clear();
  pair.server.events.clear();
  constexpr std::size_t total = 10 * 1024 * 1024;
  const Bytes data = pattern(total, 9);
  auto stream = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(stream);
  std::size_t written = 0;
  Bytes received;
  received.reserve(total);
  bool finished = false;
  const auto write_more = [&] {
    while (written < total) {
      const std::size_t chunk = std::min<std::size_t>(256 * 1024, total - written);
      auto taken = pair.client.endpoint->write(handle, *stream, ByteView(data).subspan(written, chunk));
      if (!taken || *taken == 0) return;
      written += *taken;
    }
    (void)pair.client.endpoint->close_write(handle, *stream);
  };
  write_more();
  const auto wall_start = std::chrono::steady_clock::now();
  const bool done = pair.run_until([&] {
    for (auto& event : std::exchange(pair.client.events, {})) {
      if (std::holds_alternative<StreamWritable>(event) && written < total) write_more();
    }
    for (auto& event : std::exchange(pair.server.events, {})) {
      if (auto* readable = std::get_if<StreamReadable>(&event)) {
        while (true) {
          auto read = pair.server.endpoint->read(readable->connection, readable->stream, 1 << 20);
          if (!read) break;
          append(received, read->data);
          if (read->finished) finished = true;
          if (read->data.empty()) break;
        }
      }
    }
    return finished;
  }, 120s);
  const auto wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  ASSERT_TRUE(done) << "received " << received.size() << " of " << total;
  EXPECT_EQ(received.size(), total);
  EXPECT_TRUE(received == data);
  // The in-memory wire has no bandwidth limit: the figure is CPU cost
  // (ngtcp2 + AEAD both ways, both endpoints on one thread).
  std::printf("[ figures  ] 10 MiB on one stream: %.0f MiB/s wall, both endpoints on one thread\n", 10.0 / wall);
}

TEST(QuicEndpoint, IdleConnectionsTimeOutAndKeepAliveKeepsThemOpen) {
  Options quiet;
  quiet.idle_timeout = 3s;
  quiet.keep_alive_interval = Duration::zero();  // off
  EndpointPair idle(quiet, quiet);
  ASSERT_TRUE(handshake(idle));
  idle.run_until([&] { return idle.has<ConnectionClosed>(idle.client) && idle.has<ConnectionClosed>(idle.server); },
                 10s);
  EXPECT_EQ(closed_reason(idle, idle.client), "idle timeout");
  EXPECT_EQ(closed_reason(idle, idle.server), "idle timeout");
  EXPECT_EQ(idle.client.endpoint->connection_count(), 0u);
  EXPECT_EQ(idle.server.endpoint->connection_count(), 0u);

  Options alive = quiet;
  alive.keep_alive_interval = 1s;
  EndpointPair kept(alive, alive);
  ASSERT_TRUE(handshake(kept));
  kept.run_for(20s);
  EXPECT_FALSE(kept.has<ConnectionClosed>(kept.client));
  EXPECT_FALSE(kept.has<ConnectionClosed>(kept.server));
  EXPECT_EQ(kept.server.endpoint->connection_count(), 1u);
}

TEST(QuicEndpoint, GarbageDatagramsAreDroppedWithoutHarm) {
  EndpointPair pair;
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  SeededRng noise(77);
  const std::uint64_t dropped_before = pair.server.endpoint->stats().garbage_dropped;
  for (std::size_t size : {0u, 1u, 5u, 20u, 100u, 1200u, 1500u}) {
    Bytes junk(size);
    noise.fill(junk);
    pair.inject(pair.client, junk);
    if (size > 0) {
      junk[0] = 0x40;  // a short header for a connection id nobody issued
      pair.inject(pair.client, junk);
    }
  }
  // A long header with an unknown version, too short to deserve an answer.
  pair.inject(pair.client, Bytes{0xc0, 0x0a, 0x0a, 0x0a, 0x0a, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x00});
  pair.run_for(100ms);
  EXPECT_GT(pair.server.endpoint->stats().garbage_dropped, dropped_before + 8);
  // Random 1200+ byte datagrams may look like a first Initial of an unknown
  // version: those (and only those) get a Version Negotiation reply.
  const std::uint64_t negotiations = pair.server.endpoint->stats().version_negotiations_sent;
  EXPECT_LE(negotiations, 2u);
  Bytes unknown_version(1200, 0);
  const Bytes header{0xc0, 0x0a, 0x0a, 0x0a, 0x0a, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x08, 8, 7, 6, 5, 4, 3, 2, 1};
  std::copy(header.begin(), header.end(), unknown_version.begin());
  pair.inject(pair.client, unknown_version);
  pair.run_for(100ms);
  EXPECT_EQ(pair.server.endpoint->stats().version_negotiations_sent, negotiations + 1);
  EXPECT_EQ(pair.server.endpoint->connection_count(), 1u);
  EXPECT_FALSE(pair.has<ConnectionClosed>(pair.server));

  // The connection still works.
  auto stream = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(pair.client.endpoint->write(handle, *stream, as_bytes("still here")));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<StreamReadable>(pair.server); }, 2s));
}

TEST(QuicEndpoint, MutatedPacketsNeverHurt) {
  EndpointPair pair;
  std::vector<Bytes> captured;
  pair.drop = [&](const Transmit& transmit) {
    captured.push_back(transmit.bytes);
    return false;
  };
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  auto stream = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(pair.client.endpoint->write(handle, *stream, pattern(5000, 1)));
  pair.run_for(50ms);
  pair.drop = nullptr;
  ASSERT_GT(captured.size(), 4u);

  // Real packets with bits flipped, bytes cut off or junk appended, thrown
  // at both endpoints: AEAD and header checks must drop them all.
  SeededRng mutations(11);
  for (int round = 0; round < 3000; ++round) {
    Bytes packet = captured[mutations.next_u64() % captured.size()];
    switch (mutations.next_u64() % 3) {
      case 0:
        for (std::uint64_t flips = 1 + mutations.next_u64() % 4; flips > 0; --flips) {
          packet[mutations.next_u64() % packet.size()] ^= static_cast<std::uint8_t>(1u << (mutations.next_u64() % 8));
        }
        break;
      case 1: packet.resize(mutations.next_u64() % packet.size()); break;
      default: packet.resize(packet.size() + 1 + mutations.next_u64() % 64, 0xee); break;
    }
    auto& target = (round % 2) ? pair.server : pair.client;
    auto& source = (round % 2) ? pair.client : pair.server;
    target.endpoint->handle_datagram(pair.now, packet, source.address);
  }
  pair.run_for(100ms);
  // Mutated Initials may start (and fail) inbound handshakes on either
  // side; the established connection must not notice.
  for (const auto* side : {&pair.client, &pair.server}) {
    for (const auto& event : side->events) {
      if (const auto* closed = std::get_if<ConnectionClosed>(&event)) {
        EXPECT_FALSE(closed->was_connected) << closed->reason;
        EXPECT_NE(closed->connection, handle) << closed->reason;
      }
    }
  }
  auto info = pair.client.endpoint->connection_info(handle);
  EXPECT_TRUE(info);
  ASSERT_TRUE(pair.client.endpoint->write(handle, *stream, as_bytes("after the storm")));
  ASSERT_TRUE(pair.client.endpoint->close_write(handle, *stream));
  Bytes received;
  ASSERT_TRUE(pair.run_until([&] {
    for (auto& event : std::exchange(pair.server.events, {})) {
      if (auto* readable = std::get_if<StreamReadable>(&event)) {
        auto read = pair.server.endpoint->read(readable->connection, readable->stream, 1 << 20);
        if (read) {
          append(received, read->data);
          if (read->finished) return true;
        }
      }
    }
    return false;
  }, 5s));
  EXPECT_EQ(received.size(), 5000u + std::string_view("after the storm").size());
}

TEST(QuicEndpoint, RefusesACertificateWithABadSignature) {
  auto bad = generate_certificate(testing::host_key(2), CertificateKind::bad_signature);
  ASSERT_TRUE(bad);
  EndpointPair pair({}, {}, std::nullopt, std::move(*bad));
  ASSERT_TRUE(pair.client.endpoint->connect(pair.now, pair.server.address, pair.server.id()));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<ConnectionClosed>(pair.client); }, 5s));
  EXPECT_FALSE(pair.has<Connected>(pair.client));
  const std::string reason = closed_reason(pair, pair.client);
  EXPECT_NE(reason.find("handshake failed: bad_signature"), std::string::npos) << reason;
  pair.run_for(1s);
  EXPECT_FALSE(pair.has<Connected>(pair.server));
}

TEST(QuicEndpoint, ServerRefusesAClientCertificateWithoutTheExtension) {
  auto bare = generate_certificate(testing::host_key(1), CertificateKind::without_extension);
  ASSERT_TRUE(bare);
  EndpointPair pair({}, {}, std::move(*bare), std::nullopt);
  ASSERT_TRUE(pair.client.endpoint->connect(pair.now, pair.server.address, pair.server.id()));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<ConnectionClosed>(pair.server) && pair.has<ConnectionClosed>(pair.client); }, 5s));
  EXPECT_FALSE(pair.has<Connected>(pair.server));
  const std::string server_reason = closed_reason(pair, pair.server);
  EXPECT_NE(server_reason.find("handshake failed: missing_extension"), std::string::npos) << server_reason;
  // The client learns why from the CONNECTION_CLOSE (a TLS alert plus our reason phrase).
  const std::string client_reason = closed_reason(pair, pair.client);
  EXPECT_NE(client_reason.find("closed by peer: TLS alert"), std::string::npos) << client_reason;
  EXPECT_NE(client_reason.find("missing_extension"), std::string::npos) << client_reason;
  EXPECT_EQ(pair.server.endpoint->stats().handshakes_failed, 1u);
}

TEST(QuicEndpoint, RefusesAPeerOtherThanTheOneDialled) {
  EndpointPair pair;
  const PeerId someone_else = PeerId::from_ed25519(testing::host_key(3).public_key());
  ASSERT_TRUE(pair.client.endpoint->connect(pair.now, pair.server.address, someone_else));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<ConnectionClosed>(pair.client); }, 5s));
  EXPECT_FALSE(pair.has<Connected>(pair.client));
  const std::string reason = closed_reason(pair, pair.client);
  EXPECT_NE(reason.find("peer_id_mismatch"), std::string::npos) << reason;
  EXPECT_NE(reason.find(pair.server.id().to_string()), std::string::npos) << reason;
}

TEST(QuicEndpoint, CapsPendingInboundHandshakes) {
  Options server_options;
  server_options.pending_handshakes_max = 2;
  EndpointPair pair({}, server_options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pair.client.endpoint->connect(pair.now, pair.server.address, pair.server.id()));
  pair.flush();
  pair.run_for(2ms);  // one flight: the five Initials arrive
  EXPECT_EQ(pair.server.endpoint->connection_count(), 2u);
  EXPECT_EQ(pair.server.endpoint->stats().initials_refused_pending, 3u);
  // Clients retransmit; as handshakes finish, the rest get in.
  ASSERT_TRUE(pair.run_until([&] { return pair.take<Connected>(pair.client).size() >= 0 &&
                                          pair.server.endpoint->stats().handshakes_completed == 5; }, 20s));
}

TEST(QuicEndpoint, RetryValidatesTheClientAddressFirst) {
  Options always_retry;
  always_retry.retry_above_pending_handshakes = 0;
  EndpointPair pair({}, always_retry);
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  EXPECT_EQ(pair.server.endpoint->stats().retries_sent, 1u);
  EXPECT_EQ(pair.server.endpoint->stats().retry_tokens_refused, 0u);
  EXPECT_EQ(pair.take<Connected>(pair.server).front().remote, pair.client.id());
  // The connection behaves as any other.
  auto stream = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(pair.client.endpoint->write(handle, *stream, as_bytes("validated")));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<StreamReadable>(pair.server); }, 2s));
}

TEST(QuicEndpoint, StreamCreditFollowsTheLimitOnceAStreamCloses) {
  Options one_stream;
  one_stream.streams_per_connection_max = 1;
  EndpointPair pair({}, one_stream);
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  const ConnectionHandle server_handle = pair.take<Connected>(pair.server).front().connection;
  pair.take<StreamCredit>(pair.client);  // the initial limit may be reported too

  auto first = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(first);
  auto refused = pair.client.endpoint->open_stream(handle);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::stream_limit);

  // The server finishes the stream both ways; its slot is credited back.
  ASSERT_TRUE(pair.client.endpoint->write(handle, *first, as_bytes("one")));
  ASSERT_TRUE(pair.client.endpoint->close_write(handle, *first));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<StreamReadable>(pair.server); }, 2s));
  ASSERT_TRUE(pair.run_until(
      [&] {
        auto read = pair.server.endpoint->read(server_handle, *first, 1024);
        return read && read->finished;
      },
      2s));
  ASSERT_TRUE(pair.server.endpoint->close_write(server_handle, *first));
  ASSERT_TRUE(pair.run_until(
      [&] {
        (void)pair.client.endpoint->read(handle, *first, 1024);  // takes the server's FIN
        return pair.has<StreamCredit>(pair.client);
      },
      5s));
  EXPECT_EQ(pair.take<StreamCredit>(pair.client).front().connection, handle);
  auto second = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(second) << second.error().detail;
  EXPECT_NE(*second, *first);
}

TEST(QuicEndpoint, ResetAndCloseReachThePeer) {
  EndpointPair pair;
  ConnectionHandle handle = 0;
  ASSERT_TRUE(handshake(pair, std::nullopt, &handle));
  auto stream = pair.client.endpoint->open_stream(handle);
  ASSERT_TRUE(stream);
  ASSERT_TRUE(pair.client.endpoint->write(handle, *stream, as_bytes("hello")));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<StreamOpened>(pair.server); }, 2s));
  ASSERT_TRUE(pair.client.endpoint->reset_stream(handle, *stream, 7));
  ASSERT_TRUE(pair.run_until([&] { return pair.has<StreamReset>(pair.server); }, 2s));
  EXPECT_EQ(pair.take<StreamReset>(pair.server).front().error_code, 7u);

  pair.client.endpoint->close(handle, 3, "bye");
  ASSERT_TRUE(pair.run_until([&] { return pair.has<ConnectionClosed>(pair.server); }, 2s));
  EXPECT_EQ(closed_reason(pair, pair.server), "closed by peer: application error 3: bye");
  EXPECT_EQ(closed_reason(pair, pair.client), "closed locally");
  EXPECT_FALSE(pair.client.endpoint->open_stream(handle));
  pair.run_for(5s);
  EXPECT_EQ(pair.client.endpoint->connection_count(), 0u);
  EXPECT_EQ(pair.server.endpoint->connection_count(), 0u);
}

}  // namespace
}  // namespace taho::quic
