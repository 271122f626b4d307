// Gossipsub routers on the deterministic simulated network: hundreds of
// nodes on a random sparse topology, every RPC framed, sent as bytes over
// links with latency and jitter (and loss, partitions, misbehaving nodes),
// and decoded again on arrival. Each scenario runs from a fixed seed, so its
// figures (printed as "[ sim ]" lines) replay exactly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/seeded_rng.hpp"
#include "proto/gossipsub/router.hpp"
#include "runtime/sim/network.hpp"

namespace taho {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using sim::NodeIndex;

constexpr std::string_view topic = "taho/sim";

enum class Role {
  honest,
  dropper,  // never forwards a message (keeps GRAFTing and gossiping IHAVE)
  spammer,  // injects invalid messages into its neighbours
};

struct SwarmConfig {
  std::size_t nodes = 500;
  std::uint64_t seed = 1;
  std::size_t degree_min = 8;
  std::size_t degree_max = 12;
  sim::LinkProfile link{milliseconds(20), milliseconds(10)};
  gossipsub::Options options;
  // The transport's loss/RTT estimate reaches the routers (as a real
  // transport would report it), for the adaptive heartbeat.
  bool report_link_quality = false;
  // Application validation: data starting with "spam" is rejected.
  bool validate = false;
};

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(rank, values.size() - 1)];
}

