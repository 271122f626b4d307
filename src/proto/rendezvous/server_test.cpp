#include "proto/rendezvous/server.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/seeded_rng.hpp"
#include "proto/identify/envelope.hpp"
#include "proto/rendezvous/client.hpp"
#include "proto/rendezvous/cookie.hpp"
#include "proto/rendezvous/test_support.hpp"

namespace taho::rendezvous {
namespace {

using namespace std::chrono_literals;
using testing::TestPeer;

const Instant t0{std::chrono::hours(1000)};

Message register_request(const TestPeer& peer, std::string ns, std::optional<std::uint64_t> ttl_seconds = {}) {
  Message message;
  message.type = MessageType::register_request;
  message.register_request = Register{.ns = std::move(ns), .signed_peer_record = peer.record, .ttl_seconds = ttl_seconds};
  return message;
}

Message discover_request(std::string ns, std::optional<std::uint64_t> limit = {}, Bytes cookie = {}) {
  Message message;
  message.type = MessageType::discover;
  message.discover = Discover{.ns = std::move(ns), .limit = limit, .cookie = std::move(cookie)};
  return message;
}

Message unregister_request(std::string ns) {
  Message message;
  message.type = MessageType::unregister;
  message.unregister = Unregister{.ns = std::move(ns), .id = {}};
  return message;
}

class RendezvousServer : public ::testing::Test {
 protected:
  RegisterResponse do_register(Instant now, const TestPeer& peer, std::string ns,
                               std::optional<std::uint64_t> ttl_seconds = {}) {
    return do_register_as(now, peer.id, register_request(peer, std::move(ns), ttl_seconds));
  }
  RegisterResponse do_register_as(Instant now, const PeerId& sender, const Message& request) {
    auto reply = server.handle_request(now, sender, request);
    EXPECT_TRUE(reply && *reply);
    if (!reply || !*reply || !(*reply)->register_response) return RegisterResponse{.status = ResponseStatus::internal_error};
    EXPECT_EQ((*reply)->type, MessageType::register_response);
    // Every reply survives the wire with default limits.
    const auto reread = decode_message(encode_message(**reply));
    EXPECT_TRUE(reread && *reread == **reply);
    return *(*reply)->register_response;
  }
  DiscoverResponse do_discover(Instant now, std::string ns, std::optional<std::uint64_t> limit = {}, Bytes cookie = {}) {
    auto reply = server.handle_request(now, asker.id, discover_request(std::move(ns), limit, std::move(cookie)));
    EXPECT_TRUE(reply && *reply);
    if (!reply || !*reply || !(*reply)->discover_response) return DiscoverResponse{.status = ResponseStatus::internal_error};
    EXPECT_EQ((*reply)->type, MessageType::discover_response);
    const auto reread = decode_message(encode_message(**reply));
    EXPECT_TRUE(reread);
    if (reread) EXPECT_EQ(*reread, **reply);
    return *(*reply)->discover_response;
  }
  static std::vector<PeerId> peers_of(const DiscoverResponse& response, std::string_view ns) {
    Message message;
    message.type = MessageType::discover_response;
    message.discover_response = response;
    const auto result = read_discover_response(message, ns);
    EXPECT_TRUE(result);
    std::vector<PeerId> peers;
    if (result) {
      EXPECT_EQ(result->rejected_registrations, 0u);
      for (const Registration& registration : result->registrations) peers.push_back(registration.peer);
    }
    return peers;
  }

