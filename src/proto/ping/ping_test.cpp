#include "proto/ping/ping.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <variant>

namespace taho::ping {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Deterministic bytes: 0, 1, 2, ... continuing across calls.
class CountingRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = next_++;
  }

 private:
  std::uint8_t next_ = 0;
};

Instant at(Duration since_start) { return Instant{since_start}; }

Bytes expected_payload(std::uint8_t first) {
  Bytes payload(payload_bytes);
  for (std::size_t i = 0; i < payload_bytes; ++i) payload[i] = static_cast<std::uint8_t>(first + i);
  return payload;
}

Duration pong_rtt(Dialer& dialer) {
  auto event = dialer.poll_event();
  EXPECT_TRUE(event);
  if (!event) return Duration{-1};
  const auto* pong = std::get_if<Pong>(&*event);
  EXPECT_TRUE(pong) << "expected a pong, got: " << std::get<Failed>(*event).error.detail;
  return pong ? pong->rtt : Duration{-1};
}

Errc failure(Dialer& dialer) {
  auto event = dialer.poll_event();
  EXPECT_TRUE(event);
  const auto* failed = event ? std::get_if<Failed>(&*event) : nullptr;
  EXPECT_TRUE(failed);
  return failed ? failed->error.code : Errc::busy;
}

TEST(PingDialer, SendsRandomPayloadAndMeasuresRttFromInjectedTimes) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(100)), rng));
  const auto sent = dialer.poll_transmit();
  ASSERT_TRUE(sent);
  EXPECT_EQ(*sent, expected_payload(0));
  EXPECT_FALSE(dialer.poll_transmit());
  EXPECT_EQ(dialer.next_timeout(), at(seconds(110)));

  dialer.handle_data(at(seconds(100) + milliseconds(37)), *sent);
  EXPECT_EQ(pong_rtt(dialer), milliseconds(37));
  EXPECT_FALSE(dialer.poll_event());
  EXPECT_FALSE(dialer.next_timeout());
}

TEST(PingDialer, AcceptsTheEchoOneByteAtATime) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(1)), rng));
  const Bytes sent = *dialer.poll_transmit();
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_FALSE(dialer.poll_event()) << i;
    dialer.handle_data(at(seconds(1) + milliseconds(i)), ByteView(&sent[i], 1));
  }
  EXPECT_EQ(pong_rtt(dialer), milliseconds(payload_bytes - 1));  // timed by the last byte
}

TEST(PingDialer, RunsSeveralPingsOnOneStream) {
  CountingRng rng;
  Dialer dialer;
  for (int round = 0; round < 3; ++round) {
    const Instant start = at(seconds(10 * round));
    ASSERT_TRUE(dialer.ping(start, rng));
    const Bytes sent = *dialer.poll_transmit();
    EXPECT_EQ(sent, expected_payload(static_cast<std::uint8_t>(round * payload_bytes)));
    dialer.handle_data(start + milliseconds(round + 1), sent);
    EXPECT_EQ(pong_rtt(dialer), milliseconds(round + 1));
  }
}

TEST(PingDialer, RefusesASecondPingWhileOneIsInFlight) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(0)), rng));
  const auto again = dialer.ping(at(seconds(1)), rng);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::busy);
}

TEST(PingDialer, ReportsAMismatch) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(0)), rng));
  Bytes echo = *dialer.poll_transmit();
  echo[17] ^= 0x01;
  dialer.handle_data(at(milliseconds(5)), echo);
  EXPECT_EQ(failure(dialer), Errc::mismatch);
  EXPECT_TRUE(dialer.failed());
  const auto again = dialer.ping(at(seconds(1)), rng);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::busy);
}

TEST(PingDialer, TimesOutAtTheConfiguredDeadline) {
  CountingRng rng;
  Dialer dialer(Options{.timeout = seconds(3)});
  ASSERT_TRUE(dialer.ping(at(seconds(5)), rng));
  ASSERT_EQ(dialer.next_timeout(), at(seconds(8)));
  dialer.handle_timeout(at(seconds(8) - milliseconds(1)));  // early wake-ups do nothing
  EXPECT_FALSE(dialer.poll_event());
  dialer.handle_timeout(at(seconds(8)));
  EXPECT_EQ(failure(dialer), Errc::timeout);
  EXPECT_FALSE(dialer.next_timeout());
  // A late echo changes nothing.
  dialer.handle_data(at(seconds(9)), expected_payload(0));
  EXPECT_FALSE(dialer.poll_event());
}

TEST(PingDialer, ReportsAStreamThatEndsBeforeTheEcho) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(0)), rng));
  const Bytes sent = *dialer.poll_transmit();
  dialer.handle_data(at(milliseconds(1)), ByteView(sent).first(10));
  dialer.handle_end(at(milliseconds(2)));
  EXPECT_EQ(failure(dialer), Errc::stream_ended);
}