// Routers on sim::Network. Node i is network node i; its heartbeat is a
// Wakeup whose token is the generation of the timer, so stale ones are skipped.
class Swarm {
 public:
  explicit Swarm(const SwarmConfig& config) : config_(config), net_(config.nodes, config.seed, config.link) {
    gossipsub::Options options = config.options;
    options.validate_messages = config.validate;
    for (std::size_t i = 0; i < config.nodes; ++i) {
      auto node = std::make_unique<Node>();
      crypto::Ed25519Seed key_seed{};
      for (std::size_t b = 0; b < 8; ++b) key_seed[b] = static_cast<std::uint8_t>((config.seed * 100'003 + i) >> (8 * b));
      key_seed[31] = 0x5a;
      node->key = *crypto::Ed25519KeyPair::from_seed(key_seed);
      node->id = PeerId::from_ed25519(node->key.public_key());
      node->rng = std::make_unique<SeededRng>(config.seed * 7919 + i);
      node->router = std::make_unique<gossipsub::Router>(node->key, *node->rng, net_.now(), options);
      index_.emplace(node->id, static_cast<NodeIndex>(i));
      nodes_.push_back(std::move(node));
    }
    build_topology();
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      for (const NodeIndex other : nodes_[i]->neighbours) {
        router(i).add_peer(net_.now(), nodes_[other]->id, gossipsub::Protocol::v1_2);
        if (config.report_link_quality) {
          const auto& link = net_.link(static_cast<NodeIndex>(i), other);
          router(i).report_link_quality(nodes_[other]->id, link.loss, 2 * link.latency + link.jitter);
        }
      }
      pump(i);
    }
  }

  std::size_t size() const { return nodes_.size(); }
  sim::Network& net() { return net_; }
  gossipsub::Router& router(std::size_t i) { return *nodes_[i]->router; }
  const PeerId& id(std::size_t i) const { return nodes_[i]->id; }
  const std::vector<NodeIndex>& neighbours(std::size_t i) const { return nodes_[i]->neighbours; }
  Role role(std::size_t i) const { return nodes_[i]->role; }
  void set_role(std::size_t i, Role role) { nodes_[i]->role = role; }

  void subscribe_all() {
    for (std::size_t i = 0; i < size(); ++i) {
      ASSERT_TRUE(router(i).subscribe(net_.now(), topic).has_value());
      pump(i);
    }
  }

  // Publishes from node `from`; returns the message's index, or nullopt
  // when the router refused (no peers).
  std::optional<std::size_t> publish(std::size_t from, ByteView data) {
    auto id = router(from).publish(net_.now(), topic, data);
    pump(from);
    if (!id) return std::nullopt;
    const std::size_t index = messages_.size();
    messages_.push_back({static_cast<NodeIndex>(from), net_.now()});
    message_index_.emplace(std::string(as_text(*id)), index);
    for (auto& node : nodes_) node->received.push_back({});
    return index;
  }

  // Sends each neighbour of `spammer` `count` invalid messages: half with a
  // broken signature, half well signed but rejected by the application.
  void spam(std::size_t spammer, std::size_t count) {
    Node& node = *nodes_[spammer];
    for (const NodeIndex to : node.neighbours) {
      gossipsub::Rpc rpc;
      for (std::size_t k = 0; k < count; ++k) {
        const std::string text = "spam " + std::to_string(spam_counter_++);
        auto message = gossipsub::sign_message(node.key, topic, to_bytes(text), spam_counter_ * 1'000'003);
        if (k % 2 == 0) message.data.push_back(0x21);  // the signature no longer matches
        rpc.publish.push_back(std::move(message));
      }
      net_.send(static_cast<NodeIndex>(spammer), to, gossipsub::encode_framed(rpc));
    }
  }

  void run_until(Instant until) {
    while (auto event = net_.step(until)) {
      if (auto* delivery = std::get_if<sim::Delivery>(&event->what)) {
        receive(*delivery);
      } else {
        const auto& wakeup = std::get<sim::Wakeup>(event->what);
        Node& node = *nodes_[wakeup.node];
        if (wakeup.token != node.timer_generation) continue;
        node.timer_armed.reset();
        node.router->handle_timeout(net_.now());
        pump(wakeup.node);
      }
    }
  }

  // ---- figures
  struct Figures {
    std::size_t messages = 0;
    std::size_t expected = 0;   // (message, honest receiver) pairs
    std::size_t delivered = 0;  // of those, delivered at least once
    std::size_t delivered_twice = 0;
    double ratio = 0;
    double latency_p50_ms = 0;
    double latency_p99_ms = 0;
    double latency_p999_ms = 0;
    double latency_max_ms = 0;
    double duplicates_per_message = 0;  // copies received beyond the first, per message and node, over the whole run
    std::uint64_t heartbeats_sent = 0;
  };

  // Over messages [first, last), counting honest receivers other than the publisher.
  Figures figures(std::size_t first = 0, std::optional<std::size_t> last = std::nullopt) const {
    Figures out;
    const std::size_t end = last.value_or(messages_.size());
    std::vector<double> latencies;
    for (std::size_t m = first; m < end; ++m) {
      ++out.messages;
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i]->role != Role::honest || i == messages_[m].publisher) continue;
        ++out.expected;
        const Received& received = nodes_[i]->received[m];
        if (received.count == 0) continue;
        ++out.delivered;
        if (received.count > 1) ++out.delivered_twice;
        latencies.push_back(std::chrono::duration<double, std::milli>(received.first - messages_[m].at).count());
      }
    }
    std::uint64_t duplicates = 0;
    for (const auto& node : nodes_) duplicates += node->router->stats().duplicate_messages;
    out.ratio = out.expected == 0 ? 1 : static_cast<double>(out.delivered) / static_cast<double>(out.expected);
    out.latency_p50_ms = percentile(latencies, 0.5);
    out.latency_p99_ms = percentile(latencies, 0.99);
    out.latency_p999_ms = percentile(latencies, 0.999);
    out.latency_max_ms = percentile(latencies, 1.0);
    out.duplicates_per_message = messages_.empty() ? 0
        : static_cast<double>(duplicates) / static_cast<double>(messages_.size()) / static_cast<double>(nodes_.size());
    return out;
  }

  static void print(const char* label, const Figures& f) {
    std::printf("[ sim ] %-36s msgs %4zu  delivered %zu/%zu (%.5f)  twice %zu  latency ms p50 %.1f p99 %.1f p99.9 %.1f"
                " max %.1f  duplicates/msg/node %.2f\n",
                label, f.messages, f.delivered, f.expected, f.ratio, f.delivered_twice, f.latency_p50_ms,
                f.latency_p99_ms, f.latency_p999_ms, f.latency_max_ms, f.duplicates_per_message);
  }

  std::size_t received_count(std::size_t node, std::size_t message) const { return nodes_[node]->received[message].count; }
  std::size_t message_publisher(std::size_t message) const { return messages_[message].publisher; }
  std::size_t message_count() const { return messages_.size(); }

  // The mean score honest neighbours give node i, and how many of them see it negative.
  std::pair<double, std::size_t> standing(std::size_t i) const {
    double sum = 0;
    std::size_t honest = 0;
    std::size_t negative = 0;
    for (const NodeIndex other : nodes_[i]->neighbours) {
      if (nodes_[other]->role != Role::honest) continue;
      const double score = nodes_[other]->router->score(nodes_[i]->id);
      sum += score;
      ++honest;
      if (score < 0) ++negative;
    }
    return {honest == 0 ? 0 : sum / static_cast<double>(honest), negative};
  }
  std::size_t honest_neighbours(std::size_t i) const {
    return static_cast<std::size_t>(std::count_if(nodes_[i]->neighbours.begin(), nodes_[i]->neighbours.end(),
                                                  [&](NodeIndex n) { return nodes_[n]->role == Role::honest; }));
  }

 private:
  struct Received {
    std::size_t count = 0;
    Instant first;
  };
  struct Node {
    crypto::Ed25519KeyPair key = *crypto::Ed25519KeyPair::from_seed(crypto::Ed25519Seed{});
    PeerId id = PeerId::from_ed25519(key.public_key());
    std::unique_ptr<SeededRng> rng;
    std::unique_ptr<gossipsub::Router> router;
    std::vector<NodeIndex> neighbours;
    Role role = Role::honest;
    std::vector<Received> received;  // by message index
    std::optional<Instant> timer_armed;
    std::uint64_t timer_generation = 0;
  };
  struct Published {
    NodeIndex publisher;
    Instant at;
  };

  // Each node gets a target degree in [degree_min, degree_max] and links to
  // random nodes that still have room; links are both ways.
  void build_topology() {
    SeededRng pick(config_.seed ^ 0x70b0);
    const std::size_t n = nodes_.size();
    std::vector<std::size_t> target(n);
    for (auto& t : target) t = config_.degree_min + pick.next_u64() % (config_.degree_max - config_.degree_min + 1);
    for (std::size_t i = 0; i < n; ++i) {
      for (int attempts = 0; nodes_[i]->neighbours.size() < target[i] && attempts < 1000; ++attempts) {
        const auto j = static_cast<NodeIndex>(pick.next_u64() % n);
        auto& mine = nodes_[i]->neighbours;
        auto& theirs = nodes_[j]->neighbours;
        if (j == i || theirs.size() >= config_.degree_max || std::find(mine.begin(), mine.end(), j) != mine.end()) continue;
        mine.push_back(j);
        theirs.push_back(static_cast<NodeIndex>(i));
      }
    }
  }

  // Every payload is one whole frame (encode_framed), read back through
  // the stream framing a real connection uses.
  void receive(sim::Delivery& delivery) {
    gossipsub::FrameReader reader;
    ASSERT_TRUE(reader.push(delivery.payload).has_value());
    auto rpc = reader.next();
    ASSERT_TRUE(rpc.has_value() && rpc->has_value()) << "undecodable RPC " << delivery.from << " -> " << delivery.to;
    ASSERT_EQ(reader.buffered_bytes(), 0u);
    router(delivery.to).handle_rpc(net_.now(), nodes_[delivery.from]->id, **rpc);
    pump(delivery.to);
  }

  // Moves what router i wants sent onto the network and handles its events,
  // until it has nothing more to say; then re-arms its heartbeat.
  void pump(std::size_t i) {
    Node& node = *nodes_[i];
    bool busy = true;
    while (busy) {
      busy = false;
      while (auto send = node.router->poll_send()) {
        busy = true;
        if (node.role == Role::dropper) {
          send->rpc.publish.clear();
          send->rpc.publish_encoded.clear();  // forwards share one encoding
          if (send->rpc.empty()) continue;
        }
        const auto to = index_.find(send->peer);
        if (to == index_.end()) continue;
        net_.send(static_cast<NodeIndex>(i), to->second, gossipsub::encode_framed(send->rpc));
      }
      while (auto event = node.router->poll_event()) {
        busy = true;
        if (const auto* delivered = std::get_if<gossipsub::Delivered>(&*event)) {
          const auto found = message_index_.find(std::string(as_text(delivered->id)));
          ASSERT_NE(found, message_index_.end()) << "node " << i << " delivered a message nobody published";
          Received& received = node.received[found->second];
          if (received.count++ == 0) received.first = net_.now();
        } else if (const auto* validate = std::get_if<gossipsub::ValidationRequired>(&*event)) {
          const bool spam = as_text(validate->message.data).substr(0, 4) == "spam";
          node.router->report_validation(net_.now(), validate->id,
                                         spam ? gossipsub::Verdict::reject : gossipsub::Verdict::accept);
        }
      }
    }
    const auto due = node.router->next_timeout();
    if (due && node.timer_armed != due) {
      node.timer_armed = due;
      net_.wake_at(static_cast<NodeIndex>(i), *due, ++node.timer_generation);
    }
  }

  SwarmConfig config_;
  sim::Network net_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<PeerId, NodeIndex> index_;
  std::vector<Published> messages_;
  std::unordered_map<std::string, std::size_t> message_index_;
  std::uint64_t spam_counter_ = 0;
};

