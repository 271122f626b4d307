#include "proto/autonat/server.hpp"

#include <gtest/gtest.h>

#include "proto/autonat/test_support.hpp"

namespace taho::autonat {
namespace {

using namespace std::chrono_literals;
using testing::address;
using testing::peer;

Message dial_of(const PeerId& requester, std::initializer_list<std::string_view> addrs) {
  std::vector<Bytes> raw;
  for (auto text : addrs) raw.push_back(address(text).bytes());
  return make_dial(requester.bytes(), raw);
}

const DialBack& expect_dial_back(const Decision& decision) {
  static const DialBack none;
  if (const auto* refusal = std::get_if<Refusal>(&decision)) {
    ADD_FAILURE() << "refused: " << refusal->text;
    return none;
  }
  return std::get<DialBack>(decision);
}

ResponseStatus refusal_status(const Decision& decision) {
  if (!std::holds_alternative<Refusal>(decision)) {
    ADD_FAILURE() << "expected a refusal";
    return ResponseStatus::ok;
  }
  return std::get<Refusal>(decision).status;
}

TEST(AutonatServer, DialsOnlyAddressesOnTheObservedIp) {
  Server server;
  const auto requester = peer(1);
  const auto decision = server.handle_request(
      Instant{}, requester, address("/ip4/1.2.3.4/tcp/50000"),
      dial_of(requester, {"/ip4/1.2.3.4/tcp/4001", "/ip4/5.6.7.8/tcp/4001", "/ip4/1.2.3.4/udp/4001/quic-v1",
                          "/ip4/1.2.3.4/tcp/4002/ws", "/dns4/example.com/tcp/4001", "/ip4/1.2.3.4/tcp/4001"}));
  const auto& dial_back = expect_dial_back(decision);
  ASSERT_EQ(dial_back.addrs.size(), 3u);  // the duplicate and the other IP and the DNS name are dropped
  EXPECT_EQ(dial_back.addrs[0], address("/ip4/1.2.3.4/tcp/4001"));
  EXPECT_EQ(dial_back.addrs[1], address("/ip4/1.2.3.4/udp/4001/quic-v1"));
  EXPECT_EQ(dial_back.addrs[2], address("/ip4/1.2.3.4/tcp/4002/ws"));
}

TEST(AutonatServer, StripsPeerIdAndHonoursCanDialAndAddressCap) {
  ServerOptions options;
  options.dial_addrs_max = 2;
  Server server(options);
  const auto requester = peer(1);
  const std::string with_id = "/ip4/1.2.3.4/tcp/1/p2p/" + requester.to_string();
  const auto decision = server.handle_request(
      Instant{}, requester, address("/ip4/1.2.3.4/tcp/9"),
      dial_of(requester, {with_id, "/ip4/1.2.3.4/udp/2/quic-v1", "/ip4/1.2.3.4/tcp/3", "/ip4/1.2.3.4/tcp/4"}),
      [](const Multiaddr& addr) { return addr.has(multiaddr::Protocol::tcp); });
  const auto& dial_back = expect_dial_back(decision);
  ASSERT_EQ(dial_back.addrs.size(), 2u);
  EXPECT_EQ(dial_back.addrs[0], address("/ip4/1.2.3.4/tcp/1"));
  EXPECT_EQ(dial_back.addrs[1], address("/ip4/1.2.3.4/tcp/3"));
}

TEST(AutonatServer, SkipsTheObservedQuicFlowItself) {
  Server server;
  const auto requester = peer(1);
  const auto observed = address("/ip4/1.2.3.4/udp/4001/quic-v1");
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, observed,
                                                 dial_of(requester, {"/ip4/1.2.3.4/udp/4001/quic-v1"}))),
            ResponseStatus::dial_refused);
  const auto decision = server.handle_request(
      Instant{}, requester, observed,
      dial_of(requester, {"/ip4/1.2.3.4/udp/4001/quic-v1", "/ip4/1.2.3.4/udp/4002/quic-v1", "/ip4/1.2.3.4/tcp/4001"}));
  const auto& dial_back = expect_dial_back(decision);
  ASSERT_EQ(dial_back.addrs.size(), 2u);
  EXPECT_EQ(dial_back.addrs[0], address("/ip4/1.2.3.4/udp/4002/quic-v1"));
  // A TCP dial-back is a new flow (our ephemeral port): the observed address is fine.
  EXPECT_TRUE(std::holds_alternative<DialBack>(server.handle_request(
      Instant{}, peer(2), address("/ip4/1.2.3.4/tcp/4001"), dial_of(peer(2), {"/ip4/1.2.3.4/tcp/4001"}))));
}

