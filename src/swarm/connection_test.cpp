#include "swarm/connection.hpp"

#include <gtest/gtest.h>

#include "base/seeded_rng.hpp"

namespace taho::swarm {
namespace {

using namespace std::chrono_literals;

constexpr const char* kEcho = "/test/echo/1.0.0";

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

// Two connections joined back to back, with an optional byte-level tamper
// hook and a fragment size, on a virtual clock.
class Pair {
 public:
  explicit Pair(ConnectionOptions dialer_options = {}, ConnectionOptions listener_options = {},
                std::size_t fragment = 0)
      : rng_(7), fragment_(fragment) {
    dialer_options.direction = Direction::outbound;
    dialer_options.identity = key_from(1);
    listener_options.direction = Direction::inbound;
    listener_options.identity = key_from(2);
    if (listener_options.inbound_protocols.empty()) listener_options.inbound_protocols = {kEcho};
    dialer.emplace(now, std::move(dialer_options), suite_, rng_);
    listener.emplace(now, std::move(listener_options), suite_, rng_);
  }

  // Moves bytes both ways until nothing moves.
  void run() {
    for (int round = 0; round < 10000; ++round) {
      bool moved = move(*dialer, *listener, to_listener_tamper);
      moved |= move(*listener, *dialer, nullptr);
      if (!moved) return;
    }
    FAIL() << "pair did not settle";
  }

  std::vector<ConnectionEvent> events(Connection& c) {
    std::vector<ConnectionEvent> all;
    while (auto e = c.poll_event()) all.push_back(std::move(*e));
    return all;
  }

  Instant now{};
  std::optional<Connection> dialer;
  std::optional<Connection> listener;
  std::function<void(Bytes&)> to_listener_tamper;

 private:
  bool move(Connection& from, Connection& to, const std::function<void(Bytes&)>& tamper) {
    auto bytes = from.poll_transmit();
    if (!bytes) return false;
    if (tamper) tamper(*bytes);
    if (fragment_ == 0) {
      to.handle_input(now, *bytes);
    } else {
      for (std::size_t i = 0; i < bytes->size(); i += fragment_) {
        to.handle_input(now, ByteView(*bytes).subspan(i, std::min(fragment_, bytes->size() - i)));
      }
    }
    return true;
  }

  crypto::OpenSslCryptoSuite suite_;
  SeededRng rng_;
  std::size_t fragment_;
};

template <class E>
std::vector<E> of_type(const std::vector<ConnectionEvent>& events) {
  std::vector<E> found;
  for (const auto& e : events) {
    if (auto* match = std::get_if<E>(&e)) found.push_back(*match);
  }
  return found;
}

TEST(Connection, UpgradesAndAuthenticatesBothSides) {
  Pair pair;
  pair.run();
  ASSERT_TRUE(pair.dialer->is_established());
  ASSERT_TRUE(pair.listener->is_established());
  auto dialer_events = of_type<event::Established>(pair.events(*pair.dialer));
  auto listener_events = of_type<event::Established>(pair.events(*pair.listener));
  ASSERT_EQ(dialer_events.size(), 1u);
  ASSERT_EQ(listener_events.size(), 1u);
  EXPECT_EQ(dialer_events[0].peer, PeerId::from_ed25519(key_from(2).public_key()));
  EXPECT_EQ(listener_events[0].peer, PeerId::from_ed25519(key_from(1).public_key()));
  EXPECT_TRUE(dialer_events[0].early_muxer);
}

TEST(Connection, NegotiatesTheMuxerWithMultistreamWithoutTheExtension) {
  ConnectionOptions no_early;
  no_early.early_muxer_negotiation = false;
  Pair pair(no_early, {}, /*fragment=*/1);
  pair.run();
  ASSERT_TRUE(pair.dialer->is_established());
  ASSERT_TRUE(pair.listener->is_established());
  auto established = of_type<event::Established>(pair.events(*pair.dialer));
  ASSERT_EQ(established.size(), 1u);
  EXPECT_FALSE(established[0].early_muxer);
}

TEST(Connection, StreamsNegotiateAndCarryDataBothWays) {
  Pair pair({}, {}, /*fragment=*/3);
  pair.run();
  pair.events(*pair.dialer);
  pair.events(*pair.listener);

  ASSERT_TRUE(pair.dialer->open_stream(pair.now, kEcho, 42));
  pair.run();
  auto listener_ready = of_type<event::StreamReady>(pair.events(*pair.listener));
  ASSERT_EQ(listener_ready.size(), 1u);
  EXPECT_EQ(listener_ready[0].protocol, kEcho);
  EXPECT_EQ(listener_ready[0].direction, Direction::inbound);
  auto dialer_ready = of_type<event::StreamReady>(pair.events(*pair.dialer));
  ASSERT_EQ(dialer_ready.size(), 1u);
  EXPECT_EQ(dialer_ready[0].tag, 42u);

  Bytes message(300'000);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 7);
  std::size_t sent = 0;
  Bytes received;
  for (int round = 0; round < 1000 && received.size() < message.size(); ++round) {
    if (sent < message.size()) {
      auto n = pair.dialer->write(dialer_ready[0].stream, ByteView(message).subspan(sent));
      ASSERT_TRUE(n);
      sent += *n;
    }
    pair.run();
    auto chunk = pair.listener->read(listener_ready[0].stream, 1 << 20);
    ASSERT_TRUE(chunk);
    append(received, chunk->data);
    pair.run();
  }
  EXPECT_EQ(received, message);

  ASSERT_TRUE(pair.dialer->close_write(dialer_ready[0].stream));
  pair.run();
  auto end = pair.listener->read(listener_ready[0].stream, 1024);
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->finished);
}

TEST(Connection, FirstStreamAfterAnIdleSpellGetsAFreshDeadline) {
  Pair pair;
  pair.run();
  pair.events(*pair.dialer);
  pair.now = Instant{std::chrono::seconds(60)};  // idle far beyond the negotiation timeout
  ASSERT_TRUE(pair.dialer->open_stream(pair.now, kEcho, 8));
  pair.dialer->handle_timeout(pair.now);
  pair.run();
  auto events = pair.events(*pair.dialer);
  EXPECT_TRUE(of_type<event::StreamFailed>(events).empty());
  EXPECT_EQ(of_type<event::StreamReady>(events).size(), 1u);
}

TEST(Connection, UnsupportedStreamProtocolFailsTheOpener) {
  Pair pair;
  pair.run();
  pair.events(*pair.dialer);
  ASSERT_TRUE(pair.dialer->open_stream(pair.now, "/not/supported/1.0.0", 9));
  pair.run();
  auto failed = of_type<event::StreamFailed>(pair.events(*pair.dialer));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].tag, 9u);
  EXPECT_TRUE(pair.dialer->is_established()) << "a refused stream leaves the connection up";
}