// Publishes `count` messages, one every `spacing`, from random honest
// nodes, starting at `start`; each carries its number so data is unique.
std::vector<std::size_t> publish_series(Swarm& swarm, std::size_t count, Instant start, Duration spacing,
                                        std::uint64_t seed, const char* tag = "m") {
  SeededRng pick(seed);
  std::vector<std::size_t> published;
  for (std::size_t m = 0; m < count; ++m) {
    swarm.run_until(start + spacing * static_cast<std::int64_t>(m));
    std::size_t from = pick.next_u64() % swarm.size();
    while (swarm.role(from) != Role::honest) from = pick.next_u64() % swarm.size();
    const std::string text = std::string(tag) + " " + std::to_string(m) + " from " + std::to_string(from);
    const auto index = swarm.publish(from, to_bytes(text));
    EXPECT_TRUE(index.has_value()) << "message " << m;
    if (index) published.push_back(*index);
  }
  return published;
}

gossipsub::Options fast_options(bool adaptive) {
  gossipsub::Options options;
  // StrictNoSign: 500 nodes × 1000 messages is half a million Ed25519
  // verifications (~100 µs each here), too slow for CI; the attack scenario
  // runs StrictSign.
  options.signature_policy = gossipsub::SignaturePolicy::strict_no_sign;
  options.adaptive_heartbeat = adaptive;
  return options;
}

