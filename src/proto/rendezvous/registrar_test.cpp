#include "proto/rendezvous/registrar.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/seeded_rng.hpp"
#include "proto/rendezvous/server.hpp"
#include "proto/rendezvous/test_support.hpp"

namespace taho::rendezvous {
namespace {

using namespace std::chrono_literals;
using testing::TestPeer;

const Instant t0{std::chrono::hours(10)};

Message ok_register(std::uint64_t ttl_seconds) {
  Message message;
  message.type = MessageType::register_response;
  message.register_response = RegisterResponse{.status = ResponseStatus::ok, .ttl_seconds = ttl_seconds};
  return message;
}

Message refused_register(ResponseStatus status) {
  Message message;
  message.type = MessageType::register_response;
  message.register_response = RegisterResponse{.status = status};
  return message;
}

Message discover_reply(Bytes cookie, std::vector<Register> registrations = {}) {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{.registrations = std::move(registrations), .cookie = std::move(cookie)};
  return message;
}

Message refused_discover(ResponseStatus status) {
  Message message;
  message.type = MessageType::discover_response;
  message.discover_response = DiscoverResponse{.status = status};
  return message;
}

class RendezvousRegistrar : public ::testing::Test {
 protected:
  std::vector<OutboundRequest> drain_requests() {
    std::vector<OutboundRequest> requests;
    while (auto request = registrar.poll_request()) requests.push_back(std::move(*request));
    return requests;
  }
  std::vector<RegistrarEvent> drain_events() {
    std::vector<RegistrarEvent> events;
    while (auto event = registrar.poll_event()) events.push_back(std::move(*event));
    return events;
  }
  // The one REGISTER expected now.
  OutboundRequest expect_register(const std::string& ns) {
    auto requests = drain_requests();
    EXPECT_EQ(requests.size(), 1u);
    if (requests.empty()) return OutboundRequest{0, point.id, Message{}};
    EXPECT_EQ(requests[0].message.type, MessageType::register_request);
    EXPECT_EQ(requests[0].point, point.id);
    EXPECT_EQ(requests[0].message.register_request->ns, ns);
    return std::move(requests[0]);
  }

  Registrar registrar;
  TestPeer me = TestPeer::make(1);
  TestPeer point = TestPeer::make(50);
  TestPeer other_point = TestPeer::make(51);
};

TEST_F(RendezvousRegistrar, WaitsForARecordThenRegisters) {
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app", 3h));
  EXPECT_FALSE(registrar.poll_request());
  EXPECT_FALSE(registrar.next_timeout());

  registrar.set_signed_peer_record(t0, me.record);
  const OutboundRequest request = expect_register("my-app");
  EXPECT_EQ(request.message.register_request->signed_peer_record, me.record);
  EXPECT_EQ(request.message.register_request->ttl_seconds, 10800u);
  EXPECT_EQ(registrar.next_timeout(), t0 + 30s);  // the request's deadline

  registrar.handle_response(t0 + 1s, request.id, ok_register(10800));
  const auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  const auto* registered = std::get_if<Registered>(&events[0]);
  ASSERT_TRUE(registered);
  EXPECT_EQ(registered->point, point.id);
  EXPECT_EQ(registered->ns, "my-app");
  EXPECT_EQ(registered->ttl, 3h);
}

TEST_F(RendezvousRegistrar, RefreshesAtHalfTheGrantedTtl) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  auto request = expect_register("my-app");
  EXPECT_FALSE(request.message.register_request->ttl_seconds);  // the point's default
  registrar.handle_response(t0, request.id, ok_register(7200));
  EXPECT_EQ(registrar.next_timeout(), t0 + 1h);

