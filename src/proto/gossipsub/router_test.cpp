#include "proto/gossipsub/router.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>

#include "base/seeded_rng.hpp"

namespace taho::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view topic = "taho/test";

crypto::Ed25519KeyPair key_from(std::uint64_t index) {
  crypto::Ed25519Seed seed{};
  for (std::size_t i = 0; i < 8; ++i) seed[i] = static_cast<std::uint8_t>(index >> (8 * i));
  seed[31] = 0x42;
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

PeerId peer_of(const crypto::Ed25519KeyPair& key) { return PeerId::from_ed25519(key.public_key()); }

// ---------------------------------------------------------------- many routers on a virtual clock

// Routers fully connected by a harness that moves RPCs between them through
// the wire codec, in FIFO order, on a virtual clock.
class Network {
 public:
  Network(std::size_t size, std::uint64_t seed, const Options& options, Protocol protocol = Protocol::v1_2) {
    for (std::size_t i = 0; i < size; ++i) {
      auto node = std::make_unique<Node>();
      node->rng = std::make_unique<SeededRng>(seed * 1000 + i);
      const auto key = key_from(seed * 1000 + i);
      node->id = peer_of(key);
      node->router = std::make_unique<Router>(key, *node->rng, now_, options);
      index_.emplace(node->id, i);
      nodes_.push_back(std::move(node));
    }
    for (std::size_t i = 0; i < size; ++i) {
      for (std::size_t j = 0; j < size; ++j) {
        if (i != j) nodes_[i]->router->add_peer(now_, nodes_[j]->id, protocol);
      }
    }
    flush();
  }

  Router& router(std::size_t i) { return *nodes_[i]->router; }
  const PeerId& id(std::size_t i) const { return nodes_[i]->id; }
  std::size_t size() const { return nodes_.size(); }
  Instant now() const { return now_; }
  std::size_t index_of(const PeerId& peer) const { return index_.at(peer); }
  // How often node i delivered message `id` to its application.
  int deliveries(std::size_t i, const Bytes& id) const {
    const auto found = nodes_[i]->delivered.find(id);
    return found == nodes_[i]->delivered.end() ? 0 : found->second;
  }
  std::size_t total_deliveries() const {
    std::size_t total = 0;
    for (const auto& node : nodes_) {
      for (const auto& [id, count] : node->delivered) total += static_cast<std::size_t>(count);
    }
    return total;
  }

  // The node's connections close: every other node forgets it.
  void disconnect(std::size_t gone) {
    nodes_[gone]->online = false;
    for (std::size_t i = 0; i < size(); ++i) {
      if (i != gone) nodes_[i]->router->remove_peer(now_, nodes_[gone]->id);
    }
  }

  // Moves RPCs until every router is quiet.
  void flush() {
    for (bool moved = true; moved;) {
      moved = false;
      for (std::size_t i = 0; i < size(); ++i) {
        while (auto send = nodes_[i]->router->poll_send()) {
          moved = true;
          const std::size_t to = index_.at(send->peer);
          if (!nodes_[i]->online || !nodes_[to]->online) continue;
          const auto decoded = decode_rpc(encode_rpc(send->rpc));
          ASSERT_TRUE(decoded.has_value());
          ASSERT_EQ(*decoded, send->rpc);
          nodes_[to]->router->handle_rpc(now_, nodes_[i]->id, *decoded);
        }
        drain_events(i);
      }
    }
  }

  // Runs every timer due until now + duration.
  void advance(Duration duration) {
    const Instant until = now_ + duration;
    while (true) {
      std::optional<Instant> next;
      for (const auto& node : nodes_) {
        const auto timeout = node->router->next_timeout();
        if (node->online && timeout && (!next || *timeout < *next)) next = timeout;
      }
      if (!next || *next > until) break;
      now_ = *next;
      for (const auto& node : nodes_) {
        if (node->online && node->router->next_timeout() <= now_) node->router->handle_timeout(now_);
      }
      flush();
    }
    now_ = until;
  }

 private:
  struct Node {
    std::unique_ptr<SeededRng> rng;
    std::unique_ptr<Router> router;
    PeerId id = PeerId::from_ed25519(key_from(0).public_key());
    bool online = true;
    std::map<Bytes, int> delivered;
  };

  void drain_events(std::size_t i) {
    while (auto event = nodes_[i]->router->poll_event()) {
      if (const auto* delivered = std::get_if<Delivered>(&*event)) ++nodes_[i]->delivered[delivered->id];
      ASSERT_FALSE(std::holds_alternative<InvalidMessage>(*event));
    }
  }

  Instant now_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<PeerId, std::size_t> index_;
};

void expect_meshes_sound(Network& net, const Options& options, std::optional<std::size_t> absent = std::nullopt) {
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (absent == i) continue;
    const auto mesh = net.router(i).mesh_peers(topic);
    EXPECT_GE(mesh.size(), options.mesh_n_low) << "router " << i;
    EXPECT_LE(mesh.size(), options.mesh_n_high) << "router " << i;
    for (const auto& peer : mesh) {
      const std::size_t other = net.index_of(peer);
      EXPECT_NE(absent, other) << "router " << i << " keeps the departed peer";
      if (absent == other) continue;
      // GRAFT and PRUNE keep meshes symmetric.
      const auto back = net.router(other).mesh_peers(topic);
      EXPECT_NE(std::find(back.begin(), back.end(), net.id(i)), back.end()) << i << " -> " << other;
    }
  }
}

