// Gossipsub v1.1 peer scoring (libp2p/specs pubsub/gossipsub/gossipsub-v1.1.md
// "Peer Scoring"): per-topic P1 time in mesh, P2 first message deliveries,
// P3 mesh message delivery deficit, P3b mesh failure penalty, P4 invalid
// messages; global P5 application score, P6 IP colocation, P7 behaviour
// penalty. Counters decay with time (not per heartbeat) so an adaptive
// heartbeat does not change how fast peers are forgiven.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::gossipsub {

// Weights of penalties (P3, P3b, P4) are negative, of rewards positive;
// decays are the factor a counter keeps per decay_interval.
struct TopicScoreParams {
  double topic_weight = 1.0;

  double time_in_mesh_weight = 0.01;  // P1, per quantum, capped
  Duration time_in_mesh_quantum = std::chrono::seconds(1);
  double time_in_mesh_cap = 3600;

  double first_message_deliveries_weight = 1.0;  // P2
  double first_message_deliveries_decay = 0.5;
  double first_message_deliveries_cap = 100;

  // P3 and P3b are off by default (weight 0): a deficit threshold only makes
  // sense for a topic whose message rate is known, otherwise a quiet topic
  // penalises every honest mesh peer.
  double mesh_message_deliveries_weight = 0.0;  // P3 (negative), deficit squared
  double mesh_message_deliveries_decay = 0.5;
  double mesh_message_deliveries_cap = 100;
  double mesh_message_deliveries_threshold = 1;
  Duration mesh_message_deliveries_window = std::chrono::milliseconds(10);
  Duration mesh_message_deliveries_activation = std::chrono::seconds(5);
  double mesh_failure_penalty_weight = 0.0;  // P3b (negative)
  double mesh_failure_penalty_decay = 0.5;

  double invalid_message_deliveries_weight = -100.0;  // P4 (negative), squared
  double invalid_message_deliveries_decay = 0.99;  // slow: an invalid message is remembered for minutes
};

struct PeerScoreParams {
  std::map<std::string, TopicScoreParams> topics;  // topics scored with their own params
  TopicScoreParams topic_defaults;                 // every other topic
  double topic_score_cap = 0;                      // cap on the sum of topic scores; 0 = none

  double app_specific_weight = 1.0;  // P5

  double ip_colocation_factor_weight = -50.0;  // P6 (negative), surplus squared
  double ip_colocation_factor_threshold = 5;   // peers per IP tolerated
  // Loopback: nodes of one machine (tests, a developer's cluster) are not sybils.
  std::set<std::string> ip_colocation_factor_whitelist{"127.0.0.1", "::1"};

  double behaviour_penalty_weight = -10.0;  // P7 (negative), surplus squared
  double behaviour_penalty_threshold = 2;   // tolerated, so lossy links are not punished
  double behaviour_penalty_decay = 0.9;

  Duration decay_interval = std::chrono::seconds(1);
  double decay_to_zero = 0.01;  // counters below this become 0
  // A disconnected peer's counters are kept this long, so reconnecting does
  // not wash a bad score clean.
  Duration retain_score = std::chrono::hours(1);
  std::size_t retained_peers_max = 10'000;

  const TopicScoreParams& topic(const std::string& name) const;
};

// spec: gossip <= 0, publish <= gossip, graylist <= publish, accept_px >= 0,
// opportunistic_graft >= 0. Defaults are js-libp2p's.
struct PeerScoreThresholds {
  double gossip_threshold = -10;               // no gossip to or from peers below
  double publish_threshold = -50;              // no flood publishing to peers below
  double graylist_threshold = -80;             // RPCs from peers below are ignored
  double accept_px_threshold = 10;             // PX only from peers at or above
  double opportunistic_graft_threshold = 20;   // graft better peers when the mesh median is below
};

// The counters behind the score of every peer we know or recently knew.
class PeerScores {
 public:
  explicit PeerScores(PeerScoreParams params) : params_(std::move(params)) {}

  void add_peer(const PeerId& peer);
  // Mesh topics count as pruned (P3b); counters are kept for retain_score.
  void remove_peer(Instant now, const PeerId& peer);
  void set_ip(const PeerId& peer, std::string ip);
  void set_application_score(const PeerId& peer, double score);

  void graft(Instant now, const PeerId& peer, const std::string& topic);
  void prune(const PeerId& peer, const std::string& topic);
  // The peer was first to deliver a valid message (P2, and P3 if in mesh).
  void first_delivery(const PeerId& peer, const std::string& topic);
  // A mesh peer delivered a valid message shortly after the first (P3).
  void near_first_delivery(const PeerId& peer, const std::string& topic);
  void invalid_delivery(const PeerId& peer, const std::string& topic);  // P4
  void add_penalty(const PeerId& peer, double count);                   // P7

  // Decays counters by the time since the last refresh, updates mesh time
  // and P3 activation, forgets retained peers that expired.
  void refresh(Instant now);

  double score(const PeerId& peer) const;
  double behaviour_penalty(const PeerId& peer) const;
  const PeerScoreParams& params() const { return params_; }

 private:
  struct TopicStats {
    bool in_mesh = false;
    Instant grafted_at;
    Duration mesh_time{0};
    bool mesh_deliveries_active = false;
    double first_deliveries = 0;
    double mesh_deliveries = 0;
    double mesh_failure_penalty = 0;
    double invalid_deliveries = 0;
  };
  struct PeerStats {
    bool connected = true;
    Instant expires_at;  // for disconnected peers
    std::map<std::string, TopicStats> topics;
    std::optional<std::string> ip;
    double application_score = 0;
    double behaviour_penalty = 0;
  };

  PeerStats* find(const PeerId& peer);
  void apply_mesh_failure(const std::string& topic, TopicStats& stats) const;
  void forget_ip(const PeerStats& stats);

  PeerScoreParams params_;
  std::unordered_map<PeerId, PeerStats> peers_;
  std::unordered_map<std::string, std::size_t> peers_per_ip_;  // connected peers only
  std::optional<Instant> last_refresh_;
};

}  // namespace taho::gossipsub
