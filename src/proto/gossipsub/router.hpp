// The gossipsub router (libp2p/specs pubsub/gossipsub v1.0, v1.1, v1.2),
// sans-IO in the cores' grammar: the swarm reports peers with the protocol
// they negotiated (add_peer/remove_peer) and hands over decoded RPCs
// (handle_rpc); the application subscribes and publishes; everything the
// router wants sent comes out of poll_send(), everything it has to tell out
// of poll_event(), and the heartbeat runs when next_timeout() passes.
//
// Scoring (v1.1 P1–P7) is not implemented yet: score(peer) is the seam and
// returns 0 for every peer, so every threshold check passes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "crypto/ed25519.hpp"
#include "proto/gossipsub/message.hpp"
#include "proto/gossipsub/rpc.hpp"

namespace taho::gossipsub {

inline constexpr std::string_view protocol_v1_2 = "/meshsub/1.2.0";
inline constexpr std::string_view protocol_v1_1 = "/meshsub/1.1.0";
inline constexpr std::string_view protocol_v1_0 = "/meshsub/1.0.0";

enum class Protocol : std::uint8_t { v1_0, v1_1, v1_2 };
// Maps a negotiated protocol id; nullopt for anything else (floodsub ...).
std::optional<Protocol> parse_protocol(std::string_view id);

// Defaults are js-libp2p's (INTEROP-NOTES.md).
struct Options {
  std::size_t mesh_n = 6;        // D
  std::size_t mesh_n_low = 4;    // D_low
  std::size_t mesh_n_high = 12;  // D_high
  std::size_t gossip_lazy = 6;   // D_lazy
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration heartbeat_initial_delay = std::chrono::milliseconds(100);
  Duration fanout_ttl = std::chrono::seconds(60);
  std::size_t mcache_windows = 5;
  std::size_t mcache_gossip_windows = 3;
  Duration seen_ttl = std::chrono::minutes(2);
  Duration prune_backoff = std::chrono::seconds(60);
  // IDONTWANT entries from a peer are kept for this many heartbeats (go: 3).
  std::size_t idontwant_heartbeats = 3;
  bool flood_publish = true;
  std::size_t idontwant_message_bytes_min = 512;

  // Bounds (STYLE.md principle 7): a hit is counted in Stats.
  std::size_t peers_max = 1000;
  std::size_t topics_per_peer_max = 1000;
  std::size_t subscriptions_max = 1000;       // our own topics
  std::size_t fanout_topics_max = 100;
  std::size_t seen_entries_max = 100'000;
  std::size_t mcache_messages_max = 10'000;
  std::size_t idontwant_per_peer_max = 10'000;
  std::size_t iwant_ids_per_peer_per_heartbeat_max = 5000;  // js maxIHaveLength
  std::size_t ihave_per_peer_per_heartbeat_max = 10;        // js maxIHaveMessages
  std::size_t ihave_ids_max = 5000;                         // ids in one IHAVE we send
  std::size_t iwant_replies_per_rpc_max = 1000;             // messages we answer one IWANT RPC with
  std::size_t gossip_retransmission = 3;                    // times one peer gets one message via IWANT
  std::size_t send_queue_max = 100'000;                     // RPCs waiting for poll_send
  std::size_t event_queue_max = 100'000;
  Limits rpc_limits;
};

struct Send {
  PeerId peer;
  Rpc rpc;
};

// A message for a topic we subscribe to, seen for the first time and valid.
struct Delivered {
  PeerId propagation_source;
  PeerId author;
  Bytes id;
  Message message;
};
struct PeerSubscribed {
  PeerId peer;
  std::string topic;
};
struct PeerUnsubscribed {
  PeerId peer;
  std::string topic;
};
// A peer sent a message that fails StrictSign (counted against it later by scoring).
struct InvalidMessage {
  PeerId peer;
  ValidationError error;
};
using Event = std::variant<Delivered, PeerSubscribed, PeerUnsubscribed, InvalidMessage>;

namespace publish {
enum class Errc {
  no_peers,          // nobody known subscribes to the topic
  duplicate,         // the same message id was already seen
  data_too_large,    // over rpc_limits.message_data_bytes_max
  too_many_topics,   // fanout_topics_max reached
};
}  // namespace publish
using PublishError = Error<publish::Errc>;

namespace subscribe {
enum class Errc {
  too_many_topics,  // subscriptions_max reached
  topic_too_long,   // over rpc_limits.topic_bytes_max
};
}  // namespace subscribe
using SubscribeError = Error<subscribe::Errc>;

// Counters of everything refused or dropped because of a limit or a rule.
struct Stats {
  std::uint64_t unknown_peer_rpcs = 0;
  std::uint64_t peers_refused = 0;
  std::uint64_t invalid_messages = 0;
  std::uint64_t duplicate_messages = 0;
  std::uint64_t unsubscribed_topic_messages = 0;
  std::uint64_t sends_dropped = 0;
  std::uint64_t events_dropped = 0;
  std::uint64_t topics_per_peer_refused = 0;
  std::uint64_t grafts_refused = 0;
  std::uint64_t ihave_ignored = 0;
  std::uint64_t iwant_retransmissions_refused = 0;
  std::uint64_t idontwant_ignored = 0;
  std::uint64_t seen_evicted = 0;
  std::uint64_t mcache_evicted = 0;
};

class Router {
 public:
  // `rng` must outlive the router; seqnos start from a random value.
  Router(const crypto::Ed25519KeyPair& key, Rng& rng, Instant now, Options options = {});

