// The gossipsub router (libp2p/specs pubsub/gossipsub v1.0, v1.1, v1.2),
// sans-IO in the cores' grammar: the swarm reports peers with the protocol
// they negotiated (add_peer/remove_peer) and hands over decoded RPCs
// (handle_rpc); the application subscribes and publishes; everything the
// router wants sent comes out of poll_send(), everything it has to tell out
// of poll_event(), and the heartbeat runs when next_timeout() passes.
//
// Peer scoring (v1.1 P1–P7, score.hpp) gates the mesh, gossip, publishing,
// peer exchange and whole RPCs (graylist); P6 needs set_peer_ip() and P5
// set_application_score() from the swarm, everything else the router sees
// itself. Optional application validation (Options::validate_messages)
// holds a message until report_validation(). The heartbeat interval adapts
// to measured trouble (adaptive_heartbeat.hpp), including link loss and RTT
// the swarm reports with report_link_quality() (e.g. from ping).
// Not implemented: D_out (the router is not told connection direction) and
// signed peer records in PX (the router has none to send).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <span>
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
#include "crypto/sha256.hpp"
#include "proto/gossipsub/message.hpp"
#include "proto/gossipsub/rpc.hpp"
#include "proto/gossipsub/adaptive_heartbeat.hpp"
#include "proto/gossipsub/score.hpp"

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
  SignaturePolicy signature_policy = SignaturePolicy::strict_sign;

  // Peer scoring (v1.1). Off means score() is 0 for everyone, as before.
  bool scoring = true;
  PeerScoreParams score_params;
  PeerScoreThresholds score_thresholds;
  std::size_t mesh_n_score = 4;                  // D_score: best peers kept when pruning an oversized mesh
  std::size_t opportunistic_graft_heartbeats = 60;
  std::size_t opportunistic_graft_peers = 2;
  Duration iwant_followup_time = std::chrono::seconds(3);  // an IHAVE's promise must be kept within this
  // Peer exchange: send up to prune_peers peers in our PRUNEs (js default: off).
  bool do_px = false;
  std::size_t prune_peers = 16;

  // Application validation: when on, a new message is announced with a
  // ValidationRequired event and neither forwarded, cached for gossip nor
  // Delivered until report_validation(); unanswered after validation_timeout
  // it is dropped as ignored.
  bool validate_messages = false;
  Duration validation_timeout = std::chrono::seconds(10);
  std::size_t pending_validations_max = 10'000;

  // Adaptive heartbeat (adaptive_heartbeat.hpp); false keeps the interval fixed.
  bool adaptive_heartbeat = true;
  AdaptiveHeartbeatParams adaptive;

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
  std::size_t iwant_promises_max = 10'000;
  std::size_t delivery_records_max = 100'000;
  Limits rpc_limits;
};

struct Send {
  PeerId peer;
  Rpc rpc;
};

// A message for a topic we subscribe to, seen for the first time and valid
// (and accepted by the application when validate_messages is on). Under
// StrictNoSign messages have no author: `author` is then the propagation source.
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
// validate_messages is on: the application checks `message` and answers
// with report_validation(id, verdict).
struct ValidationRequired {
  PeerId propagation_source;
  PeerId author;
  Bytes id;
  Message message;
};
// A peer with a good enough score (accept_px_threshold) pruned us and named
// other peers for `topic`: the swarm may dial them.
struct PeerExchange {
  PeerId from;
  std::string topic;
  std::vector<PeerId> peers;
};
using Event = std::variant<Delivered, PeerSubscribed, PeerUnsubscribed, InvalidMessage, ValidationRequired, PeerExchange>;