TEST(Connection, WrongExpectedPeerFailsTheHandshake) {
  ConnectionOptions dialer_options;
  dialer_options.expected_peer = PeerId::from_ed25519(key_from(3).public_key());
  Pair pair(dialer_options);
  pair.run();
  auto closed = of_type<event::Closed>(pair.events(*pair.dialer));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, ConnectionErrc::security_handshake);
  EXPECT_FALSE(pair.dialer->is_established());
}

TEST(Connection, TamperedHandshakeBytesAreDetected) {
  Pair pair;
  int frames = 0;
  pair.to_listener_tamper = [&frames](Bytes& bytes) {
    // Dialer flights: multistream, Noise message 1, Noise message 3 (the
    // encrypted identity): flip one bit in the third.
    if (++frames == 3) bytes[bytes.size() - 5] ^= 0x01;
  };
  pair.run();
  auto closed = of_type<event::Closed>(pair.events(*pair.listener));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, ConnectionErrc::security_handshake);
}

TEST(Connection, GarbageInsteadOfMultistreamIsRefused) {
  ConnectionOptions listener_options;
  listener_options.direction = Direction::inbound;
  listener_options.identity = key_from(2);
  crypto::OpenSslCryptoSuite suite;
  SeededRng rng(1);
  Connection listener(Instant{}, listener_options, suite, rng);
  // A length-prefixed message without the newline multistream requires.
  listener.handle_input(Instant{}, as_bytes("\x03" "abc"));
  bool closed = false;
  while (auto e = listener.poll_event()) closed |= std::holds_alternative<event::Closed>(*e);
  EXPECT_TRUE(closed);
  EXPECT_TRUE(listener.is_closed());
}

TEST(Connection, StalledUpgradeTimesOut) {
  ConnectionOptions listener_options;
  listener_options.direction = Direction::inbound;
  listener_options.identity = key_from(2);
  listener_options.upgrade_timeout = 5s;
  crypto::OpenSslCryptoSuite suite;
  SeededRng rng(1);
  Connection listener(Instant{}, listener_options, suite, rng);
  ASSERT_TRUE(listener.next_timeout());
  EXPECT_EQ(listener.next_timeout()->since_start, 5s);
  listener.handle_timeout(Instant{4s});
  EXPECT_FALSE(listener.is_closed());
  listener.handle_timeout(Instant{5s});
  EXPECT_TRUE(listener.is_closed());
  auto e = listener.poll_event();
  ASSERT_TRUE(e);
  ASSERT_TRUE(std::holds_alternative<event::Closed>(*e));
  EXPECT_EQ(std::get<event::Closed>(*e).error.code, ConnectionErrc::upgrade_timeout);
}

TEST(Connection, StreamNegotiationTimesOutWhenThePeerNeverAnswers) {
  Pair pair;
  pair.run();
  pair.events(*pair.dialer);
  ASSERT_TRUE(pair.dialer->open_stream(pair.now, kEcho, 5));
  // Do not deliver anything: the listener never sees the proposal.
  auto deadline = pair.dialer->next_timeout();
  ASSERT_TRUE(deadline);
  pair.dialer->handle_timeout(Instant{11s});
  auto failed = of_type<event::StreamFailed>(pair.events(*pair.dialer));
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].tag, 5u);
}

}  // namespace
}  // namespace taho::swarm