void publish_and_check_exactly_once(Network& net, std::size_t count, std::uint64_t seed,
                                    std::optional<std::size_t> absent = std::nullopt) {
  SeededRng pick(seed);
  std::vector<std::pair<std::size_t, Bytes>> published;
  for (std::size_t m = 0; m < count; ++m) {
    std::size_t from = pick.next_u64() % net.size();
    while (absent == from) from = pick.next_u64() % net.size();
    // Every fourth message is large enough for IDONTWANT.
    Bytes data((m % 4 == 0) ? 700 : 20, static_cast<std::uint8_t>(m));
    data[0] = static_cast<std::uint8_t>(m >> 8);
    auto id = net.router(from).publish(net.now(), topic, data);
    ASSERT_TRUE(id.has_value()) << id.error().detail;
    published.emplace_back(from, *id);
    net.flush();
    // A connected mesh delivers at once, before any heartbeat gossip.
    for (std::size_t i = 0; i < net.size(); ++i) {
      if (absent != i) ASSERT_EQ(net.deliveries(i, *id), i == from ? 0 : 1) << "router " << i << " message " << m;
    }
    if (m % 10 == 9) net.advance(milliseconds(300));
  }
  net.advance(seconds(3));  // let gossip repair whatever the mesh missed
  std::size_t expected_total = 0;
  for (const auto& [from, id] : published) {
    for (std::size_t i = 0; i < net.size(); ++i) {
      if (absent == i) continue;
      const int expected = i == from ? 0 : 1;
      expected_total += static_cast<std::size_t>(expected);
      ASSERT_EQ(net.deliveries(i, id), expected) << "router " << i << " publisher " << from;
    }
  }
  EXPECT_EQ(net.total_deliveries(), expected_total);
}

// Parameters: flood publishing on or off, and the seed of the run.
class GossipsubNetwork : public ::testing::TestWithParam<std::tuple<bool, std::uint64_t>> {};

TEST_P(GossipsubNetwork, TwentyRoutersFormMeshesAndDeliverEveryMessageOnce) {
  Options options;
  options.flood_publish = std::get<0>(GetParam());
  const std::uint64_t seed = std::get<1>(GetParam());
  Network net(20, seed, options);
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_TRUE(net.router(i).subscribe(net.now(), topic).has_value());
  net.flush();
  for (std::size_t i = 0; i < net.size(); ++i) EXPECT_EQ(net.router(i).topic_peers(topic).size(), 19u);
  net.advance(seconds(5));
  expect_meshes_sound(net, options);
  publish_and_check_exactly_once(net, 100, seed + 7);
}

INSTANTIATE_TEST_SUITE_P(Seeds, GossipsubNetwork, ::testing::Combine(::testing::Bool(), ::testing::Range<std::uint64_t>(1, 6)));