// ---------------------------------------------------------------- scenarios

TEST(GossipsubSim, FiveHundredNodesDeliverAThousandMessagesExactlyOnce) {
  SwarmConfig config;
  config.nodes = 500;
  config.seed = 11;
  config.options = fast_options(true);
  Swarm swarm(config);
  swarm.subscribe_all();
  swarm.run_until(Instant{} + seconds(3));  // meshes form
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    const auto mesh = swarm.router(i).mesh_peers(topic);
    ASSERT_GE(mesh.size(), std::min<std::size_t>(4, swarm.neighbours(i).size())) << "node " << i;
  }
  const Instant start = swarm.net().now();
  publish_series(swarm, 1000, start, milliseconds(10), 501);
  swarm.run_until(swarm.net().now() + seconds(5));
  const auto figures = swarm.figures();
  Swarm::print("500 nodes, no loss", figures);
  EXPECT_EQ(figures.messages, 1000u);
  EXPECT_EQ(figures.delivered, figures.expected);
  EXPECT_EQ(figures.delivered_twice, 0u);
  // A sparse mesh of D=6 over ~20 ms links: six to eight hops at most.
  EXPECT_LT(figures.latency_p99_ms, 500.0);
  for (std::size_t m = 0; m < swarm.message_count(); ++m) {
    EXPECT_EQ(swarm.received_count(swarm.message_publisher(m), m), 0u);  // never its own
  }
}