TEST(AutonatServer, RefusesWhenNothingMatchesTheObservedIp) {
  Server server;
  const auto requester = peer(1);
  // Behind a NAT: we see the NAT's address, the request names LAN ones.
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, address("/ip4/203.0.113.1/tcp/3000"),
                                                 dial_of(requester, {"/ip4/192.168.1.5/tcp/4001"}))),
            ResponseStatus::dial_refused);
  // A relayed observed address has no IP of its own to match.
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, address("/ip4/1.2.3.4/tcp/1/p2p-circuit"),
                                                 dial_of(requester, {"/ip4/1.2.3.4/tcp/1/p2p-circuit"}))),
            ResponseStatus::dial_refused);
  EXPECT_EQ(server.stats().refused_addresses, 2u);
}

TEST(AutonatServer, RejectsMalformedRequests) {
  Server server;
  const auto requester = peer(1);
  const auto observed = address("/ip4/1.2.3.4/tcp/1");
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, observed,
                                                 make_response(ResponseStatus::ok, "OK"))),
            ResponseStatus::bad_request);
  Message no_peer;
  no_peer.type = MessageType::dial;
  no_peer.dial = Dial{};
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, observed, no_peer)), ResponseStatus::bad_request);
  // Asking for someone else's dial-back.
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, requester, observed,
                                                 dial_of(peer(2), {"/ip4/1.2.3.4/tcp/4001"}))),
            ResponseStatus::bad_request);
  // Unparseable address bytes are skipped, not fatal.
  auto garbage = make_dial(requester.bytes(), {Bytes{0xff, 0xff}, address("/ip4/1.2.3.4/tcp/4001").bytes()});
  EXPECT_EQ(expect_dial_back(server.handle_request(Instant{}, requester, observed, garbage)).addrs.size(), 1u);
  EXPECT_EQ(server.stats().bad_requests, 3u);
}

TEST(AutonatServer, RateLimitsPerPeerAndGlobally) {
  ServerOptions options;
  options.requests_per_peer_max = 2;
  options.requests_global_max = 3;
  options.rate_window = 10s;
  Server server(options);
  const auto observed = address("/ip4/1.2.3.4/tcp/1");
  auto ask = [&](const PeerId& requester, Instant now) {
    return server.handle_request(now, requester, observed, dial_of(requester, {"/ip4/1.2.3.4/tcp/4001"}));
  };
  const Instant t0{std::chrono::seconds(100)};
  EXPECT_TRUE(std::holds_alternative<DialBack>(ask(peer(1), t0)));
  EXPECT_TRUE(std::holds_alternative<DialBack>(ask(peer(1), t0 + 1s)));
  EXPECT_EQ(refusal_status(ask(peer(1), t0 + 2s)), ResponseStatus::dial_refused);  // per peer
  EXPECT_TRUE(std::holds_alternative<DialBack>(ask(peer(2), t0 + 2s)));
  EXPECT_EQ(refusal_status(ask(peer(3), t0 + 3s)), ResponseStatus::dial_refused);  // global
  EXPECT_EQ(server.stats().refused_rate, 2u);
  // The window slides: requests older than 10 s no longer count.
  EXPECT_TRUE(std::holds_alternative<DialBack>(ask(peer(3), t0 + 11s)));
  EXPECT_TRUE(std::holds_alternative<DialBack>(ask(peer(1), t0 + 12s)));
}

TEST(AutonatServer, BoundsTrackedPeers) {
  ServerOptions options;
  options.peers_tracked_max = 2;
  Server server(options);
  const auto observed = address("/ip4/1.2.3.4/tcp/1");
  for (std::uint8_t i = 1; i <= 2; ++i) {
    EXPECT_TRUE(std::holds_alternative<DialBack>(
        server.handle_request(Instant{}, peer(i), observed, dial_of(peer(i), {"/ip4/1.2.3.4/tcp/4001"}))));
  }
  EXPECT_EQ(refusal_status(server.handle_request(Instant{}, peer(3), observed,
                                                 dial_of(peer(3), {"/ip4/1.2.3.4/tcp/4001"}))),
            ResponseStatus::dial_refused);
}

TEST(AutonatServer, ShapesAndResponses) {
  EXPECT_TRUE(is_dial_back_shape(address("/ip6/::1/tcp/1")));
  EXPECT_TRUE(is_dial_back_shape(address("/ip4/1.1.1.1/udp/1/quic-v1")));
  EXPECT_FALSE(is_dial_back_shape(address("/ip4/1.1.1.1/udp/1")));
  EXPECT_FALSE(is_dial_back_shape(address("/ip4/1.1.1.1/tcp/1/wss")));
  EXPECT_FALSE(is_dial_back_shape(address("/dns/a.b/tcp/1")));
  const auto ok = response_ok(address("/ip4/1.1.1.1/tcp/1"));
  EXPECT_EQ(ok.dial_response->status, ResponseStatus::ok);
  EXPECT_EQ(ok.dial_response->addr, address("/ip4/1.1.1.1/tcp/1").bytes());
  EXPECT_EQ(response_dial_error("x").dial_response->status, ResponseStatus::dial_error);
  EXPECT_EQ(response_for(Refusal{ResponseStatus::bad_request, "y"}).dial_response->status_text, "y");
}

}  // namespace
}  // namespace taho::autonat