TEST(GossipsubNetworkTest, UnsubscribedPublisherUsesFanout) {
  Options options;
  options.flood_publish = false;
  Network net(20, 1002, options);
  for (std::size_t i = 1; i < net.size(); ++i) ASSERT_TRUE(net.router(i).subscribe(net.now(), topic).has_value());
  net.flush();
  net.advance(seconds(3));
  const auto id = net.router(0).publish(net.now(), topic, to_bytes("from outside"));
  ASSERT_TRUE(id.has_value());
  const auto fanout = net.router(0).fanout_peers(topic);
  EXPECT_EQ(fanout.size(), options.mesh_n);
  EXPECT_TRUE(net.router(0).mesh_peers(topic).empty());
  net.flush();
  net.advance(seconds(2));
  for (std::size_t i = 1; i < net.size(); ++i) EXPECT_EQ(net.deliveries(i, *id), 1) << i;
  EXPECT_EQ(net.deliveries(0, *id), 0);  // not subscribed, and never its own
  // The fanout is kept while publishing continues, then expires after its TTL.
  net.advance(seconds(30));
  EXPECT_EQ(net.router(0).fanout_peers(topic), fanout);
  net.advance(options.fanout_ttl);
  EXPECT_TRUE(net.router(0).fanout_peers(topic).empty());
}

TEST(GossipsubNetworkTest, DepartedRouterIsPrunedFromMeshes) {
  Options options;
  Network net(20, 1003, options);
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_TRUE(net.router(i).subscribe(net.now(), topic).has_value());
  net.flush();
  net.advance(seconds(3));
  std::size_t holding = 0;
  for (std::size_t i = 0; i < net.size(); ++i) {
    const auto mesh = net.router(i).mesh_peers(topic);
    holding += static_cast<std::size_t>(std::count(mesh.begin(), mesh.end(), net.id(7)));
  }
  ASSERT_GT(holding, 0u);
  net.disconnect(7);
  net.advance(seconds(3));
  expect_meshes_sound(net, options, 7);
  publish_and_check_exactly_once(net, 20, 11, 7);
}

TEST(GossipsubNetworkTest, UnsubscribingRouterPrunesItselfAndIsNotRegrafted) {
  Options options;
  Network net(12, 1004, options);
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_TRUE(net.router(i).subscribe(net.now(), topic).has_value());
  net.flush();
  net.advance(seconds(3));
  net.router(5).unsubscribe(net.now(), topic);
  net.flush();
  net.advance(seconds(5));
  EXPECT_TRUE(net.router(5).mesh_peers(topic).empty());
  for (std::size_t i = 0; i < net.size(); ++i) {
    if (i == 5) continue;
    const auto mesh = net.router(i).mesh_peers(topic);
    EXPECT_EQ(std::count(mesh.begin(), mesh.end(), net.id(5)), 0) << i;
    EXPECT_EQ(net.router(i).topic_peers(topic).size(), 10u) << i;
  }
}

TEST(GossipsubNetworkTest, MixedProtocolVersionsInteroperate) {
  Options options;
  options.flood_publish = false;
  Network net(10, 1005, options, Protocol::v1_0);
  for (std::size_t i = 0; i < net.size(); ++i) ASSERT_TRUE(net.router(i).subscribe(net.now(), topic).has_value());
  net.flush();
  net.advance(seconds(3));
  publish_and_check_exactly_once(net, 20, 13);
}

// ---------------------------------------------------------------- one router, scripted peers

class GossipsubRouter : public ::testing::Test {
 protected:
  GossipsubRouter() : router_(key_from(100), rng_, Instant{}, options()) {
    for (std::uint64_t i = 0; i < 4; ++i) {
      keys_.push_back(key_from(200 + i));
      peers_.push_back(peer_of(keys_.back()));
    }
  }

  static Options options() {
    Options o;
    o.flood_publish = false;
    return o;
  }

  // Connects peer i with `protocol`, subscribed to the topic.
  void join(std::size_t i, Protocol protocol = Protocol::v1_2, bool graft = true) {
    router_.add_peer(now_, peers_[i], protocol);
    Rpc rpc;
    rpc.subscriptions.push_back({true, std::string(topic)});
    if (graft) {
      rpc.control.emplace();
      rpc.control->graft.push_back({std::string(topic)});
    }
    router_.handle_rpc(now_, peers_[i], rpc);
  }
  // We subscribe and peers 0-2 join our mesh; their sends and events drained.
  void subscribe_with_mesh_of_three() {
    ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
    join(0);
    join(1);
    join(2);
    sends();
    events();
  }


