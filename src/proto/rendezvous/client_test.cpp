#include "proto/rendezvous/client.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/seeded_rng.hpp"
#include "proto/identify/envelope.hpp"
#include "proto/rendezvous/server.hpp"
#include "proto/rendezvous/test_support.hpp"

namespace taho::rendezvous {
namespace {

using namespace std::chrono_literals;
using testing::TestPeer;

const Instant t0{std::chrono::hours(5)};

Message discover_response(std::vector<Register> registrations, Bytes cookie = to_bytes("12345678")) {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{.registrations = std::move(registrations), .cookie = std::move(cookie)};
  return message;
}

Message register_response(RegisterResponse body) {
  Message message;
  message.type = MessageType::register_response;
  message.register_response = std::move(body);
  return message;
}

TEST(RendezvousClient, BuildsRequests) {
  const TestPeer alice = TestPeer::make(1);
  const auto registration = make_register(alice.record, "my-app", 3h);
  ASSERT_TRUE(registration);
  EXPECT_EQ(registration->type, MessageType::register_request);
  EXPECT_EQ(registration->register_request->ns, "my-app");
  EXPECT_EQ(registration->register_request->signed_peer_record, alice.record);
  EXPECT_EQ(registration->register_request->ttl_seconds, 10800u);
  EXPECT_FALSE(make_register(alice.record, "my-app")->register_request->ttl_seconds);

  const auto unregister = make_unregister("my-app");
  ASSERT_TRUE(unregister);
  EXPECT_EQ(unregister->type, MessageType::unregister);
  EXPECT_EQ(unregister->unregister->ns, "my-app");

  const auto discover = make_discover("my-app", 10, to_bytes("cookie"));
  ASSERT_TRUE(discover);
  EXPECT_EQ(discover->type, MessageType::discover);
  EXPECT_EQ(discover->discover->limit, 10u);
  EXPECT_EQ(discover->discover->cookie, to_bytes("cookie"));
  EXPECT_TRUE(make_discover(""));  // every namespace
}

TEST(RendezvousClient, RefusesToBuildInvalidRequests) {
  const TestPeer alice = TestPeer::make(1);
  for (const std::string& ns : {std::string(), std::string(256, 'x'), std::string("\xff")}) {
    const auto registration = make_register(alice.record, ns);
    ASSERT_FALSE(registration);
    EXPECT_EQ(registration.error().code, Errc::bad_argument);
    EXPECT_FALSE(make_unregister(ns));
  }
  EXPECT_FALSE(make_register({}, "my-app"));
  EXPECT_FALSE(make_register(Bytes(Limits{}.signed_peer_record_bytes_max + 1, 1), "my-app"));
  EXPECT_FALSE(make_register(alice.record, "my-app", -1s));
  EXPECT_FALSE(make_discover(std::string(256, 'x')));
  EXPECT_FALSE(make_discover("my-app", std::nullopt, Bytes(Limits{}.cookie_bytes_max + 1, 1)));
}

TEST(RendezvousClient, ReadsRegisterResponses) {
  auto granted = read_register_response(register_response({.status = ResponseStatus::ok, .ttl_seconds = 3600}));
  ASSERT_TRUE(granted);
  EXPECT_EQ(*granted, 1h);
  // No TTL: the spec's default. Beyond 72 h: capped.
  EXPECT_EQ(*read_register_response(register_response({})), default_ttl);
  EXPECT_EQ(*read_register_response(register_response({.ttl_seconds = 1'000'000'000})), ttl_cap);

  const auto refused = read_register_response(
      register_response({.status = ResponseStatus::invalid_ttl, .status_text = "too short"}));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::invalid_ttl);
  EXPECT_EQ(refused.error().detail, "E_INVALID_TTL: too short");

  const auto unknown = read_register_response(register_response({.status = static_cast<ResponseStatus>(104)}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, Errc::unknown_status);

  const auto wrong = read_register_response(discover_response({}));
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::bad_response);
  Message no_body;
  no_body.type = MessageType::register_response;
  EXPECT_EQ(read_register_response(no_body).error().code, Errc::bad_response);
}

TEST(RendezvousClient, MapsEveryStatusToItsCode) {
  const std::vector<std::pair<ResponseStatus, Errc>> pairs = {
      {ResponseStatus::invalid_namespace, Errc::invalid_namespace},
      {ResponseStatus::invalid_signed_peer_record, Errc::invalid_signed_peer_record},
      {ResponseStatus::invalid_ttl, Errc::invalid_ttl},
      {ResponseStatus::invalid_cookie, Errc::invalid_cookie},
      {ResponseStatus::not_authorized, Errc::not_authorized},
      {ResponseStatus::internal_error, Errc::internal_error},
      {ResponseStatus::unavailable, Errc::unavailable},
  };
  for (const auto& [status, code] : pairs) EXPECT_EQ(refusal(status, "").code, code) << to_string(status);
}

TEST(RendezvousClient, ReadsDiscoverResponsesAndDropsBadRecords) {
  const TestPeer alice = TestPeer::make(1);
  const TestPeer bob = TestPeer::make(2, 42);
  auto tampered_envelope = identify::decode_envelope(bob.record);
  ASSERT_TRUE(tampered_envelope);
  tampered_envelope->payload.back() ^= 1;
  const Bytes tampered = identify::encode_envelope(*tampered_envelope);
  const Bytes not_a_peer_record =
      identify::encode_envelope(identify::seal_envelope(alice.key, "other", to_bytes("/x"), to_bytes("y")));

  const Message response = discover_response({
      Register{.ns = "my-app", .signed_peer_record = alice.record, .ttl_seconds = 600},
      Register{.ns = "my-app", .signed_peer_record = tampered, .ttl_seconds = 600},
      Register{.ns = "my-app", .signed_peer_record = not_a_peer_record, .ttl_seconds = 600},
      Register{.ns = "my-app", .signed_peer_record = to_bytes("garbage"), .ttl_seconds = 600},
      Register{.ns = "their-app", .signed_peer_record = alice.record, .ttl_seconds = 600},  // not what we asked
      Register{.ns = "my-app", .signed_peer_record = bob.record, .ttl_seconds = std::nullopt},
  });
  const auto result = read_discover_response(response, "my-app");
  ASSERT_TRUE(result) << result.error().detail;
  EXPECT_EQ(result->rejected_registrations, 4u);
  EXPECT_EQ(result->cookie, to_bytes("12345678"));
  ASSERT_EQ(result->registrations.size(), 2u);
  const Registration& first = result->registrations[0];
  EXPECT_EQ(first.ns, "my-app");
  EXPECT_EQ(first.peer, alice.id);
  EXPECT_EQ(first.addrs, alice.addrs);
  EXPECT_EQ(first.ttl, 600s);
  EXPECT_EQ(first.signed_peer_record, alice.record);
  EXPECT_EQ(result->registrations[1].peer, bob.id);
  EXPECT_EQ(result->registrations[1].record_seq, 42u);
  EXPECT_EQ(result->registrations[1].ttl, default_ttl);

  // Asking for every namespace accepts any valid one.
  const auto all = read_discover_response(response, "");
  ASSERT_TRUE(all);
  EXPECT_EQ(all->registrations.size(), 3u);
}

TEST(RendezvousClient, ReadsDiscoverRefusals) {
  Message refused;
  refused.type = MessageType::discover_response;
  refused.discover_response = DiscoverResponse{.status = ResponseStatus::invalid_cookie};
  const auto result = read_discover_response(refused, "my-app");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::invalid_cookie);
  EXPECT_EQ(read_discover_response(register_response({}), "my-app").error().code, Errc::bad_response);
}

// Client helpers against a real point, through the wire encoding.
TEST(RendezvousClient, TalksToAServer) {
  SeededRng rng{1};
  Server server(rng);
  const TestPeer alice = TestPeer::make(1);
  const TestPeer dave = TestPeer::make(4);
  auto exchange = [&](const PeerId& sender, const Message& request) {
    const auto wire_request = decode_message(encode_message(request));
    EXPECT_TRUE(wire_request);
    auto reply = server.handle_request(t0, sender, *wire_request);
    EXPECT_TRUE(reply && *reply);
    return *decode_message(encode_message(**reply));
  };
  const auto granted = read_register_response(exchange(alice.id, *make_register(alice.record, "my-app", 4h)));
  ASSERT_TRUE(granted);
  EXPECT_EQ(*granted, 4h);

  const auto found = read_discover_response(exchange(dave.id, *make_discover("my-app")), "my-app");
  ASSERT_TRUE(found);
  ASSERT_EQ(found->registrations.size(), 1u);
  EXPECT_EQ(found->registrations[0].peer, alice.id);
  EXPECT_EQ(found->registrations[0].addrs, alice.addrs);

  const auto again = read_discover_response(exchange(dave.id, *make_discover("my-app", std::nullopt, found->cookie)), "my-app");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->registrations.empty());

  const auto refused = read_register_response(exchange(dave.id, *make_register(alice.record, "my-app")));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::not_authorized);
}

}  // namespace
}  // namespace taho::rendezvous