enum class Verdict : std::uint8_t {
  accept,  // deliver and forward
  reject,  // invalid: drop, and penalise every peer that sent it (P4)
  ignore,  // drop without penalty (e.g. stale, not ours to judge)
};

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
  std::uint64_t graylisted_rpcs = 0;           // whole RPCs ignored: sender under graylist_threshold
  std::uint64_t gossip_refused = 0;            // IHAVE/IWANT from peers under gossip_threshold
  std::uint64_t broken_promises = 0;           // IHAVEs whose message never came (P7)
  std::uint64_t iwant_repairs = 0;             // new messages that came after we asked with IWANT
  std::uint64_t graft_backoff_violations = 0;  // GRAFTs during backoff (P7)
  std::uint64_t pruned_for_score = 0;          // mesh peers dropped for a negative score
  std::uint64_t opportunistic_grafts = 0;
  std::uint64_t px_accepted = 0;
  std::uint64_t px_refused = 0;
  std::uint64_t validations_rejected = 0;
  std::uint64_t validations_ignored = 0;
  std::uint64_t validations_timed_out = 0;
  std::uint64_t validations_dropped = 0;       // pending_validations_max reached
  std::uint64_t iwant_promises_dropped = 0;
  std::uint64_t delivery_records_evicted = 0;
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
  // The same, taking the RPC's messages: a new one moves into its Delivered
  // event instead of being copied.
  void handle_rpc(Instant now, const PeerId& peer, Rpc&& rpc);
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

  // ---- scoring and validation inputs
  // The verdict on a message announced by ValidationRequired; false when the
  // id is not pending (answered already, timed out, or never asked).
  bool report_validation(Instant now, ByteView id, Verdict verdict);
  // P5: the application's opinion of a peer (weighted by app_specific_weight).
  void set_application_score(const PeerId& peer, double score);
  // P6: the peer's remote IP, address only, no port (text, compared as is,
  // so use one canonical form, e.g. "192.0.2.1", "2001:db8::1"). Call after
  // add_peer; ignored for unknown peers. Peers sharing an IP beyond
  // ip_colocation_factor_threshold are penalised.
  void set_peer_ip(const PeerId& peer, std::string ip);
  // The link to a peer as the transport measures it: loss in [0, 1] and RTT.
  // Feeds the adaptive heartbeat; ignored for unknown peers.
  void report_link_quality(const PeerId& peer, double loss_fraction, Duration rtt);

  // ---- state
  const PeerId& local_peer() const { return local_; }
  // The peer's v1.1 score now (0 with scoring off, or for unknown peers).
  double score(const PeerId& peer) const;
  // The interval the next heartbeat was scheduled with, and the stress the
  // adaptive heartbeat measured last (0 = calm, 1 = worst).
  Duration heartbeat_interval() const { return current_interval_; }
  double heartbeat_stress() const { return adaptive_.stress(); }
  bool subscribed(std::string_view topic) const { return subscriptions_.find(topic) != subscriptions_.end(); }
  std::vector<PeerId> mesh_peers(std::string_view topic) const;
  std::vector<PeerId> fanout_peers(std::string_view topic) const;
  std::vector<PeerId> topic_peers(std::string_view topic) const;
  std::size_t peer_count() const { return peers_.size(); }
  std::size_t seen_count() const { return seen_.size(); }
  std::size_t mcache_count() const { return mcache_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  using MessageId = std::string;  // the id's bytes, as a hashable key
  // Lookups by the id's bytes as they arrive, without building a string.
  // The order queues of seen_, mcache_ and deliveries_ hold views of their
  // map's keys (stable in an unordered_map) rather than copies; an entry
  // leaves its map only when its view leaves the queue.
  struct MessageIdHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view id) const { return std::hash<std::string_view>{}(id); }
  };
  template <class Value>
  using IdMap = std::unordered_map<MessageId, Value, MessageIdHash, std::equal_to<>>;

  struct PeerState {
    Protocol protocol = Protocol::v1_0;
    std::set<std::string> topics;
    IdMap<std::uint64_t> dont_want;  // id -> housekeeping tick it expires at
    std::size_t ihave_this_heartbeat = 0;
    std::size_t iwant_ids_this_heartbeat = 0;
    double link_loss = 0;
    Duration link_rtt{0};
    bool link_reported = false;
  };

  // What we know of a message's deliveries, for P2/P3/P4 (spec "message
  // delivery records"): who sent it while it was pending, or soon after.
  enum class DeliveryStatus : std::uint8_t { pending, valid, invalid, ignored };
  struct DeliveryRecord {
    DeliveryStatus status = DeliveryStatus::pending;
    std::string topic;
    Instant first_seen;
    Instant validated_at;
    std::vector<PeerId> peers;  // the first sender, then later ones
  };
  struct PendingValidation {
    Message message;
    PeerId source;
    PeerId author;
    Instant deadline;
  };
  struct Promise {  // an IHAVE we answered with IWANT
    PeerId peer;
    Instant deadline;
  };

  void handle_subscriptions(Instant now, const PeerId& peer, PeerState& state, const std::vector<SubOpts>& subscriptions);
  template <class Rpc_>
  void handle_rpc_of(Instant now, const PeerId& peer, Rpc_&& rpc);
  // Message is `const Message&` (copied if delivered) or `Message&&` (moved).
  template <class Message_>
  void handle_message(Instant now, const PeerId& peer, Message_&& message);
  void handle_duplicate(Instant now, const PeerId& peer, std::string_view id);
  void accept_message(Instant now, std::string_view id, Message message, const PeerId& source, PeerId author);
  void handle_ihave(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlIHave>& ihaves, Rpc& reply);
  void handle_iwant(const PeerId& peer, PeerState& state, const std::vector<ControlIWant>& iwants, Rpc& reply);
  void handle_graft(Instant now, const PeerId& peer, PeerState& state, const std::vector<ControlGraft>& grafts, Rpc& reply);
  void handle_prune(Instant now, const PeerId& peer, const std::vector<ControlPrune>& prunes);
  void handle_idontwant(PeerState& state, const std::vector<ControlIDontWant>& idontwants);

  void heartbeat(Instant now);
  void check_promises(Instant now);
  void expire_validations(Instant now);
  void maintain_mesh(Instant now, std::map<PeerId, Rpc>& batch);
  void graft_opportunistically(Instant now, const std::string& topic, std::set<PeerId>& mesh,
                               std::map<PeerId, Rpc>& batch);
  void maintain_fanout(Instant now);
  void emit_gossip(std::map<PeerId, Rpc>& batch);
  void housekeeping(Instant now);
  Duration adapt_interval();

  // Mesh membership changes go through these so scoring sees them.
  void mesh_add(Instant now, const std::string& topic, std::set<PeerId>& mesh, const PeerId& peer);
  void mesh_remove(const std::string& topic, std::set<PeerId>& mesh, const PeerId& peer);

  // Forwards an encoded message to the mesh of its topic, skipping the
  // peers it came from and peers that said IDONTWANT.
  void forward(const std::string& topic, std::string_view id, const SharedEncoding& encoded, const PeerId& source,
               const PeerId& author, std::span<const PeerId> earlier_senders);
  void send_idontwant(std::string_view id, const std::string& topic, const PeerId& source);
  bool remember(Instant now, std::string_view id);  // false if already seen
  void cache(std::string_view id, const std::string& topic, const SharedEncoding& encoded);
  DeliveryRecord& record_delivery(Instant now, std::string_view id, const std::string& topic, const PeerId& first);
  void add_backoff(Instant now, const std::string& topic, const PeerId& peer, Duration backoff);
  bool in_backoff(Instant now, const std::string& topic, const PeerId& peer) const;
  MessageId id_of(const Message& message);
  ControlPrune make_prune(const std::string& topic, const PeerId& peer, const PeerState& state);
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
  std::set<std::string, std::less<>> subscriptions_;
  std::map<std::string, std::set<PeerId>> mesh_;
  std::map<std::string, std::set<PeerId>> fanout_;
  std::map<std::string, Instant> fanout_last_publish_;
  std::map<std::string, std::map<PeerId, Instant>> backoff_;  // topic -> peer -> until

  IdMap<Instant> seen_;
  std::deque<std::pair<Instant, std::string_view>> seen_order_;  // oldest first; views of seen_'s keys

  struct CachedMessage {
    SharedEncoding encoded;  // as forwarded: IWANT answers share the bytes
    std::string topic;
    std::unordered_map<PeerId, std::size_t> served;  // IWANT answers per peer
  };
  IdMap<CachedMessage> mcache_;
  std::deque<std::deque<std::string_view>> mcache_windows_;  // newest first; views of mcache_'s keys
  std::uint64_t heartbeats_ = 0;
  std::uint64_t housekeeping_ticks_ = 0;
  Instant next_housekeeping_;

  PeerScores scores_;
  IdMap<DeliveryRecord> deliveries_;
  std::deque<std::string_view> deliveries_order_;  // oldest first; views of deliveries_' keys
  IdMap<PendingValidation> pending_;
  IdMap<Promise> promises_;

  crypto::Sha256 id_hasher_;  // StrictNoSign ids; reused, as a fresh context costs more than the hash
  AdaptiveHeartbeat adaptive_;
  HeartbeatSignals signals_;  // gathered since the last heartbeat
  Duration current_interval_;

  std::optional<Instant> next_heartbeat_;
  std::deque<Send> sends_;
  std::deque<Event> events_;
  Stats stats_;
};

}  // namespace taho::gossipsub