  // What the router sent, as the peers decode it (shared encodings become
  // plain messages and IHAVE entries).
  std::vector<Send> sends() {
    std::vector<Send> out;
    while (auto send = router_.poll_send()) {
      auto decoded = decode_rpc(encode_rpc(send->rpc));
      EXPECT_TRUE(decoded.has_value());
      if (decoded) out.push_back({send->peer, std::move(*decoded)});
    }
    return out;
  }
  std::vector<Event> events() {
    std::vector<Event> out;
    while (auto event = router_.poll_event()) out.push_back(std::move(*event));
    return out;
  }
  static Rpc carrying(const Message& message) {
    Rpc rpc;
    rpc.publish.push_back(message);
    return rpc;
  }
  static std::size_t count_publish_to(const std::vector<Send>& sends, const PeerId& peer) {
    std::size_t count = 0;
    for (const auto& send : sends) {
      if (send.peer == peer) count += send.rpc.publish.size();
    }
    return count;
  }

  SeededRng rng_{99};
  Instant now_;
  Router router_;
  std::vector<crypto::Ed25519KeyPair> keys_;
  std::vector<PeerId> peers_;
};

TEST_F(GossipsubRouter, HeartbeatFirstAfter100MsThenEverySecond) {
  ASSERT_EQ(router_.next_timeout(), Instant{} + milliseconds(100));
  router_.handle_timeout(Instant{} + milliseconds(50));  // early: nothing happens
  EXPECT_EQ(router_.next_timeout(), Instant{} + milliseconds(100));
  router_.handle_timeout(Instant{} + milliseconds(100));
  EXPECT_EQ(router_.next_timeout(), Instant{} + milliseconds(1100));
}

TEST_F(GossipsubRouter, AnnouncesSubscriptionsToNewAndExistingPeers) {
  router_.add_peer(now_, peers_[0], Protocol::v1_1);
  EXPECT_TRUE(sends().empty());
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  auto out = sends();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].rpc.subscriptions, (std::vector<SubOpts>{{true, std::string(topic)}}));
  router_.add_peer(now_, peers_[1], Protocol::v1_1);
  out = sends();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].peer, peers_[1]);
  EXPECT_EQ(out[0].rpc.subscriptions.size(), 1u);
}

TEST_F(GossipsubRouter, DeliversValidMessagesOnceAndForwardsToMesh) {
  subscribe_with_mesh_of_three();
  const Message message = sign_message(keys_[3], topic, to_bytes("hi"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(message));
  router_.handle_rpc(now_, peers_[1], carrying(message));  // the duplicate
  const auto out = sends();
  EXPECT_EQ(count_publish_to(out, peers_[0]), 0u);  // never back to the source
  EXPECT_EQ(count_publish_to(out, peers_[1]), 1u);
  EXPECT_EQ(count_publish_to(out, peers_[2]), 1u);
  const auto got = events();
  ASSERT_EQ(got.size(), 1u);
  const auto& delivered = std::get<Delivered>(got[0]);
  EXPECT_EQ(delivered.propagation_source, peers_[0]);
  EXPECT_EQ(delivered.author, peers_[3]);
  EXPECT_EQ(delivered.id, message_id(message));
  EXPECT_EQ(router_.stats().duplicate_messages, 1u);
}

TEST_F(GossipsubRouter, RejectsInvalidMessagesWithoutForwarding) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  join(1);
  sends();
  events();
  Message message = sign_message(keys_[3], topic, to_bytes("hi"), 1);
  message.data[0] ^= 1;
  router_.handle_rpc(now_, peers_[0], carrying(message));
  EXPECT_EQ(count_publish_to(sends(), peers_[1]), 0u);
  const auto got = events();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<InvalidMessage>(got[0]).error.code, validation::Errc::bad_signature);
}

TEST_F(GossipsubRouter, IgnoresMessagesForTopicsWeDoNotSubscribe) {
  join(0);
  events();
  router_.handle_rpc(now_, peers_[0], carrying(sign_message(keys_[3], topic, to_bytes("x"), 1)));
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(router_.stats().unsubscribed_topic_messages, 1u);
}

