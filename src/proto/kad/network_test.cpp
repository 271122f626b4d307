// A deterministic in-memory DHT: 200 nodes, each with its own routing table,
// address book, stores and handler, joined through the query state machine.
// Messages travel instantly (encoded and decoded on the way) on a virtual
// clock; dead nodes never answer, so their requests time out.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "base/seeded_rng.hpp"
#include "proto/kad/handler.hpp"
#include "proto/kad/query.hpp"

namespace taho::kad {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t k = 20;

struct Node {
  Node(const PeerId& peer, Multiaddr listen)
      : id(peer),
        address(std::move(listen)),
        table(peer, Instant{}),
        records([](const Record& record) -> Result<void> {
          if (record.value.empty()) return fail("empty value");
          return {};
        }),
        handler(table, addresses, providers, records) {}
  PeerId id;
  Multiaddr address;
  RoutingTable table;
  AddressBook addresses;
  ProviderStore providers;
  RecordStore records;
  Handler handler;
  bool alive = true;
};

class Network {
 public:
  Network(std::size_t size, std::size_t known_each, std::uint64_t seed) : rng_(seed) {
    for (std::size_t i = 0; i < size; ++i) {
      std::array<std::uint8_t, 32> key{};
      rng_.fill(key);
      const PeerId id = PeerId::from_ed25519(key);
      auto address = Multiaddr::parse("/ip4/10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1) +
                                      "/tcp/4001");
      nodes_.push_back(std::make_unique<Node>(id, std::move(*address)));
      by_id_.emplace(id, nodes_.back().get());
    }
    for (auto& node : nodes_) {
      for (std::size_t j = 0; j < known_each; ++j) {
        const Node& other = *nodes_[rng_.next_u64() % nodes_.size()];
        admit(*node, other.id, other.address);
      }
    }
  }

  std::size_t size() const { return nodes_.size(); }
  Node& node(std::size_t index) { return *nodes_[index]; }
  Rng& rng() { return rng_; }
  Instant now() const { return now_; }

  // The Kademlia insertion policy, with the liveness check answered at once.
  void admit(Node& node, const PeerId& peer, const Multiaddr& address) {
    const auto inserted = node.table.insert(now_, peer);
    if (inserted.outcome == RoutingTable::Outcome::refused) return;
    node.addresses.add(peer, {address});
    if (inserted.outcome == RoutingTable::Outcome::pending) {
      const PeerId& oldest = *inserted.least_recently_seen;
      if (by_id_.at(oldest)->alive) {
        node.table.insert(now_, oldest);
      } else {
        node.table.mark_failed(oldest);
      }
    }
  }

  QueryResult run(Node& origin, MessageType type, const Bytes& key) {
    std::vector<Peer> seeds;
    for (const PeerId& id : origin.table.closest(keyspace_point(key), k)) {
      seeds.push_back(Peer{id, origin.addresses.addresses(id), ConnectionType::not_connected, 0});
    }
    Query query(origin.id, type, key, seeds);
    while (!query.finished()) {
      auto request = query.poll_request(now_);
      if (!request) {
        // Everyone asked is silent: let the clock run to the next timeout.
        const auto deadline = query.next_timeout();
        if (!deadline) break;
        now_ = *deadline;
        query.handle_timeout(now_);
        ++timeouts_;
        continue;
      }
      Node& responder = *by_id_.at(request->peer);
      if (!responder.alive) continue;
      const auto request_bytes = encode_message(request->message);
      const auto received = decode_message(request_bytes);
      EXPECT_TRUE(received);
      // The responder learns the origin (identify says it is a DHT server).
      admit(responder, origin.id, origin.address);
      auto reply = responder.handler.handle_request(now_, origin.id, *received);
      EXPECT_TRUE(reply && *reply);
      if (!reply || !*reply) continue;
      const auto decoded = decode_message(encode_message(**reply));
      EXPECT_TRUE(decoded);
      admit(origin, responder.id, responder.address);
      query.handle_response(now_, responder.id, *decoded);
    }
    origin.table.record_lookup(now_, query.target());
    return query.result();
  }

  // The k live nodes truly closest to `key`.
  std::vector<PeerId> true_closest(const Bytes& key) const {
    std::vector<PeerId> live;
    for (const auto& node : nodes_) {
      if (node->alive) live.push_back(node->id);
    }
    const KeyspacePoint target = keyspace_point(key);
    std::sort(live.begin(), live.end(), [&](const PeerId& a, const PeerId& b) {
      return distance(target, keyspace_point(a)) < distance(target, keyspace_point(b));
    });
    if (live.size() > k) live.erase(live.begin() + static_cast<std::ptrdiff_t>(k), live.end());
    return live;
  }

  void bootstrap() {
    for (auto& node : nodes_) run(*node, MessageType::find_node, node->id.bytes());
  }