struct LossRun {
  Swarm::Figures at_one_second;  // delivered within 1 s of publishing
  Swarm::Figures final;
  double interval_ms_mean = 0;
  std::uint64_t iwants = 0;  // IWANT-repaired first deliveries, over all nodes
};

// 200 nodes and 200 messages (not 500 × 1000), so that four runs fit the
// CI time budget.
LossRun run_with_loss(bool adaptive, double loss) {
  SwarmConfig config;
  config.nodes = 200;
  config.seed = 21;
  config.link.loss = loss;
  config.options = fast_options(adaptive);
  config.report_link_quality = true;
  Swarm swarm(config);
  swarm.subscribe_all();
  swarm.run_until(Instant{} + seconds(3));
  const Instant start = swarm.net().now();
  publish_series(swarm, 200, start, milliseconds(25), 601);
  double interval_sum = 0;
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    interval_sum += std::chrono::duration<double, std::milli>(swarm.router(i).heartbeat_interval()).count();
  }
  LossRun run;
  run.interval_ms_mean = interval_sum / static_cast<double>(swarm.size());
  // Everything published by now has had at least 1 s once we run 1 s on.
  swarm.run_until(swarm.net().now() + seconds(1));
  run.at_one_second = swarm.figures();
  swarm.run_until(swarm.net().now() + seconds(6));
  run.final = swarm.figures();
  for (std::size_t i = 0; i < swarm.size(); ++i) run.iwants += swarm.router(i).stats().iwant_repairs;
  return run;
}

void print_loss_runs(const char* loss, const LossRun& fixed, const LossRun& adaptive) {
  for (const auto& [name, run] : {std::pair{"fixed", &fixed}, std::pair{"adaptive", &adaptive}}) {
    const std::string label = std::string(loss) + " loss, " + name + " heartbeat";
    Swarm::print((label + ", +1 s").c_str(), run->at_one_second);
    Swarm::print((label + ", final").c_str(), run->final);
    std::printf("[ sim ] %-36s mean heartbeat interval %.0f ms, first deliveries repaired by IWANT %llu\n", label.c_str(),
                run->interval_ms_mean, static_cast<unsigned long long>(run->iwants));
  }
}

TEST(GossipsubSim, TenPercentLossWithAndWithoutAdaptiveHeartbeat) {
  const LossRun fixed = run_with_loss(false, 0.10);
  const LossRun adaptive = run_with_loss(true, 0.10);
  print_loss_runs("10%", fixed, adaptive);
  // With ~6 mesh copies of each message, 10% loss rarely costs a delivery:
  // both deliver everything, exactly once; adaptive must not be worse.
  for (const LossRun* run : {&fixed, &adaptive}) {
    EXPECT_EQ(run->final.delivered, run->final.expected);
    EXPECT_EQ(run->final.delivered_twice, 0u);
  }
  EXPECT_LT(adaptive.interval_ms_mean, fixed.interval_ms_mean);  // the loss was reported: it beats faster
  EXPECT_GE(adaptive.at_one_second.ratio, fixed.at_one_second.ratio);
  EXPECT_LE(adaptive.final.latency_p99_ms, fixed.final.latency_p99_ms * 1.05);
}

TEST(GossipsubSim, ThirtyPercentLossIsRepairedByGossipFasterWithAdaptiveHeartbeat) {
  // Heavy loss: some messages miss every mesh copy and arrive only through
  // IHAVE/IWANT, whose pace the heartbeat sets.
  const LossRun fixed = run_with_loss(false, 0.30);
  const LossRun adaptive = run_with_loss(true, 0.30);
  print_loss_runs("30%", fixed, adaptive);
  for (const LossRun* run : {&fixed, &adaptive}) {
    EXPECT_GT(run->iwants, 0u);
    EXPECT_GE(run->final.ratio, 0.999);
    EXPECT_EQ(run->final.delivered_twice, 0u);
  }
  EXPECT_GE(adaptive.final.ratio, fixed.final.ratio);
  EXPECT_LE(adaptive.final.latency_p999_ms, fixed.final.latency_p999_ms);
}