TEST_F(GossipsubRouter, SeenCacheExpiresAfterItsTtl) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  events();
  const Message message = sign_message(keys_[3], topic, to_bytes("x"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(message));
  EXPECT_EQ(router_.seen_count(), 1u);
  now_ = now_ + seconds(119);
  router_.handle_timeout(now_);
  EXPECT_EQ(router_.seen_count(), 1u);
  router_.handle_rpc(now_, peers_[0], carrying(message));
  EXPECT_EQ(events().size(), 1u);  // still a duplicate
  now_ = now_ + seconds(2);
  router_.handle_timeout(now_);
  EXPECT_EQ(router_.seen_count(), 0u);
}

TEST_F(GossipsubRouter, SendsIDontWantForLargeMessagesToV12MeshPeersOnly) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0, Protocol::v1_2);
  join(1, Protocol::v1_2);
  join(2, Protocol::v1_1);
  sends();
  const Message small = sign_message(keys_[3], topic, Bytes(511, 1), 1);
  router_.handle_rpc(now_, peers_[0], carrying(small));
  for (const auto& send : sends()) EXPECT_FALSE(send.rpc.control.has_value());
  const Message large = sign_message(keys_[3], topic, Bytes(512, 1), 2);
  router_.handle_rpc(now_, peers_[0], carrying(large));
  std::vector<PeerId> told;
  for (const auto& send : sends()) {
    if (send.rpc.control && !send.rpc.control->idontwant.empty()) {
      told.push_back(send.peer);
      EXPECT_EQ(send.rpc.control->idontwant[0].message_ids, (std::vector<Bytes>{message_id(large)}));
    }
  }
  EXPECT_EQ(told, (std::vector<PeerId>{peers_[1]}));
}

TEST_F(GossipsubRouter, HonorsIDontWant) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  join(1);
  join(2, Protocol::v1_1);
  sends();
  const Message message = sign_message(keys_[3], topic, Bytes(600, 3), 1);
  Rpc dont;
  dont.control.emplace();
  dont.control->idontwant.push_back({{message_id(message)}});
  router_.handle_rpc(now_, peers_[1], dont);
  router_.handle_rpc(now_, peers_[2], dont);  // a v1.1 peer cannot send it: ignored
  router_.handle_rpc(now_, peers_[0], carrying(message));
  const auto out = sends();
  EXPECT_EQ(count_publish_to(out, peers_[1]), 0u);
  EXPECT_EQ(count_publish_to(out, peers_[2]), 1u);
  EXPECT_EQ(router_.stats().idontwant_ignored, 1u);
}

TEST_F(GossipsubRouter, AnswersIHaveWithIWantForUnseenIdsOnly) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  sends();
  const Message known = sign_message(keys_[3], topic, to_bytes("a"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(known));
  sends();
  const Bytes unknown_id = message_id(sign_message(keys_[3], topic, to_bytes("b"), 2));
  Rpc ihave;
  ihave.control.emplace();
  ihave.control->ihave.push_back({std::string(topic), {message_id(known), unknown_id, unknown_id}});
  ihave.control->ihave.push_back({"other-topic", {Bytes{1, 2, 3}}});
  router_.handle_rpc(now_, peers_[0], ihave);
  const auto out = sends();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].rpc.control.has_value());
  ASSERT_EQ(out[0].rpc.control->iwant.size(), 1u);
  EXPECT_EQ(out[0].rpc.control->iwant[0].message_ids, (std::vector<Bytes>{unknown_id}));
}

TEST_F(GossipsubRouter, LimitsIHavesPerHeartbeat) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  sends();
  for (std::uint64_t i = 0; i < 15; ++i) {
    Rpc ihave;
    ihave.control.emplace();
    ihave.control->ihave.push_back({std::string(topic), {message_id(sign_message(keys_[3], topic, {}, i))}});
    router_.handle_rpc(now_, peers_[0], ihave);
  }
  EXPECT_EQ(sends().size(), options().ihave_per_peer_per_heartbeat_max);
  EXPECT_EQ(router_.stats().ihave_ignored, 5u);
}

TEST_F(GossipsubRouter, AnswersIWantFromTheMessageCache) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  sends();
  const auto id = router_.publish(now_, topic, to_bytes("cached"));
  ASSERT_TRUE(id.has_value());
  sends();
  Rpc iwant;
  iwant.control.emplace();
  iwant.control->iwant.push_back({{*id, Bytes{9, 9}}});
  router_.handle_rpc(now_, peers_[0], iwant);
  auto out = sends();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].rpc.publish.size(), 1u);
  EXPECT_EQ(message_id(out[0].rpc.publish[0]), *id);
  // After mcache_windows heartbeats the message is gone from the cache.
  for (int i = 0; i < 5; ++i) {
    now_ = *router_.next_timeout();
    router_.handle_timeout(now_);
  }
  sends();
  router_.handle_rpc(now_, peers_[0], iwant);
  EXPECT_TRUE(sends().empty());
}