  registrar.handle_timeout(t0 + (1h - 1s));
  EXPECT_FALSE(registrar.poll_request());
  registrar.handle_timeout(t0 + 1h);
  request = expect_register("my-app");
  // A point granting almost nothing does not make us spin.
  registrar.handle_response(t0 + 1h, request.id, ok_register(2));
  EXPECT_EQ(registrar.next_timeout(), t0 + 1h + 30s);
}

TEST_F(RendezvousRegistrar, RetriesWithBackoff) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  Instant now = t0;
  for (auto expected_backoff : {30s, 60s, 120s}) {
    const auto request = expect_register("my-app");
    registrar.handle_response(now, request.id, refused_register(ResponseStatus::unavailable));
    const auto events = drain_events();
    ASSERT_EQ(events.size(), 1u);
    const auto* failed = std::get_if<RegisterFailed>(&events[0]);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->error.code, Errc::unavailable);
    EXPECT_EQ(failed->retry_at, now + expected_backoff);
    EXPECT_EQ(registrar.next_timeout(), now + expected_backoff);
    now = now + expected_backoff;
    registrar.handle_timeout(now);
  }
  // Success resets the backoff.
  auto request = expect_register("my-app");
  registrar.handle_response(now, request.id, ok_register(7200));
  registrar.handle_timeout(now + 1h);
  request = expect_register("my-app");
  registrar.handle_failure(now + 1h, request.id, {Errc::truncated, "stream reset"});
  EXPECT_EQ(registrar.next_timeout(), now + 1h + 30s);
}

TEST_F(RendezvousRegistrar, CapsTheBackoff) {
  Registrar capped(RegistrarOptions{.retry_initial = 10s, .retry_max = 25s});
  capped.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(capped.add_registration(t0, point.id, "my-app"));
  Instant now = t0;
  std::vector<Instant> retries;
  for (int i = 0; i < 4; ++i) {
    const auto request = capped.poll_request();
    ASSERT_TRUE(request);
    capped.handle_failure(now, request->id, {Errc::truncated, "reset"});
    now = *capped.next_timeout();
    retries.push_back(now);
    capped.handle_timeout(now);
  }
  EXPECT_EQ(retries, (std::vector<Instant>{t0 + 10s, t0 + 30s, t0 + 55s, t0 + 80s}));
}

TEST_F(RendezvousRegistrar, TimesOutRequestsAndIgnoresLateResponses) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  const auto request = expect_register("my-app");
  registrar.handle_timeout(t0 + 30s);
  const auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<RegisterFailed>(events[0]).error.code, Errc::timed_out);
  registrar.handle_response(t0 + 31s, request.id, ok_register(7200));
  EXPECT_FALSE(registrar.poll_event());
  EXPECT_EQ(registrar.next_timeout(), t0 + 60s);  // the retry
}

TEST_F(RendezvousRegistrar, UnregistersOnRemoval) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  const auto request = expect_register("my-app");
  EXPECT_TRUE(registrar.remove_registration(point.id, "my-app"));
  EXPECT_FALSE(registrar.remove_registration(point.id, "my-app"));
  auto requests = drain_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].message.type, MessageType::unregister);
  EXPECT_EQ(requests[0].message.unregister->ns, "my-app");
  // The REGISTER sent before may land after the UNREGISTER: undo it again.
  registrar.handle_response(t0 + 1s, request.id, ok_register(7200));
  requests = drain_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].message.type, MessageType::unregister);
  EXPECT_FALSE(registrar.next_timeout());
  EXPECT_EQ(registrar.registration_count(), 0u);
}

TEST_F(RendezvousRegistrar, IgnoresTheAnswerToARegistrationRemovedAndAddedAgain) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  const auto first = expect_register("my-app");
  ASSERT_TRUE(registrar.remove_registration(point.id, "my-app"));
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  auto requests = drain_requests();
  ASSERT_EQ(requests.size(), 2u);  // UNREGISTER, then the new REGISTER
  EXPECT_EQ(requests[0].message.type, MessageType::unregister);
  const OutboundRequest second = requests[1];
  EXPECT_EQ(second.message.type, MessageType::register_request);

  registrar.handle_response(t0 + 1s, first.id, ok_register(7200));
  EXPECT_FALSE(registrar.poll_event());
  EXPECT_FALSE(registrar.poll_request());
  EXPECT_EQ(registrar.next_timeout(), t0 + 30s);  // still waiting for the second

  // Once more, with the stale request failing instead.
  ASSERT_TRUE(registrar.remove_registration(point.id, "my-app"));
  ASSERT_TRUE(registrar.add_registration(t0 + 1s, point.id, "my-app"));
  requests = drain_requests();
  ASSERT_EQ(requests.size(), 2u);
  const OutboundRequest third = requests[1];
  registrar.handle_failure(t0 + 1s, second.id, {Errc::truncated, "reset"});
  EXPECT_FALSE(registrar.poll_event());
  EXPECT_FALSE(registrar.poll_request());

  registrar.handle_response(t0 + 2s, third.id, ok_register(7200));
  const auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<Registered>(events[0]));
  EXPECT_EQ(registrar.next_timeout(), t0 + 2s + 1h);
}