TEST(GossipsubSim, MessagesPublishedDuringAPartitionArriveAfterItHeals) {
  // Gossip re-announces what the last mcache_gossip_windows (3) heartbeats
  // cached, so a partition up to ~3 heartbeats long is repaired after it
  // heals; messages older than that when the partition heals are not
  // (gossipsub has no catch-up sync) and stay on their side.
  SwarmConfig config;
  config.nodes = 200;
  config.seed = 31;
  config.options = fast_options(true);
  Swarm swarm(config);
  swarm.subscribe_all();
  swarm.run_until(Instant{} + seconds(3));
  std::vector<NodeIndex> left;
  for (NodeIndex i = 0; i < 100; ++i) left.push_back(i);
  const auto side = [](std::size_t node) { return node < 100; };

  // A long partition: 8 s, messages in its first second.
  Instant cut = swarm.net().now();
  swarm.net().partition_at(cut, {left});
  const auto old = publish_series(swarm, 40, cut + milliseconds(10), milliseconds(25), 701, "old");
  swarm.net().heal_at(cut + seconds(8));
  swarm.run_until(cut + seconds(14));
  std::size_t old_crossed = 0;
  std::size_t old_same_side_missing = 0;
  for (const std::size_t m : old) {
    for (std::size_t i = 0; i < swarm.size(); ++i) {
      if (i == swarm.message_publisher(m)) continue;
      if (side(i) == side(swarm.message_publisher(m))) old_same_side_missing += swarm.received_count(i, m) == 0;
      else old_crossed += swarm.received_count(i, m);
    }
  }
  std::printf("[ sim ] 8 s partition: %zu of %zu old deliveries crossed after healing; %zu missing on the same side\n",
              old_crossed, old.size() * 100, old_same_side_missing);
  EXPECT_EQ(old_same_side_missing, 0u);
  EXPECT_EQ(old_crossed, 0u);

  // A short partition: 2 s, messages throughout it.
  cut = swarm.net().now();
  swarm.net().partition_at(cut, {left});
  const auto recent = publish_series(swarm, 80, cut + milliseconds(10), milliseconds(24), 702, "recent");
  swarm.net().heal_at(cut + seconds(2));
  swarm.run_until(cut + seconds(2));
  const auto during = swarm.figures(recent.front(), recent.back() + 1);
  Swarm::print("2 s partition, at heal", during);
  EXPECT_LT(during.ratio, 0.6);  // the other half is out of reach
  swarm.run_until(cut + seconds(8));
  const auto healed = swarm.figures(recent.front(), recent.back() + 1);
  Swarm::print("2 s partition, 6 s after heal", healed);
  EXPECT_EQ(healed.delivered, healed.expected);
  EXPECT_EQ(healed.delivered_twice, 0u);
}