  std::size_t timeouts() const { return timeouts_; }

 private:
  SeededRng rng_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<PeerId, Node*> by_id_;
  Instant now_{};
  std::size_t timeouts_ = 0;
};

Bytes random_key(Rng& rng) {
  Bytes key(32);
  rng.fill(key);
  return key;
}

// Fraction of the true k closest that `found` contains, over many lookups.
double lookup_accuracy(Network& network, std::size_t lookups) {
  std::size_t hits = 0;
  std::size_t wanted = 0;
  for (std::size_t i = 0; i < lookups; ++i) {
    const Bytes key = random_key(network.rng());
    Node* origin = &network.node(network.rng().next_u64() % network.size());
    while (!origin->alive) origin = &network.node(network.rng().next_u64() % network.size());
    const auto result = network.run(*origin, MessageType::find_node, key);
    const auto truth = network.true_closest(key);
    std::unordered_set<PeerId> found;
    for (const Peer& peer : result.closest) found.insert(peer.id);
    for (const PeerId& id : truth) {
      hits += found.count(id);
      // The origin never lists itself.
      wanted += id == origin->id ? 0 : 1;
    }
  }
  return static_cast<double>(hits) / static_cast<double>(wanted);
}

TEST(KadNetwork, FindNodeFindsTheTrueClosestPeers) {
  Network network(200, 4, 1);
  network.bootstrap();
  const double accuracy = lookup_accuracy(network, 50);
  EXPECT_GE(accuracy, 0.9) << accuracy;
  EXPECT_EQ(network.timeouts(), 0u);
}

TEST(KadNetwork, LookupsSurviveDeadNodesThroughTimeouts) {
  Network network(200, 4, 2);
  network.bootstrap();
  for (std::size_t i = 0; i < network.size(); i += 10) network.node(i).alive = false;
  const Instant before = network.now();
  const double accuracy = lookup_accuracy(network, 30);
  EXPECT_GE(accuracy, 0.9) << accuracy;
  EXPECT_GT(network.timeouts(), 0u);
  EXPECT_GT(network.now(), before);  // the clock advanced through the timeouts
}

TEST(KadNetwork, ProvidersAnnouncedToTheClosestPeersAreFound) {
  Network network(200, 4, 3);
  network.bootstrap();
  const Bytes content = random_key(network.rng());
  Node& provider = network.node(7);
  const auto closest = network.run(provider, MessageType::find_node, content).closest;
  ASSERT_EQ(closest.size(), k);
  Node* stored_at = nullptr;
  for (const Peer& peer : closest) {
    for (std::size_t i = 0; i < network.size(); ++i) {
      Node& node = network.node(i);
      if (!(node.id == peer.id)) continue;
      Message add;
      add.type = MessageType::add_provider;
      add.key = content;
      add.provider_peers.push_back(Peer{provider.id, {provider.address}, ConnectionType::not_connected, 0});
      const auto reply = node.handler.handle_request(network.now(), provider.id, add);
      ASSERT_TRUE(reply);
      EXPECT_FALSE(*reply);
      stored_at = &node;
    }
  }
  ASSERT_NE(stored_at, nullptr);

  Node& seeker = network.node(150);
  const auto result = network.run(seeker, MessageType::get_providers, content);
  ASSERT_EQ(result.providers.size(), 1u);
  EXPECT_EQ(result.providers[0].id, provider.id);
  EXPECT_EQ(result.providers[0].addrs, std::vector<Multiaddr>{provider.address});
}

TEST(KadNetwork, ValuesPutAtTheClosestPeersAreFound) {
  Network network(200, 4, 4);
  network.bootstrap();
  const Bytes key = to_bytes("/v/some-name");
  Node& writer = network.node(3);
  std::size_t stored = 0;
  for (const Peer& peer : network.run(writer, MessageType::find_node, key).closest) {
    for (std::size_t i = 0; i < network.size(); ++i) {
      Node& node = network.node(i);
      if (!(node.id == peer.id)) continue;
      Message put;
      put.type = MessageType::put_value;
      put.key = key;
      put.record = Record{key, to_bytes("value"), ""};
      const auto reply = node.handler.handle_request(network.now(), writer.id, put);
      ASSERT_TRUE(reply && *reply);
      ++stored;
    }
  }
  EXPECT_EQ(stored, k);
  const auto result = network.run(network.node(120), MessageType::get_value, key);
  // Every one of the k closest holds it and the lookup reaches them, so the
  // query collects up to its bound.
  EXPECT_EQ(result.records.size(), std::min(k, QueryOptions{}.records_max));
  for (const FoundRecord& found : result.records) EXPECT_EQ(found.record.value, to_bytes("value"));
}

}  // namespace
}  // namespace taho::kad