TEST_F(RendezvousRegistrar, BoundsQueuedUnregisters) {
  Registrar small(RegistrarOptions{.unregisters_queued_max = 1});
  ASSERT_TRUE(small.add_registration(t0, point.id, "a"));
  ASSERT_TRUE(small.add_registration(t0, point.id, "b"));
  EXPECT_TRUE(small.remove_registration(point.id, "a"));
  EXPECT_TRUE(small.remove_registration(point.id, "b"));
  EXPECT_EQ(small.dropped_unregisters(), 1u);
  ASSERT_TRUE(small.poll_request());
  EXPECT_FALSE(small.poll_request());
}

TEST_F(RendezvousRegistrar, ReRegistersWhenTheRecordChanges) {
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "a"));
  ASSERT_TRUE(registrar.add_registration(t0, other_point.id, "b"));
  auto requests = drain_requests();
  ASSERT_EQ(requests.size(), 2u);
  registrar.handle_response(t0, requests[0].id, ok_register(7200));  // idle now; the other in flight

  const TestPeer moved = TestPeer::make(1, 2);
  registrar.set_signed_peer_record(t0 + 5s, moved.record);
  auto again = drain_requests();
  ASSERT_EQ(again.size(), 1u);  // the idle one, at once
  EXPECT_EQ(again[0].point, point.id);
  EXPECT_EQ(again[0].message.register_request->signed_peer_record, moved.record);

  // The one in flight re-registers as soon as its answer is in.
  registrar.handle_response(t0 + 6s, requests[1].id, ok_register(7200));
  again = drain_requests();
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].point, other_point.id);
  EXPECT_EQ(again[0].message.register_request->signed_peer_record, moved.record);
}

TEST_F(RendezvousRegistrar, BoundsRegistrationsAndChecksNamespaces) {
  Registrar small(RegistrarOptions{.registrations_max = 1});
  ASSERT_TRUE(small.add_registration(t0, point.id, "a"));
  ASSERT_TRUE(small.add_registration(t0, point.id, "a", 3h));  // same pair: an update
  const auto refused = small.add_registration(t0, point.id, "b");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::too_many_entries);
  EXPECT_EQ(small.add_registration(t0, point.id, "").error().code, Errc::bad_argument);
  EXPECT_EQ(small.discover(t0, point.id, std::string(256, 'x')).error().code, Errc::bad_argument);
}

TEST_F(RendezvousRegistrar, RemembersTheCookiePerPointAndNamespace) {
  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app", 5));
  auto requests = drain_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].message.type, MessageType::discover);
  EXPECT_TRUE(requests[0].message.discover->cookie.empty());
  EXPECT_EQ(requests[0].message.discover->limit, 5u);
  // One discovery per pair at a time.
  EXPECT_EQ(registrar.discover(t0, point.id, "my-app").error().code, Errc::bad_argument);

  const TestPeer alice = TestPeer::make(7);
  registrar.handle_response(
      t0, requests[0].id,
      discover_reply(to_bytes("cookie-1"), {Register{.ns = "my-app", .signed_peer_record = alice.record, .ttl_seconds = 60}}));
  const auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  const auto& discovered = std::get<Discovered>(events[0]);
  EXPECT_EQ(discovered.point, point.id);
  ASSERT_EQ(discovered.result.registrations.size(), 1u);
  EXPECT_EQ(discovered.result.registrations[0].peer, alice.id);
  EXPECT_EQ(registrar.cookie_count(), 1u);

  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app"));
  ASSERT_TRUE(registrar.discover(t0, other_point.id, "my-app"));
  ASSERT_TRUE(registrar.discover(t0, point.id, "other-app"));
  requests = drain_requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].message.discover->cookie, to_bytes("cookie-1"));
  EXPECT_TRUE(requests[1].message.discover->cookie.empty());
  EXPECT_TRUE(requests[2].message.discover->cookie.empty());

  registrar.forget_cookie(point.id, "my-app");
  EXPECT_EQ(registrar.cookie_count(), 0u);
}