TEST(PingDialer, ReportsBytesNobodyAskedFor) {
  CountingRng rng;
  Dialer dialer;
  ASSERT_TRUE(dialer.ping(at(seconds(0)), rng));
  Bytes echo = *dialer.poll_transmit();
  echo.push_back(0xaa);  // one byte beyond the echo
  dialer.handle_data(at(milliseconds(1)), echo);
  EXPECT_EQ(pong_rtt(dialer), milliseconds(1));
  EXPECT_EQ(failure(dialer), Errc::unexpected_data);
}

TEST(PingDialer, AStreamThatEndsWhileIdleCanPingNoMore) {
  CountingRng rng;
  Dialer dialer;
  dialer.handle_end(at(seconds(0)));
  EXPECT_FALSE(dialer.poll_event());
  const auto started = dialer.ping(at(seconds(1)), rng);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, Errc::busy);
}

TEST(PingListener, EchoesEveryFullBlockAndHoldsPartialOnes) {
  Listener listener(at(seconds(0)));
  const Bytes one = expected_payload(0);
  const Bytes two = expected_payload(100);
  Bytes input = one;
  append(input, ByteView(two).first(20));
  listener.handle_data(at(seconds(1)), input);
  EXPECT_EQ(listener.poll_transmit(), one);
  EXPECT_FALSE(listener.poll_transmit());
  listener.handle_data(at(seconds(2)), ByteView(two).subspan(20));
  EXPECT_EQ(listener.poll_transmit(), two);
  listener.handle_end(at(seconds(3)));
  const auto event = listener.poll_event();
  ASSERT_TRUE(event);
  EXPECT_TRUE(std::holds_alternative<Finished>(*event));
  EXPECT_FALSE(listener.active());
}

TEST(PingListener, EchoesInputGivenOneByteAtATime) {
  Listener listener(at(seconds(0)));
  const Bytes block = expected_payload(7);
  Bytes echoed;
  for (const std::uint8_t byte : block) {
    listener.handle_data(at(seconds(1)), ByteView(&byte, 1));
    if (auto out = listener.poll_transmit()) append(echoed, *out);
  }
  EXPECT_EQ(echoed, block);
}

TEST(PingListener, PairsWithTheDialer) {
  CountingRng rng;
  Dialer dialer;
  Listener listener(at(seconds(0)));
  ASSERT_TRUE(dialer.ping(at(milliseconds(10)), rng));
  listener.handle_data(at(milliseconds(15)), *dialer.poll_transmit());
  dialer.handle_data(at(milliseconds(22)), *listener.poll_transmit());
  EXPECT_EQ(pong_rtt(dialer), milliseconds(12));
}

Errc listener_failure(Listener& listener) {
  auto event = listener.poll_event();
  EXPECT_TRUE(event);
  const auto* failed = event ? std::get_if<Failed>(&*event) : nullptr;
  EXPECT_TRUE(failed);
  return failed ? failed->error.code : Errc::busy;
}

TEST(PingListener, ReportsAStreamThatEndsInsideABlock) {
  Listener listener(at(seconds(0)));
  listener.handle_data(at(seconds(1)), ByteView(expected_payload(0)).first(31));
  listener.handle_end(at(seconds(2)));
  EXPECT_EQ(listener_failure(listener), Errc::stream_ended);
}

TEST(PingListener, GivesUpOnASilentStream) {
  Listener listener(at(seconds(0)), Options{.timeout = seconds(4)});
  listener.handle_data(at(seconds(3)), ByteView(expected_payload(0)).first(1));
  EXPECT_EQ(listener.next_timeout(), at(seconds(7)));  // counted from the last data
  listener.handle_timeout(at(seconds(6)));
  EXPECT_FALSE(listener.poll_event());
  listener.handle_timeout(at(seconds(7)));
  EXPECT_EQ(listener_failure(listener), Errc::timeout);
  EXPECT_FALSE(listener.next_timeout());
}

TEST(PingListener, RefusesAFloodOfBlocks) {
  Listener listener(at(seconds(0)));
  const Bytes flood((echo_backlog_bytes_max / payload_bytes + 1) * payload_bytes, 0x55);
  listener.handle_data(at(seconds(1)), flood);
  EXPECT_EQ(listener_failure(listener), Errc::echo_backlog);
  EXPECT_FALSE(listener.poll_transmit());

  // Exactly the backlog limit is fine when nothing was polled yet.
  Listener patient(at(seconds(0)));
  patient.handle_data(at(seconds(1)), Bytes(echo_backlog_bytes_max, 0x55));
  EXPECT_FALSE(patient.poll_event());
  EXPECT_EQ(patient.poll_transmit()->size(), echo_backlog_bytes_max);
}

TEST(PingLimits, MatchLibp2p) {
  EXPECT_EQ(payload_bytes, 32u);
  EXPECT_EQ(inbound_streams_per_connection_max, 2u);
  EXPECT_EQ(protocol_id, "/ipfs/ping/1.0.0");
}

}  // namespace
}  // namespace taho::ping