// The copies of one message to the mesh, to IWANT and to our own publish's
// recipients are one encoding shared, not one encoding per peer.
TEST_F(GossipsubRouter, ForwardsAndServesOneSharedEncodingPerMessage) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  join(1);
  join(2);
  sends();
  const Message message = sign_message(keys_[3], topic, to_bytes("shared"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(message));
  std::vector<Send> raw;
  while (auto send = router_.poll_send()) raw.push_back(std::move(*send));
  ASSERT_EQ(raw.size(), 2u);  // peers 1 and 2
  const std::uint8_t* shared = nullptr;
  for (const auto& send : raw) {
    EXPECT_TRUE(send.rpc.publish.empty());
    ASSERT_EQ(send.rpc.publish_encoded.size(), 1u);
    const ByteView bytes = send.rpc.publish_encoded[0].bytes();
    if (shared == nullptr) shared = bytes.data();
    EXPECT_EQ(bytes.data(), shared);
    EXPECT_EQ(Bytes(bytes.begin(), bytes.end()), encode_message(message));
  }
  Rpc iwant;
  iwant.control.emplace();
  iwant.control->iwant.push_back({{message_id(message)}});
  router_.handle_rpc(now_, peers_[1], iwant);
  auto answer = router_.poll_send();
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->rpc.publish_encoded.size(), 1u);
  EXPECT_EQ(answer->rpc.publish_encoded[0].bytes().data(), shared);

  const auto id = router_.publish(now_, topic, to_bytes("ours"));
  ASSERT_TRUE(id.has_value());
  raw.clear();
  while (auto send = router_.poll_send()) raw.push_back(std::move(*send));
  ASSERT_EQ(raw.size(), 3u);
  for (const auto& send : raw) {
    ASSERT_EQ(send.rpc.publish_encoded.size(), 1u);
    EXPECT_EQ(send.rpc.publish_encoded[0].bytes().data(), raw[0].rpc.publish_encoded[0].bytes().data());
  }
}

// Verification happens once per message id: a later copy with the same id
// is a duplicate whatever its signature, and is neither checked, nor
// delivered, nor forwarded.
TEST_F(GossipsubRouter, VerifiesEachMessageOnce) {
  subscribe_with_mesh_of_three();
  const Message message = sign_message(keys_[3], topic, to_bytes("once"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(message));
  Message forged = message;
  forged.data = to_bytes("twice");  // same id (key, seqno), signature no longer matches
  router_.handle_rpc(now_, peers_[1], carrying(forged));
  EXPECT_EQ(router_.stats().invalid_messages, 0u);
  EXPECT_EQ(router_.stats().duplicate_messages, 1u);
  const auto got = events();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<Delivered>(got[0]).message, message);
  for (const auto& send : sends()) {
    for (const auto& sent : send.rpc.publish) EXPECT_EQ(sent, message);
  }
}

TEST_F(GossipsubRouter, MovedRpcDeliversTheSameMessage) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  join(1);
  sends();
  events();
  const Message message = sign_message(keys_[3], topic, to_bytes("moved"), 1);
  router_.handle_rpc(now_, peers_[0], carrying(message));  // by rvalue: the temporary is moved from
  const Message second = sign_message(keys_[3], topic, to_bytes("kept"), 2);
  const Rpc kept = carrying(second);
  router_.handle_rpc(now_, peers_[0], kept);
  EXPECT_EQ(kept.publish[0], second);  // a const RPC is left alone
  const auto got = events();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(std::get<Delivered>(got[0]).message, message);
  EXPECT_EQ(std::get<Delivered>(got[1]).message, second);
  EXPECT_EQ(count_publish_to(sends(), peers_[1]), 2u);
}

