#include "proto/kad/handler.hpp"

#include <gtest/gtest.h>

#include <array>

#include "base/seeded_rng.hpp"

namespace taho::kad {
namespace {

using namespace std::chrono_literals;

PeerId random_peer(Rng& rng) {
  std::array<std::uint8_t, 32> key{};
  rng.fill(key);
  return PeerId::from_ed25519(key);
}

Multiaddr address(std::string_view text) { return *Multiaddr::parse(text); }

class KadHandler : public ::testing::Test {
 protected:
  KadHandler() {
    for (int i = 0; i < 30; ++i) {
      const PeerId peer = random_peer(rng);
      table.insert(Instant{}, peer);
      addresses.add(peer, {address("/ip4/10.0.0." + std::to_string(i) + "/tcp/4001")});
      known.push_back(peer);
    }
  }
  Message request(MessageType type, std::string_view key) {
    Message message;
    message.type = type;
    message.key = to_bytes(key);
    return message;
  }

  SeededRng rng{21};
  PeerId local = random_peer(rng);
  PeerId sender = random_peer(rng);
  RoutingTable table{local, Instant{}};
  AddressBook addresses;
  ProviderStore providers;
  RecordStore records{[](const Record& record) -> Result<void> {
    if (record.value.empty()) return fail("empty value");
    return {};
  }};
  Handler handler{table, addresses, providers, records};
  std::vector<PeerId> known;
};

TEST_F(KadHandler, PingIsEchoed) {
  const auto reply = handler.handle_request(Instant{}, sender, request(MessageType::ping, ""));
  ASSERT_TRUE(reply && *reply);
  EXPECT_EQ((*reply)->type, MessageType::ping);
}

TEST_F(KadHandler, FindNodeAnswersTheClosestPeersWithAddressesButNotTheSender) {
  table.insert(Instant{}, sender);
  const auto reply = handler.handle_request(Instant{}, sender, request(MessageType::find_node, "k"));
  ASSERT_TRUE(reply && *reply);
  const Message& message = **reply;
  EXPECT_EQ(message.type, MessageType::find_node);
  EXPECT_EQ(message.key, to_bytes("k"));
  ASSERT_EQ(message.closer_peers.size(), 20u);
  const auto expected = table.closest(keyspace_point(to_bytes("k")), 21);
  std::size_t at = 0;
  for (const PeerId& id : expected) {
    if (id == sender) continue;
    if (at == 20) break;
    EXPECT_EQ(message.closer_peers[at].id, id);
    EXPECT_EQ(message.closer_peers[at].addrs.size(), 1u);
    ++at;
  }
}

TEST_F(KadHandler, RequestsWithoutAKeyAreRefused) {
  for (const auto type : {MessageType::find_node, MessageType::get_providers, MessageType::add_provider,
                          MessageType::get_value, MessageType::put_value}) {
    EXPECT_EQ(handler.handle_request(Instant{}, sender, request(type, "")).error().code, Errc::bad_request);
  }
}

TEST_F(KadHandler, ProvidersAreStoredOnlyForTheSenderAndExpireAfter48Hours) {
  Message add = request(MessageType::add_provider, "content");
  add.provider_peers.push_back(Peer{known[0], {address("/ip4/6.6.6.6/tcp/1")}, {}, 0});
  EXPECT_EQ(handler.handle_request(Instant{}, sender, add).error().code, Errc::bad_request);

  add.provider_peers.push_back(Peer{sender, {address("/ip4/1.2.3.4/tcp/4001")}, {}, 0});
  const auto added = handler.handle_request(Instant{}, sender, add);
  ASSERT_TRUE(added);
  EXPECT_FALSE(*added);  // no reply to ADD_PROVIDER

  const auto found = handler.handle_request(Instant{47h}, known[1], request(MessageType::get_providers, "content"));
  ASSERT_TRUE(found && *found);
  ASSERT_EQ((*found)->provider_peers.size(), 1u);
  EXPECT_EQ((*found)->provider_peers[0].id, sender);
  EXPECT_EQ((*found)->provider_peers[0].addrs, std::vector<Multiaddr>{address("/ip4/1.2.3.4/tcp/4001")});
  EXPECT_EQ((*found)->closer_peers.size(), 20u);

  const auto expired = handler.handle_request(Instant{48h}, known[1], request(MessageType::get_providers, "content"));
  ASSERT_TRUE(expired && *expired);
  EXPECT_TRUE((*expired)->provider_peers.empty());
}

TEST_F(KadHandler, ProviderStoreIsBounded) {
  ProviderStore small(ProviderStoreLimits{.keys_max = 1, .providers_per_key_max = 2});
  EXPECT_TRUE(small.add(Instant{}, to_bytes("a"), known[0], {}));
  EXPECT_FALSE(small.add(Instant{}, to_bytes("b"), known[0], {}));
  EXPECT_TRUE(small.add(Instant{}, to_bytes("a"), known[1], {}));
  EXPECT_TRUE(small.add(Instant{}, to_bytes("a"), known[2], {}));
  const auto listed = small.providers(Instant{}, to_bytes("a"));
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].provider, known[1]);  // the oldest made room
  small.expire(Instant{49h});
  EXPECT_EQ(small.key_count(), 0u);
  EXPECT_TRUE(small.add(Instant{49h}, to_bytes("b"), known[0], {}));
}