TEST_F(RendezvousRegistrar, RetriesOnceWithoutAStaleCookie) {
  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app"));
  auto requests = drain_requests();
  registrar.handle_response(t0, requests[0].id, discover_reply(to_bytes("cookie-1")));
  drain_events();

  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app", 7));
  requests = drain_requests();
  ASSERT_EQ(requests[0].message.discover->cookie, to_bytes("cookie-1"));
  registrar.handle_response(t0, requests[0].id, refused_discover(ResponseStatus::invalid_cookie));
  EXPECT_FALSE(registrar.poll_event());
  requests = drain_requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].message.discover->cookie.empty());
  EXPECT_EQ(requests[0].message.discover->limit, 7u);
  // Refused again: now it is reported.
  registrar.handle_response(t0, requests[0].id, refused_discover(ResponseStatus::invalid_cookie));
  const auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<DiscoverFailed>(events[0]).error.code, Errc::invalid_cookie);
  EXPECT_FALSE(registrar.poll_request());
}

TEST_F(RendezvousRegistrar, ReportsDiscoverFailures) {
  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app"));
  auto requests = drain_requests();
  registrar.handle_failure(t0, requests[0].id, {Errc::truncated, "reset"});
  auto events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<DiscoverFailed>(events[0]).error.code, Errc::truncated);

  ASSERT_TRUE(registrar.discover(t0, point.id, "my-app"));
  requests = drain_requests();
  registrar.handle_timeout(t0 + 30s);
  events = drain_events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(std::get<DiscoverFailed>(events[0]).error.code, Errc::timed_out);
}

TEST_F(RendezvousRegistrar, BoundsCookiesAndEvents) {
  Registrar small(RegistrarOptions{.cookies_max = 2, .events_queued_max = 2});
  for (std::uint8_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(small.discover(t0, point.id, "ns" + std::to_string(i)));
    const auto request = small.poll_request();
    ASSERT_TRUE(request);
    small.handle_response(t0, request->id, discover_reply(to_bytes("cookie-" + std::to_string(i))));
  }
  EXPECT_EQ(small.cookie_count(), 2u);
  EXPECT_EQ(small.dropped_events(), 1u);
  // The least recently used (ns0) went.
  ASSERT_TRUE(small.discover(t0, point.id, "ns0"));
  EXPECT_TRUE(small.poll_request()->message.discover->cookie.empty());
  ASSERT_TRUE(small.discover(t0, point.id, "ns2"));
  EXPECT_EQ(small.poll_request()->message.discover->cookie, to_bytes("cookie-2"));
}

// The registrar and a point, through the wire, over simulated hours.
TEST_F(RendezvousRegistrar, KeepsARegistrationAliveAtAServer) {
  SeededRng rng{3};
  Server server(rng);
  Registrar watcher;
  const TestPeer watcher_id = TestPeer::make(60);
  auto pump = [&](Registrar& client, const PeerId& client_id, Instant now) {
    while (auto request = client.poll_request()) {
      FrameReader reader;
      ASSERT_TRUE(reader.handle_data(encode_frame(request->message)));
      const auto reply = server.handle_request(now, client_id, *reader.poll_message());
      ASSERT_TRUE(reply);
      if (*reply) client.handle_response(now, request->id, *decode_message(encode_message(**reply)));
    }
  };
  registrar.set_signed_peer_record(t0, me.record);
  ASSERT_TRUE(registrar.add_registration(t0, point.id, "my-app"));
  pump(registrar, me.id, t0);

  std::size_t seen = 0;
  for (Instant now = t0; now < t0 + 10h; now = now + 10min) {
    registrar.handle_timeout(now);
    pump(registrar, me.id, now);
    server.handle_timeout(now);
    EXPECT_EQ(server.registration_count(), 1u);  // never lapses
    ASSERT_TRUE(watcher.discover(now, point.id, "my-app"));
    pump(watcher, watcher_id.id, now);
    while (auto event = watcher.poll_event()) {
      const auto* discovered = std::get_if<Discovered>(&*event);
      ASSERT_TRUE(discovered);
      for (const Registration& registration : discovered->result.registrations) {
        EXPECT_EQ(registration.peer, me.id);
        ++seen;
      }
    }
  }
  // Seen once, then once after each hourly refresh: the cookie hides the rest.
  EXPECT_GE(seen, 10u);
  EXPECT_LE(seen, 11u);

  ASSERT_TRUE(registrar.remove_registration(point.id, "my-app"));
  pump(registrar, me.id, t0 + 10h);
  EXPECT_EQ(server.registration_count(), 0u);
}

}  // namespace
}  // namespace taho::rendezvous