TEST_F(GossipsubRouter, LimitsIWantRetransmissionsPerPeer) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  join(1);
  sends();
  const auto id = router_.publish(now_, topic, to_bytes("popular"));
  ASSERT_TRUE(id.has_value());
  sends();
  Rpc iwant;
  iwant.control.emplace();
  iwant.control->iwant.push_back({{*id, *id}});  // a repeat within one RPC counts once
  for (std::size_t i = 0; i < options().gossip_retransmission; ++i) {
    router_.handle_rpc(now_, peers_[0], iwant);
    EXPECT_EQ(count_publish_to(sends(), peers_[0]), 1u) << i;
  }
  router_.handle_rpc(now_, peers_[0], iwant);
  EXPECT_TRUE(sends().empty());
  EXPECT_EQ(router_.stats().iwant_retransmissions_refused, 1u);
  router_.handle_rpc(now_, peers_[1], iwant);  // other peers are counted apart
  EXPECT_EQ(count_publish_to(sends(), peers_[1]), 1u);
}

TEST_F(GossipsubRouter, GossipsIHaveToNonMeshPeers) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);                              // grafted into our mesh
  join(1, Protocol::v1_2, /*graft=*/false);  // subscribed, outside the mesh
  now_ = *router_.next_timeout();
  router_.handle_timeout(now_);  // our heartbeat grafts peer 1 too (mesh < D_low)
  sends();
  join(2, Protocol::v1_2, false);
  Rpc prune;  // peer 2 refuses the mesh, so it stays a gossip target
  prune.control.emplace();
  prune.control->prune.push_back({std::string(topic), {}, 60});
  router_.handle_rpc(now_, peers_[2], prune);
  const auto id = router_.publish(now_, topic, to_bytes("gossip me"));
  ASSERT_TRUE(id.has_value());
  sends();
  now_ = *router_.next_timeout();
  router_.handle_timeout(now_);
  bool ihave_to_2 = false;
  for (const auto& send : sends()) {
    if (!send.rpc.control) continue;
    for (const auto& ihave : send.rpc.control->ihave) {
      EXPECT_NE(send.peer, peers_[0]);  // mesh peers already have it
      if (send.peer == peers_[2] && ihave.message_ids == std::vector<Bytes>{*id}) ihave_to_2 = true;
    }
  }
  EXPECT_TRUE(ihave_to_2);
}

TEST_F(GossipsubRouter, GossipsOneSharedIHavePerTopic) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0);
  now_ = *router_.next_timeout();
  router_.handle_timeout(now_);
  // Peers 1-3 refuse the mesh: three gossip targets.
  for (std::size_t i = 1; i < 4; ++i) {
    join(i, Protocol::v1_2, false);
    Rpc prune;
    prune.control.emplace();
    prune.control->prune.push_back({std::string(topic), {}, 60});
    router_.handle_rpc(now_, peers_[i], prune);
  }
  ASSERT_TRUE(router_.publish(now_, topic, to_bytes("one")).has_value());
  ASSERT_TRUE(router_.publish(now_, topic, to_bytes("two")).has_value());
  sends();
  now_ = *router_.next_timeout();
  router_.handle_timeout(now_);
  std::vector<SharedEncoding> ihaves;
  while (auto send = router_.poll_send()) {
    if (!send->rpc.control) continue;
    EXPECT_TRUE(send->rpc.control->ihave.empty());
    for (const auto& encoded : send->rpc.control->ihave_encoded) ihaves.push_back(encoded);
  }
  ASSERT_EQ(ihaves.size(), 3u);
  for (const auto& ihave : ihaves) EXPECT_EQ(ihave.bytes().data(), ihaves[0].bytes().data());
  Rpc wrapped;
  wrapped.control.emplace();
  wrapped.control->ihave_encoded.push_back(ihaves[0]);
  const auto decoded = decode_rpc(encode_rpc(wrapped));
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->control->ihave.size(), 1u);
  EXPECT_EQ(decoded->control->ihave[0].topic, topic);
  EXPECT_EQ(decoded->control->ihave[0].message_ids.size(), 2u);
}