TEST(GossipsubSim, HonestNodesDeliverEverythingDespiteTwentyPercentMisbehavers) {
  // StrictSign and application validation here: 200 nodes, 150 messages.
  // 10% droppers (never forward), 10% spammers (invalid signatures and
  // application-rejected messages).
  SwarmConfig config;
  config.nodes = 200;
  config.seed = 41;
  config.validate = true;
  gossipsub::TopicScoreParams params;
  params.mesh_message_deliveries_weight = -4;
  params.mesh_message_deliveries_threshold = 0.5;
  params.mesh_message_deliveries_window = milliseconds(50);
  params.mesh_message_deliveries_activation = seconds(4);
  params.mesh_message_deliveries_decay = 0.9;
  params.mesh_failure_penalty_weight = -4;
  params.mesh_failure_penalty_decay = 0.95;  // a failed mesh peer is remembered for a while
  config.options.score_params.topics.emplace(std::string(topic), params);
  Swarm swarm(config);
  SeededRng pick(4141);
  std::vector<std::size_t> droppers, spammers;
  while (droppers.size() < 20 || spammers.size() < 20) {
    const std::size_t i = pick.next_u64() % swarm.size();
    if (swarm.role(i) != Role::honest) continue;
    if (droppers.size() < 20) {
      swarm.set_role(i, Role::dropper);
      droppers.push_back(i);
    } else {
      swarm.set_role(i, Role::spammer);
      spammers.push_back(i);
    }
  }
  swarm.subscribe_all();
  swarm.run_until(Instant{} + seconds(3));
  const Instant start = swarm.net().now();
  const std::size_t count = 150;
  const Duration spacing = milliseconds(80);
  SeededRng publisher_pick(801);
  for (std::size_t m = 0; m < count; ++m) {
    swarm.run_until(start + spacing * static_cast<std::int64_t>(m));
    if (m % 5 == 0) {
      for (const std::size_t s : spammers) swarm.spam(s, 2);
    }
    std::size_t from = publisher_pick.next_u64() % swarm.size();
    while (swarm.role(from) != Role::honest) from = publisher_pick.next_u64() % swarm.size();
    EXPECT_TRUE(swarm.publish(from, to_bytes("valid " + std::to_string(m))).has_value());
  }
  swarm.run_until(swarm.net().now() + seconds(5));
  const auto figures = swarm.figures();
  Swarm::print("20% misbehaving, honest receivers", figures);
  EXPECT_EQ(figures.delivered, figures.expected);
  EXPECT_EQ(figures.delivered_twice, 0u);

  double dropper_mean = 0, spammer_mean = 0, honest_mean = 0;
  std::size_t honest_counted = 0;
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    const auto [mean, negative] = swarm.standing(i);
    if (swarm.role(i) == Role::dropper) {
      dropper_mean += mean / static_cast<double>(droppers.size());
      // Every dropper is found out by at least one honest neighbour.
      if (swarm.honest_neighbours(i) > 0) {
        EXPECT_GT(negative, 0u) << "dropper " << i;
      }
    } else if (swarm.role(i) == Role::spammer) {
      spammer_mean += mean / static_cast<double>(spammers.size());
      EXPECT_EQ(negative, swarm.honest_neighbours(i)) << "spammer " << i;  // every honest neighbour saw the spam
      EXPECT_LT(mean, 0.0);
    } else {
      honest_mean += mean;
      ++honest_counted;
    }
  }
  honest_mean /= static_cast<double>(honest_counted);
  std::uint64_t graylisted = 0, broken = 0;
  for (std::size_t i = 0; i < swarm.size(); ++i) {
    graylisted += swarm.router(i).stats().graylisted_rpcs;
    broken += swarm.router(i).stats().broken_promises;
  }
  std::printf("[ sim ] mean score from honest neighbours: honest %.1f, droppers %.1f, spammers %.1f; "
              "graylisted RPCs %llu, broken IWANT promises %llu\n",
              honest_mean, dropper_mean, spammer_mean, static_cast<unsigned long long>(graylisted),
              static_cast<unsigned long long>(broken));
  EXPECT_LT(dropper_mean, 0.0);
  EXPECT_LT(spammer_mean, 0.0);
  EXPECT_GT(honest_mean, 0.0);
}

// The same seed gives the same run, message for message.
TEST(GossipsubSim, TheSameSeedReplaysTheSameFigures) {
  auto run = [](std::uint64_t seed) {
    SwarmConfig config;
    config.nodes = 60;
    config.seed = seed;
    config.link.loss = 0.05;
    config.options = fast_options(true);
    Swarm swarm(config);
    swarm.subscribe_all();
    swarm.run_until(Instant{} + seconds(2));
    publish_series(swarm, 40, swarm.net().now(), milliseconds(30), seed);
    swarm.run_until(swarm.net().now() + seconds(3));
    const auto stats = swarm.net().stats();
    const auto figures = swarm.figures();
    return std::vector<double>{static_cast<double>(stats.sent), static_cast<double>(stats.lost),
                               static_cast<double>(stats.bytes_delivered), figures.latency_p50_ms,
                               figures.latency_p99_ms, figures.duplicates_per_message};
  };
  const auto first = run(5);
  EXPECT_EQ(first, run(5));
  EXPECT_NE(first, run(6));
}

}  // namespace
}  // namespace taho