TEST_F(KadHandler, PutValueGoesThroughTheValidator) {
  Message put = request(MessageType::put_value, "/v/name");
  put.record = Record{to_bytes("/v/name"), {}, ""};
  EXPECT_EQ(handler.handle_request(Instant{}, sender, put).error().code, Errc::rejected_record);

  put.record->value = to_bytes("hello");
  const auto stored = handler.handle_request(Instant{}, sender, put);
  ASSERT_TRUE(stored && *stored);
  EXPECT_EQ(**stored, put);  // echoed

  const auto got = handler.handle_request(Instant{1h}, known[0], request(MessageType::get_value, "/v/name"));
  ASSERT_TRUE(got && *got);
  ASSERT_TRUE((*got)->record);
  EXPECT_EQ((*got)->record->value, to_bytes("hello"));
  EXPECT_EQ((*got)->closer_peers.size(), 20u);

  const auto expired = handler.handle_request(Instant{36h}, known[0], request(MessageType::get_value, "/v/name"));
  ASSERT_TRUE(expired && *expired);
  EXPECT_FALSE((*expired)->record);

  Message mismatched = request(MessageType::put_value, "/v/other");
  mismatched.record = Record{to_bytes("/v/name"), to_bytes("x"), ""};
  EXPECT_EQ(handler.handle_request(Instant{}, sender, mismatched).error().code, Errc::bad_request);
}

TEST_F(KadHandler, WithoutAValidatorNothingIsStored) {
  RecordStore closed;
  EXPECT_EQ(closed.put(Instant{}, Record{to_bytes("k"), to_bytes("v"), ""}).error().code, Errc::rejected_record);
  RecordStore tiny([](const Record&) -> Result<void> { return {}; }, RecordStoreLimits{.records_max = 1, .value_bytes_max = 2});
  EXPECT_EQ(tiny.put(Instant{}, Record{to_bytes("k"), to_bytes("long"), ""}).error().code, Errc::rejected_record);
  EXPECT_TRUE(tiny.put(Instant{}, Record{to_bytes("k"), to_bytes("v"), ""}));
  EXPECT_TRUE(tiny.put(Instant{}, Record{to_bytes("k"), to_bytes("w"), ""}));  // replacing is fine
  EXPECT_EQ(tiny.put(Instant{}, Record{to_bytes("j"), to_bytes("v"), ""}).error().code, Errc::rejected_record);
}

TEST(KadAddressBook, BoundsPeersAndAddresses) {
  SeededRng rng(31);
  AddressBook book(1);
  const PeerId a = random_peer(rng);
  std::vector<Multiaddr> many;
  for (int port = 1; port <= 20; ++port) many.push_back(address("/ip4/1.1.1.1/tcp/" + std::to_string(port)));
  EXPECT_TRUE(book.add(a, many));
  EXPECT_TRUE(book.add(a, many));
  EXPECT_EQ(book.addresses(a).size(), AddressBook::addrs_per_peer_max);
  EXPECT_FALSE(book.add(random_peer(rng), many));
  book.remove(a);
  EXPECT_TRUE(book.addresses(a).empty());
}

}  // namespace
}  // namespace taho::kad