TEST_F(GossipsubRouter, PruneBackoffIsHonored) {
  ASSERT_TRUE(router_.subscribe(now_, topic).has_value());
  join(0, Protocol::v1_1);
  ASSERT_EQ(router_.mesh_peers(topic).size(), 1u);
  sends();
  Rpc prune;
  prune.control.emplace();
  prune.control->prune.push_back({std::string(topic), {}, 10});
  router_.handle_rpc(now_, peers_[0], prune);
  EXPECT_TRUE(router_.mesh_peers(topic).empty());
  // The mesh is under D_low, but the peer is in backoff: no GRAFT for 10 s.
  for (int i = 0; i < 9; ++i) {
    now_ = *router_.next_timeout();
    router_.handle_timeout(now_);
    for (const auto& send : sends()) EXPECT_FALSE(send.rpc.control && !send.rpc.control->graft.empty()) << i;
  }
  // Its GRAFT during backoff is answered with PRUNE carrying our backoff.
  Rpc graft;
  graft.control.emplace();
  graft.control->graft.push_back({std::string(topic)});
  router_.handle_rpc(now_, peers_[0], graft);
  auto out = sends();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].rpc.control->prune.size(), 1u);
  EXPECT_EQ(out[0].rpc.control->prune[0].backoff, 60u);
  EXPECT_TRUE(router_.mesh_peers(topic).empty());
  now_ = now_ + seconds(2);
  router_.handle_timeout(now_);
  bool grafted = false;
  for (const auto& send : sends()) grafted |= send.rpc.control && !send.rpc.control->graft.empty();
  EXPECT_TRUE(grafted);
  EXPECT_EQ(router_.mesh_peers(topic).size(), 1u);
}

TEST_F(GossipsubRouter, GraftForUnknownTopicIsPrunedWithoutBackoffForV10) {
  router_.add_peer(now_, peers_[0], Protocol::v1_0);
  Rpc graft;
  graft.control.emplace();
  graft.control->graft.push_back({"nope"});
  router_.handle_rpc(now_, peers_[0], graft);
  const auto out = sends();
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].rpc.control->prune.size(), 1u);
  EXPECT_EQ(out[0].rpc.control->prune[0].topic, "nope");
  EXPECT_FALSE(out[0].rpc.control->prune[0].backoff.has_value());
}

TEST_F(GossipsubRouter, PublishWithoutPeersFails) {
  const auto id = router_.publish(now_, topic, to_bytes("alone"));
  ASSERT_FALSE(id.has_value());
  EXPECT_EQ(id.error().code, publish::Errc::no_peers);
  EXPECT_TRUE(router_.fanout_peers(topic).empty());
}

TEST_F(GossipsubRouter, BoundsPeersAndTopicsPerPeer) {
  Options o;
  o.peers_max = 2;
  o.topics_per_peer_max = 3;
  Router small(key_from(1), rng_, now_, o);
  for (std::size_t i = 0; i < 3; ++i) small.add_peer(now_, peers_[i], Protocol::v1_2);
  EXPECT_EQ(small.peer_count(), 2u);
  EXPECT_EQ(small.stats().peers_refused, 1u);
  Rpc subs;
  for (int i = 0; i < 5; ++i) subs.subscriptions.push_back({true, "t" + std::to_string(i)});
  small.handle_rpc(now_, peers_[0], subs);
  EXPECT_EQ(small.stats().topics_per_peer_refused, 2u);
  small.handle_rpc(now_, peers_[3], subs);  // unknown peer
  EXPECT_EQ(small.stats().unknown_peer_rpcs, 1u);
}

TEST_F(GossipsubRouter, MessageCacheIsBounded) {
  Options o;
  o.mcache_messages_max = 3;
  o.flood_publish = true;
  Router small(key_from(1), rng_, now_, o);
  small.add_peer(now_, peers_[0], Protocol::v1_2);
  Rpc sub;
  sub.subscriptions.push_back({true, std::string(topic)});
  small.handle_rpc(now_, peers_[0], sub);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(small.publish(now_, topic, to_bytes(std::to_string(i))).has_value());
  EXPECT_EQ(small.mcache_count(), 3u);
  EXPECT_EQ(small.stats().mcache_evicted, 2u);
}

TEST(GossipsubProtocol, ParsesNegotiatedIds) {
  EXPECT_EQ(parse_protocol("/meshsub/1.2.0"), Protocol::v1_2);
  EXPECT_EQ(parse_protocol("/meshsub/1.1.0"), Protocol::v1_1);
  EXPECT_EQ(parse_protocol("/meshsub/1.0.0"), Protocol::v1_0);
  EXPECT_EQ(parse_protocol("/floodsub/1.0.0"), std::nullopt);
}

}  // namespace
}  // namespace taho::gossipsub