  // ---- input
  // A peer with a stream speaking `protocol`. Sends it our subscriptions.
  void add_peer(Instant now, const PeerId& peer, Protocol protocol);
  // The peer is gone (connection closed, stream reset): forgets it.
  void remove_peer(Instant now, const PeerId& peer);
  void handle_rpc(Instant now, const PeerId& peer, const Rpc& rpc);
  // Runs the heartbeat; call when now >= next_timeout().
  void handle_timeout(Instant now);

  // ---- commands
  Expected<void, SubscribeError> subscribe(Instant now, std::string_view topic);
  void unsubscribe(Instant now, std::string_view topic);
  // Signs and sends a message; returns its id.
  Expected<Bytes, PublishError> publish(Instant now, std::string_view topic, ByteView data);

  // ---- output
  std::optional<Send> poll_send();
  std::optional<Event> poll_event();
  std::optional<Instant> next_timeout() const { return next_heartbeat_; }

  // ---- state
  const PeerId& local_peer() const { return local_; }
  // The scoring seam: always 0 until peer scoring (v1.1) lands.
  double score(const PeerId& peer) const;
  bool subscribed(std::string_view topic) const { return subscriptions_.count(std::string(topic)) != 0; }
  std::vector<PeerId> mesh_peers(std::string_view topic) const;
  std::vector<PeerId> fanout_peers(std::string_view topic) const;
  std::vector<PeerId> topic_peers(std::string_view topic) const;
  std::size_t peer_count() const { return peers_.size(); }
  std::size_t seen_count() const { return seen_.size(); }
  std::size_t mcache_count() const { return mcache_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  using MessageId = std::string;  // the id's bytes, as a hashable key

  struct PeerState {
    Protocol protocol = Protocol::v1_0;
    std::set<std::string> topics;
    std::unordered_map<MessageId, std::uint64_t> dont_want;  // id -> heartbeat it expires at
    std::size_t ihave_this_heartbeat = 0;
    std::size_t iwant_ids_this_heartbeat = 0;
  };

  void handle_subscriptions(const PeerId& peer, PeerState& state, const std::vector<SubOpts>& subscriptions);
  void handle_message(Instant now, const PeerId& peer, const Message& message);
  void handle_ihave(const PeerId& peer, PeerState& state, const std::vector<ControlIHave>& ihaves, Rpc& reply);
  void handle_iwant(const PeerId& peer, PeerState& state, const std::vector<ControlIWant>& iwants, Rpc& reply);
  void handle_graft(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlGraft>& grafts, Rpc& reply);
  void handle_prune(Instant now, const PeerId& peer, const std::vector<ControlPrune>& prunes);
  void handle_idontwant(PeerState& state, const std::vector<ControlIDontWant>& idontwants);

  void heartbeat(Instant now);
  void maintain_mesh(Instant now, std::map<PeerId, Rpc>& batch);
  void maintain_fanout(Instant now);
  void emit_gossip(std::map<PeerId, Rpc>& batch);

  // Forwards a message to the mesh (or fanout) of its topic, skipping
  // `exclude` and peers that said IDONTWANT.
  void forward(const Message& message, const MessageId& id, const std::set<PeerId>& exclude);
  void send_idontwant(const MessageId& id, const std::string& topic, const PeerId& source);
  bool remember(Instant now, const MessageId& id);  // false if already seen
  void cache(const MessageId& id, const Message& message);
  void add_backoff(Instant now, const std::string& topic, const PeerId& peer, Duration backoff);
  bool in_backoff(Instant now, const std::string& topic, const PeerId& peer) const;
  ControlPrune make_prune(const std::string& topic, const PeerState& state) const;
  // Up to `count` random peers subscribed to `topic` for which `accept` holds.
  template <class Accept>
  std::vector<PeerId> pick_peers(const std::string& topic, std::size_t count, Accept accept);
  void enqueue(const PeerId& peer, Rpc rpc);
  void emit(Event event);
  static ControlMessage& control_of(Rpc& rpc);

  PeerId local_;
  crypto::Ed25519KeyPair key_;
  Rng& rng_;
  Options options_;
  std::uint64_t next_seqno_;

  std::unordered_map<PeerId, PeerState> peers_;
  std::set<std::string> subscriptions_;
  std::map<std::string, std::set<PeerId>> mesh_;
  std::map<std::string, std::set<PeerId>> fanout_;
  std::map<std::string, Instant> fanout_last_publish_;
  std::map<std::string, std::map<PeerId, Instant>> backoff_;  // topic -> peer -> until

  std::unordered_map<MessageId, Instant> seen_;
  std::deque<std::pair<Instant, MessageId>> seen_order_;  // oldest first

  struct CachedMessage {
    Message message;
    std::unordered_map<PeerId, std::size_t> served;  // IWANT answers per peer
  };
  std::unordered_map<MessageId, CachedMessage> mcache_;
  std::deque<std::deque<MessageId>> mcache_windows_;  // newest first
  std::uint64_t heartbeats_ = 0;

  std::optional<Instant> next_heartbeat_;
  std::deque<Send> sends_;
  std::deque<Event> events_;
  Stats stats_;
};

}  // namespace taho::gossipsub