  SeededRng rng{7};
  ServerOptions options;
  Server server{rng, options};
  TestPeer alice = TestPeer::make(1);
  TestPeer bob = TestPeer::make(2);
  TestPeer carol = TestPeer::make(3);
  TestPeer asker = TestPeer::make(9);
};

TEST_F(RendezvousServer, RegistersAndDiscovers) {
  const RegisterResponse registered = do_register(t0, alice, "my-app", 3 * 3600);
  EXPECT_EQ(registered.status, ResponseStatus::ok);
  EXPECT_EQ(registered.ttl_seconds, 3u * 3600);
  EXPECT_EQ(server.registration_count(), 1u);
  EXPECT_EQ(server.namespace_count(), 1u);

  const DiscoverResponse found = do_discover(t0 + 10s, "my-app");
  EXPECT_EQ(found.status, ResponseStatus::ok);
  ASSERT_EQ(found.registrations.size(), 1u);
  EXPECT_EQ(found.registrations[0].ns, "my-app");
  EXPECT_EQ(found.registrations[0].signed_peer_record, alice.record);
  EXPECT_EQ(found.registrations[0].ttl_seconds, 3u * 3600 - 10);  // what is left
  EXPECT_FALSE(found.cookie.empty());
  EXPECT_EQ(peers_of(found, "my-app"), std::vector<PeerId>{alice.id});

  EXPECT_TRUE(do_discover(t0, "other-app").registrations.empty());
}

TEST_F(RendezvousServer, DefaultsTheTtlToTwoHours) {
  const RegisterResponse registered = do_register(t0, alice, "my-app");
  EXPECT_EQ(registered.status, ResponseStatus::ok);
  EXPECT_EQ(registered.ttl_seconds, 7200u);
  EXPECT_EQ(server.next_timeout(), t0 + 2h);
}

TEST_F(RendezvousServer, RefusesTtlOutsideItsBounds) {
  for (std::uint64_t ttl : {std::uint64_t{0}, std::uint64_t{7199}, std::uint64_t{72 * 3600 + 1},
                            static_cast<std::uint64_t>(std::int64_t{-1})}) {
    const RegisterResponse refused = do_register(t0, alice, "my-app", ttl);
    EXPECT_EQ(refused.status, ResponseStatus::invalid_ttl) << ttl;
    EXPECT_FALSE(refused.ttl_seconds);
  }
  EXPECT_EQ(do_register(t0, alice, "my-app", 72 * 3600).status, ResponseStatus::ok);
  EXPECT_EQ(do_register(t0, bob, "my-app", 7200).status, ResponseStatus::ok);
  EXPECT_EQ(server.stats().registers_refused, 4u);
}

TEST_F(RendezvousServer, HonoursConfiguredTtlBounds) {
  Server lenient(rng, ServerOptions{.ttl_default = 60s, .ttl_min = 10s, .ttl_max = 120s});
  auto reply = lenient.handle_request(t0, alice.id, register_request(alice, "x"));
  ASSERT_TRUE(reply && *reply);
  EXPECT_EQ((*reply)->register_response->ttl_seconds, 60u);
  reply = lenient.handle_request(t0, alice.id, register_request(alice, "x", 9));
  EXPECT_EQ((*reply)->register_response->status, ResponseStatus::invalid_ttl);
}

TEST_F(RendezvousServer, RefusesInvalidNamespaces) {
  for (const std::string& ns : {std::string(), std::string("bad\xff"), std::string(256, 'n')}) {
    EXPECT_EQ(do_register(t0, alice, ns).status, ResponseStatus::invalid_namespace);
  }
  EXPECT_EQ(do_discover(t0, "bad\xff").status, ResponseStatus::invalid_namespace);
  EXPECT_EQ(server.registration_count(), 0u);
}

TEST_F(RendezvousServer, RefusesRecordsThatDoNotVerify) {
  Message garbage = register_request(alice, "my-app");
  garbage.register_request->signed_peer_record = to_bytes("not an envelope");
  EXPECT_EQ(do_register_as(t0, alice.id, garbage).status, ResponseStatus::invalid_signed_peer_record);

  Message missing = register_request(alice, "my-app");
  missing.register_request->signed_peer_record.clear();
  EXPECT_EQ(do_register_as(t0, alice.id, missing).status, ResponseStatus::invalid_signed_peer_record);

  Message tampered = register_request(alice, "my-app");
  auto envelope = identify::decode_envelope(alice.record);
  ASSERT_TRUE(envelope);
  envelope->signature[0] ^= 1;
  tampered.register_request->signed_peer_record = identify::encode_envelope(*envelope);
  EXPECT_EQ(do_register_as(t0, alice.id, tampered).status, ResponseStatus::invalid_signed_peer_record);

  // Signed correctly, but not a peer record.
  Message other_type = register_request(alice, "my-app");
  other_type.register_request->signed_peer_record = identify::encode_envelope(
      identify::seal_envelope(alice.key, "some-other-domain", to_bytes("/other"), to_bytes("payload")));
  EXPECT_EQ(do_register_as(t0, alice.id, other_type).status, ResponseStatus::invalid_signed_peer_record);
  EXPECT_EQ(server.registration_count(), 0u);
}

TEST_F(RendezvousServer, LetsOnlyThePeerItselfRegister) {
  // Bob relays Alice's genuine record: he may not register her.
  const RegisterResponse refused = do_register_as(t0, bob.id, register_request(alice, "my-app"));
  EXPECT_EQ(refused.status, ResponseStatus::not_authorized);
  EXPECT_EQ(server.registration_count(), 0u);
}

TEST_F(RendezvousServer, ExpiresRegistrationsWithInjectedTime) {
  ASSERT_EQ(do_register(t0, alice, "my-app", 7200).status, ResponseStatus::ok);
  ASSERT_EQ(do_register(t0 + 1h, bob, "my-app", 7200).status, ResponseStatus::ok);
  EXPECT_EQ(server.next_timeout(), t0 + 2h);

  const DiscoverResponse before = do_discover(t0 + (2h - 1s), "my-app");
  ASSERT_EQ(before.registrations.size(), 2u);
  EXPECT_EQ(before.registrations[0].ttl_seconds, 1u);
  // Lazily, on the next request.
  EXPECT_EQ(peers_of(do_discover(t0 + 2h, "my-app"), "my-app"), std::vector<PeerId>{bob.id});
  EXPECT_EQ(server.stats().expired, 1u);
  EXPECT_EQ(server.next_timeout(), t0 + 3h);
  // Or by the timer.
  server.handle_timeout(t0 + 3h);
  EXPECT_EQ(server.registration_count(), 0u);
  EXPECT_EQ(server.namespace_count(), 0u);
  EXPECT_EQ(server.registration_count(alice.id), 0u);
  EXPECT_FALSE(server.next_timeout());
}

TEST_F(RendezvousServer, RefreshReplacesTheRegistration) {
  ASSERT_EQ(do_register(t0, alice, "my-app", 7200).status, ResponseStatus::ok);
  const TestPeer moved = TestPeer::make(1, 2);  // same key, newer record
  ASSERT_EQ(do_register(t0 + 1h, moved, "my-app", 7200).status, ResponseStatus::ok);
  EXPECT_EQ(server.registration_count(), 1u);
  EXPECT_EQ(server.stats().registered, 1u);
  EXPECT_EQ(server.stats().refreshed, 1u);
  EXPECT_EQ(server.next_timeout(), t0 + 3h);
  const DiscoverResponse found = do_discover(t0 + 2h + 1s, "my-app");
  ASSERT_EQ(found.registrations.size(), 1u);
  EXPECT_EQ(found.registrations[0].signed_peer_record, moved.record);
}

TEST_F(RendezvousServer, UnregistersOnlyTheSender) {
  ASSERT_EQ(do_register(t0, alice, "my-app").status, ResponseStatus::ok);
  ASSERT_EQ(do_register(t0, alice, "other-app").status, ResponseStatus::ok);
  // Bob cannot remove Alice, even naming her id.
  Message forged = unregister_request("my-app");
  forged.unregister->id = alice.id.bytes();
  auto reply = server.handle_request(t0, bob.id, forged);
  ASSERT_TRUE(reply);
  EXPECT_FALSE(*reply);
  EXPECT_EQ(server.registration_count(), 2u);

  reply = server.handle_request(t0, alice.id, unregister_request("my-app"));
  ASSERT_TRUE(reply);
  EXPECT_FALSE(*reply);  // UNREGISTER has no response
  EXPECT_EQ(server.registration_count(), 1u);
  EXPECT_TRUE(do_discover(t0, "my-app").registrations.empty());
  EXPECT_EQ(do_discover(t0, "other-app").registrations.size(), 1u);
  EXPECT_EQ(server.stats().unregistered, 1u);
}

TEST_F(RendezvousServer, DiscoversEveryNamespaceWhenNoneIsNamed) {
  ASSERT_EQ(do_register(t0, alice, "a").status, ResponseStatus::ok);
  ASSERT_EQ(do_register(t0, bob, "b").status, ResponseStatus::ok);
  const DiscoverResponse all = do_discover(t0, "");
  ASSERT_EQ(all.registrations.size(), 2u);
  EXPECT_EQ(all.registrations[0].ns, "a");
  EXPECT_EQ(all.registrations[1].ns, "b");
  EXPECT_EQ(decode_cookie(all.cookie)->ns, "");
}

TEST_F(RendezvousServer, PagesWithLimitAndCookie) {
  std::vector<TestPeer> peers;
  for (std::uint8_t i = 10; i < 15; ++i) {
    peers.push_back(TestPeer::make(i));
    ASSERT_EQ(do_register(t0, peers.back(), "my-app").status, ResponseStatus::ok);
  }
  ASSERT_EQ(do_register(t0, alice, "noise").status, ResponseStatus::ok);

  std::vector<PeerId> seen;
  Bytes cookie;
  for (std::size_t expected : {2u, 2u, 1u, 0u}) {
    const DiscoverResponse page = do_discover(t0, "my-app", 2, cookie);
    ASSERT_EQ(page.status, ResponseStatus::ok);
    ASSERT_EQ(page.registrations.size(), expected);
    for (const PeerId& peer : peers_of(page, "my-app")) seen.push_back(peer);
    cookie = page.cookie;
  }
  ASSERT_EQ(seen.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(seen[i], peers[i].id);  // registration order

  // Later, only what is new (or refreshed) since the cookie.
  ASSERT_EQ(do_register(t0 + 1s, bob, "my-app").status, ResponseStatus::ok);
  ASSERT_EQ(do_register(t0 + 1s, peers[1], "my-app").status, ResponseStatus::ok);
  const DiscoverResponse fresh = do_discover(t0 + 2s, "my-app", std::nullopt, cookie);
  EXPECT_EQ(peers_of(fresh, "my-app"), (std::vector<PeerId>{bob.id, peers[1].id}));
  // The same cookie again gives the same answer: cookies are positions, not sessions.
  EXPECT_EQ(do_discover(t0 + 2s, "my-app", std::nullopt, cookie).registrations.size(), 2u);
  // A limit of 0 means no limit of the client's.
  EXPECT_EQ(do_discover(t0 + 2s, "my-app", 0).registrations.size(), 6u);
}

TEST_F(RendezvousServer, RefusesCookiesItDidNotIssue) {
  ASSERT_EQ(do_register(t0, alice, "my-app").status, ResponseStatus::ok);
  const Bytes cookie = do_discover(t0, "my-app").cookie;
  const Cookie ours = *decode_cookie(cookie);

  // Another namespace's cookie.
  EXPECT_EQ(do_discover(t0, "other-app", std::nullopt, cookie).status, ResponseStatus::invalid_cookie);
  EXPECT_EQ(do_discover(t0, "", std::nullopt, cookie).status, ResponseStatus::invalid_cookie);
  // Garbage.
  EXPECT_EQ(do_discover(t0, "my-app", std::nullopt, to_bytes("short")).status, ResponseStatus::invalid_cookie);
  // From an earlier run of the point (another epoch).
  Cookie stale = ours;
  stale.epoch ^= 1;
  EXPECT_EQ(do_discover(t0, "my-app", std::nullopt, encode_cookie(stale)).status, ResponseStatus::invalid_cookie);
  // A position the point never reached.
  Cookie future = ours;
  future.position += 1;
  EXPECT_EQ(do_discover(t0, "my-app", std::nullopt, encode_cookie(future)).status, ResponseStatus::invalid_cookie);
  // A cookie from another point, though well-formed.
  SeededRng other_rng{8};
  Server other(other_rng);
  auto reply = other.handle_request(t0, asker.id, discover_request("my-app"));
  ASSERT_TRUE(reply && *reply);
  EXPECT_EQ(do_discover(t0, "my-app", std::nullopt, (*reply)->discover_response->cookie).status,
            ResponseStatus::invalid_cookie);

  EXPECT_EQ(server.stats().discovers_refused, 6u);
  EXPECT_EQ(do_discover(t0, "my-app", std::nullopt, cookie).status, ResponseStatus::ok);
}

TEST_F(RendezvousServer, LimitsRegistrationsPerPeer) {
  Server strict(rng, ServerOptions{.registrations_per_peer_max = 2});
  for (const char* ns : {"a", "b"}) {
    auto reply = strict.handle_request(t0, alice.id, register_request(alice, ns));
    EXPECT_EQ((*reply)->register_response->status, ResponseStatus::ok);
  }
  auto reply = strict.handle_request(t0, alice.id, register_request(alice, "c"));
  EXPECT_EQ((*reply)->register_response->status, ResponseStatus::not_authorized);
  // Refreshing is not a new registration; other peers are unaffected.
  reply = strict.handle_request(t0, alice.id, register_request(alice, "a"));
  EXPECT_EQ((*reply)->register_response->status, ResponseStatus::ok);
  reply = strict.handle_request(t0, bob.id, register_request(bob, "c"));
  EXPECT_EQ((*reply)->register_response->status, ResponseStatus::ok);
  EXPECT_EQ(strict.registration_count(alice.id), 2u);
}

TEST_F(RendezvousServer, LimitsTotalRegistrationsAndNamespaces) {
  Server small(rng, ServerOptions{.registrations_max = 2, .namespaces_max = 1});
  auto status = [&](const TestPeer& peer, const char* ns) {
    auto reply = small.handle_request(t0, peer.id, register_request(peer, ns));
    return (*reply)->register_response->status;
  };
  EXPECT_EQ(status(alice, "a"), ResponseStatus::ok);
  EXPECT_EQ(status(bob, "b"), ResponseStatus::unavailable);  // a second namespace
  EXPECT_EQ(status(bob, "a"), ResponseStatus::ok);
  EXPECT_EQ(status(carol, "a"), ResponseStatus::unavailable);  // table full
  EXPECT_EQ(status(alice, "a"), ResponseStatus::ok);           // refresh still works
  // Space frees when a registration goes.
  ASSERT_TRUE(small.handle_request(t0, bob.id, unregister_request("a")));
  EXPECT_EQ(status(carol, "a"), ResponseStatus::ok);
}

TEST_F(RendezvousServer, KeepsResponsesWithinTheFrameBudget) {
  const std::size_t one = encoded_registration_bytes(Register{
      .ns = "my-app", .signed_peer_record = alice.record, .ttl_seconds = 7200});
  const std::size_t budget = 3 * one + 120;  // room for a few registrations and the overhead
  Server tight(rng, ServerOptions{.response_bytes_max = budget});
  std::vector<TestPeer> peers;
  for (std::uint8_t i = 20; i < 30; ++i) {
    peers.push_back(TestPeer::make(i));
    auto reply = tight.handle_request(t0, peers.back().id, register_request(peers.back(), "my-app"));
    ASSERT_EQ((*reply)->register_response->status, ResponseStatus::ok);
  }
  Bytes cookie;
  std::size_t total = 0;
  std::size_t pages = 0;
  while (true) {
    auto reply = tight.handle_request(t0, asker.id, discover_request("my-app", std::nullopt, cookie));
    ASSERT_TRUE(reply && *reply);
    EXPECT_LE(encode_message(**reply).size(), budget);
    const DiscoverResponse& page = *(*reply)->discover_response;
    if (page.registrations.empty()) break;
    EXPECT_LE(page.registrations.size(), 3u);
    total += page.registrations.size();
    cookie = page.cookie;
    ++pages;
  }
  EXPECT_EQ(total, 10u);
  EXPECT_GE(pages, 4u);
}

TEST_F(RendezvousServer, RefusesMalformedRequests) {
  Message no_body;
  no_body.type = MessageType::register_request;
  for (MessageType type : {MessageType::register_request, MessageType::unregister, MessageType::discover,
                           MessageType::register_response, MessageType::discover_response}) {
    no_body.type = type;
    const auto reply = server.handle_request(t0, alice.id, no_body);
    ASSERT_FALSE(reply);
    EXPECT_EQ(reply.error().code, Errc::bad_request);
  }
  // A response type with a body is no request either.
  Message response;
  response.type = MessageType::register_response;
  response.register_response = RegisterResponse{};
  EXPECT_FALSE(server.handle_request(t0, alice.id, response));
}

}  // namespace
}  // namespace taho::rendezvous
