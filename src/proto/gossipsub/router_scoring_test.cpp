// The router's v1.1 peer scoring, application validation, peer exchange,
// StrictNoSign and adaptive heartbeat, driven by scripted peers.
#include <gtest/gtest.h>

#include <algorithm>

#include "base/seeded_rng.hpp"
#include "proto/gossipsub/router.hpp"

namespace taho::gossipsub {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view topic = "taho/score";

crypto::Ed25519KeyPair key_from(std::uint64_t index) {
  crypto::Ed25519Seed seed{};
  for (std::size_t i = 0; i < 8; ++i) seed[i] = static_cast<std::uint8_t>(index >> (8 * i));
  seed[31] = 0x77;
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

class RouterScoring : public ::testing::Test {
 protected:
  void start(Options options = {}) {
    options_ = options;
    router_.emplace(key_from(1), rng_, now_, options);
    for (std::uint64_t i = 0; i < 8; ++i) {
      keys_.push_back(key_from(100 + i));
      peers_.push_back(PeerId::from_ed25519(keys_.back().public_key()));
    }
    ASSERT_TRUE(router_->subscribe(now_, topic).has_value());
  }
  Router& router() { return *router_; }

  // Connects peer i, subscribed to the topic, grafting us if `graft`.
  void join(std::size_t i, bool graft = true) {
    router().add_peer(now_, peers_[i], Protocol::v1_2);
    Rpc rpc;
    rpc.subscriptions.push_back({true, std::string(topic)});
    if (graft) {
      rpc.control.emplace();
      rpc.control->graft.push_back({std::string(topic)});
    }
    router().handle_rpc(now_, peers_[i], rpc);
  }
  void heartbeat() {
    now_ = *router().next_timeout();
    router().handle_timeout(now_);
  }
  void run_for(Duration duration) {
    const Instant until = now_ + duration;
    while (*router().next_timeout() <= until) heartbeat();
    now_ = until;
  }
  // What the router sent, as the peers decode it (shared encodings become
  // plain messages and IHAVE entries).
  std::vector<Send> sends() {
    std::vector<Send> out;
    while (auto send = router().poll_send()) {
      auto decoded = decode_rpc(encode_rpc(send->rpc));
      EXPECT_TRUE(decoded.has_value());
      if (decoded) out.push_back({send->peer, std::move(*decoded)});
    }
    return out;
  }
  std::vector<Event> events() {
    std::vector<Event> out;
    while (auto event = router().poll_event()) out.push_back(std::move(*event));
    return out;
  }
  template <class T>
  static std::size_t count_of(const std::vector<Event>& events) {
    return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [](const Event& e) { return std::holds_alternative<T>(e); }));
  }
  static std::size_t publishes_to(const std::vector<Send>& sends, const PeerId& peer) {
    std::size_t count = 0;
    for (const auto& send : sends) count += send.peer == peer ? send.rpc.publish.size() : 0;
    return count;
  }
  enum class Kind { graft, prune, ihave, iwant };
  static bool has_control(const std::vector<Send>& sends, const PeerId& peer, Kind kind) {
    for (const auto& send : sends) {
      if (send.peer != peer || !send.rpc.control) continue;
      const auto& c = *send.rpc.control;
      const bool found = kind == Kind::graft   ? !c.graft.empty()
                         : kind == Kind::prune ? !c.prune.empty()
                         : kind == Kind::ihave ? !c.ihave.empty()
                                               : !c.iwant.empty();
      if (found) return true;
    }
    return false;
  }
  static bool grafts(const std::vector<Send>& s, const PeerId& p) { return has_control(s, p, Kind::graft); }
  static bool prunes(const std::vector<Send>& s, const PeerId& p) { return has_control(s, p, Kind::prune); }
  static bool ihaves(const std::vector<Send>& s, const PeerId& p) { return has_control(s, p, Kind::ihave); }
  static bool iwants(const std::vector<Send>& s, const PeerId& p) { return has_control(s, p, Kind::iwant); }

  Message signed_by(std::size_t author, std::string_view data) {
    return sign_message(keys_[author], topic, to_bytes(data), ++seqno_);
  }
  void deliver(std::size_t from, const Message& message) {
    Rpc rpc;
    rpc.publish.push_back(message);
    router().handle_rpc(now_, peers_[from], rpc);
  }
  void send_ihave(std::size_t from, std::vector<Bytes> ids) {
    Rpc rpc;
    rpc.control.emplace();
    rpc.control->ihave.push_back({std::string(topic), std::move(ids)});
    router().handle_rpc(now_, peers_[from], rpc);
  }

  SeededRng rng_{5};
  Instant now_;
  Options options_;
  std::optional<Router> router_;
  std::vector<crypto::Ed25519KeyPair> keys_;
  std::vector<PeerId> peers_;
  std::uint64_t seqno_ = 0;
};

// ---------------------------------------------------------------- validation

TEST_F(RouterScoring, ValidationHoldsDeliveryAndForwardingUntilAccepted) {
  Options options;
  options.validate_messages = true;
  start(options);
  join(0);
  join(1);
  sends();
  events();
  const Message message = signed_by(5, "check me");
  deliver(0, message);
  auto pending = events();
  ASSERT_EQ(pending.size(), 1u);
  const auto* request = std::get_if<ValidationRequired>(&pending[0]);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->propagation_source, peers_[0]);
  EXPECT_EQ(request->author, peers_[5]);
  EXPECT_EQ(request->message, message);
  EXPECT_EQ(publishes_to(sends(), peers_[1]), 0u);
  deliver(1, message);  // a duplicate while pending: not asked again
  EXPECT_TRUE(events().empty());
  EXPECT_TRUE(router().report_validation(now_, request->id, Verdict::accept));
  const auto delivered = events();
  ASSERT_EQ(count_of<Delivered>(delivered), 1u);
  const auto out = sends();
  EXPECT_EQ(publishes_to(out, peers_[0]), 0u);  // both already have it
  EXPECT_EQ(publishes_to(out, peers_[1]), 0u);
  EXPECT_FALSE(router().report_validation(now_, request->id, Verdict::accept));  // answered
  EXPECT_GT(router().score(peers_[0]), 0.0);  // P2: first delivery
}

TEST_F(RouterScoring, AcceptedMessagesGoToMeshPeersThatLackThem) {
  Options options;
  options.validate_messages = true;
  start(options);
  join(0);
  join(1);
  sends();
  events();
  deliver(0, signed_by(5, "forward me"));
  const auto request = std::get<ValidationRequired>(events().at(0));
  router().report_validation(now_, request.id, Verdict::accept);
  EXPECT_EQ(publishes_to(sends(), peers_[1]), 1u);
}

TEST_F(RouterScoring, RejectedMessagesPenaliseEverySender) {
  Options options;
  options.validate_messages = true;
  start(options);
  join(0);
  join(1);
  join(2);
  sends();
  events();
  const Message bad = signed_by(5, "bad");
  deliver(0, bad);
  deliver(1, bad);
  const auto request = std::get<ValidationRequired>(events().at(0));
  EXPECT_TRUE(router().report_validation(now_, request.id, Verdict::reject));
  EXPECT_TRUE(events().empty());
  EXPECT_TRUE(sends().empty());
  EXPECT_LT(router().score(peers_[0]), 0.0);
  EXPECT_LT(router().score(peers_[1]), 0.0);
  const double before = router().score(peers_[2]);
  deliver(2, bad);  // a late copy of a known-invalid message costs too
  EXPECT_LT(router().score(peers_[2]), before);
  EXPECT_EQ(router().stats().validations_rejected, 1u);
}

TEST_F(RouterScoring, IgnoredAndUnansweredMessagesAreDroppedWithoutPenalty) {
  Options options;
  options.validate_messages = true;
  options.validation_timeout = seconds(2);
  start(options);
  join(0);
  sends();
  events();
  deliver(0, signed_by(5, "meh"));
  const auto ignored = std::get<ValidationRequired>(events().at(0));
  EXPECT_TRUE(router().report_validation(now_, ignored.id, Verdict::ignore));
  EXPECT_TRUE(events().empty());
  deliver(0, signed_by(5, "nobody answers"));
  const auto unanswered = std::get<ValidationRequired>(events().at(0));
  run_for(seconds(3));
  EXPECT_FALSE(router().report_validation(now_, unanswered.id, Verdict::accept));
  EXPECT_EQ(router().stats().validations_ignored, 1u);
  EXPECT_EQ(router().stats().validations_timed_out, 1u);
  EXPECT_GE(router().score(peers_[0]), 0.0);
  EXPECT_EQ(count_of<Delivered>(events()), 0u);
}

TEST_F(RouterScoring, PendingValidationsAreBounded) {
  Options options;
  options.validate_messages = true;
  options.pending_validations_max = 2;
  start(options);
  join(0);
  events();
  for (int i = 0; i < 4; ++i) deliver(0, signed_by(5, "m" + std::to_string(i)));
  EXPECT_EQ(count_of<ValidationRequired>(events()), 2u);
  EXPECT_EQ(router().stats().validations_dropped, 2u);
}

// ---------------------------------------------------------------- penalties and thresholds

TEST_F(RouterScoring, InvalidSignaturesCostP4AndThenTheGraylist) {
  start();
  join(0);
  sends();
  events();
  Message forged = signed_by(5, "forged");
  forged.data.push_back('!');
  deliver(0, forged);
  EXPECT_EQ(count_of<InvalidMessage>(events()), 1u);
  EXPECT_LT(router().score(peers_[0]), -80.0);  // -100 × 1²: under the graylist threshold
  deliver(0, signed_by(5, "valid, but from a graylisted peer"));
  EXPECT_EQ(count_of<Delivered>(events()), 0u);
  EXPECT_EQ(router().stats().graylisted_rpcs, 1u);
}

TEST_F(RouterScoring, KeysWeCannotVerifyAreNotTheRelayersFault) {
  start();
  join(0);
  events();
  PublicKey secp;
  secp.type = KeyType::secp256k1;
  secp.data = Bytes(33, 0x02);
  Message message;
  message.from = PeerId::from_public_key(secp)->bytes();
  message.seqno = Bytes(8, 1);
  message.topic = std::string(topic);
  message.data = to_bytes("from a secp256k1 node");
  message.signature = Bytes(64, 7);
  message.key = secp.encode();
  deliver(0, message);
  const auto got = events();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::get<InvalidMessage>(got[0]).error.code, validation::Errc::unsupported_key);
  EXPECT_EQ(router().score(peers_[0]), 0.0);
}

TEST_F(RouterScoring, GraftsDuringBackoffAreBehaviourPenalties) {
  start();
  join(0);
  Rpc prune;
  prune.control.emplace();
  prune.control->prune.push_back({std::string(topic), {}, 60});
  router().handle_rpc(now_, peers_[0], prune);
  sends();
  Rpc graft;
  graft.control.emplace();
  graft.control->graft.push_back({std::string(topic)});
  router().handle_rpc(now_, peers_[0], graft);
  EXPECT_TRUE(prunes(sends(), peers_[0]));
  EXPECT_EQ(router().stats().graft_backoff_violations, 1u);
  EXPECT_GE(router().score(peers_[0]), 0.0);  // within behaviour_penalty_threshold
  for (int i = 0; i < 3; ++i) router().handle_rpc(now_, peers_[0], graft);
  EXPECT_LT(router().score(peers_[0]), 0.0);
}

TEST_F(RouterScoring, BrokenIWantPromisesArePenalisedKeptOnesAreNot) {
  start();
  join(0, false);
  join(1, false);
  sends();
  std::vector<Bytes> never;
  for (int i = 0; i < 5; ++i) never.push_back(Bytes(36, static_cast<std::uint8_t>(i)));
  send_ihave(0, never);
  EXPECT_TRUE(iwants(sends(), peers_[0]));
  const Message kept = signed_by(5, "kept");
  send_ihave(1, {message_id(kept)});
  EXPECT_TRUE(iwants(sends(), peers_[1]));
  deliver(1, kept);
  EXPECT_EQ(router().stats().iwant_repairs, 1u);
  run_for(options_.iwant_followup_time + seconds(1));
  EXPECT_EQ(router().stats().broken_promises, 5u);
  EXPECT_LT(router().score(peers_[0]), 0.0);  // 5 broken, 2 tolerated, some decay
  EXPECT_GE(router().score(peers_[1]), 0.0);
}

TEST_F(RouterScoring, NegativeScoreMeshPeersArePrunedAndNotRegrafted) {
  start();
  join(0);
  join(1);
  ASSERT_EQ(router().mesh_peers(topic).size(), 2u);
  sends();
  router().set_application_score(peers_[0], -1);
  heartbeat();
  const auto out = sends();
  EXPECT_TRUE(prunes(out, peers_[0]));
  EXPECT_FALSE(prunes(out, peers_[1]));
  EXPECT_EQ(router().mesh_peers(topic), std::vector<PeerId>{peers_[1]});
  EXPECT_EQ(router().stats().pruned_for_score, 1u);
  router().set_application_score(peers_[0], 0);
  run_for(seconds(5));  // mesh is under D_low, but peer 0 is in backoff now
  const auto mesh = router().mesh_peers(topic);
  EXPECT_EQ(std::count(mesh.begin(), mesh.end(), peers_[0]), 0);
}

TEST_F(RouterScoring, GossipAndPublishThresholdsGateWhoHearsFromUs) {
  start();
  join(0);                // mesh
  join(1, false);         // gossip candidate with a poor score
  join(2, false);         // gossip candidate, fine
  join(3, false);         // outside the mesh, far below publish threshold
  // Keep 1–3 out of the mesh: they pruned us.
  for (std::size_t i : {1u, 2u, 3u}) {
    Rpc prune;
    prune.control.emplace();
    prune.control->prune.push_back({std::string(topic), {}, 600});
    router().handle_rpc(now_, peers_[i], prune);
  }
  router().set_application_score(peers_[1], -20);  // below gossip (-10), above publish (-50)
  router().set_application_score(peers_[3], -60);  // below publish (-50), above graylist (-80)
  sends();
  ASSERT_TRUE(router().publish(now_, topic, to_bytes("ours")).has_value());
  auto out = sends();
  EXPECT_EQ(publishes_to(out, peers_[0]), 1u);
  EXPECT_EQ(publishes_to(out, peers_[1]), 1u);  // flood publish reaches it
  EXPECT_EQ(publishes_to(out, peers_[3]), 0u);
  heartbeat();
  out = sends();
  EXPECT_FALSE(ihaves(out, peers_[1]));
  EXPECT_TRUE(ihaves(out, peers_[2]));
  // Its own gossip is ignored too.
  send_ihave(1, {Bytes(36, 0xee)});
  EXPECT_FALSE(iwants(sends(), peers_[1]));
  EXPECT_EQ(router().stats().gossip_refused, 1u);
}

TEST_F(RouterScoring, PeersSharingAnIpAreScoredDown) {
  start();
  for (std::size_t i = 0; i < 7; ++i) {
    join(i, false);
    router().set_peer_ip(peers_[i], "192.0.2.1");
  }
  join(7, false);
  router().set_peer_ip(peers_[7], "192.0.2.2");
  EXPECT_LT(router().score(peers_[0]), 0.0);  // 7 on one IP, 5 tolerated
  EXPECT_EQ(router().score(peers_[7]), 0.0);
  router().remove_peer(now_, peers_[6]);
  router().remove_peer(now_, peers_[5]);
  EXPECT_EQ(router().score(peers_[0]), 0.0);
}

TEST_F(RouterScoring, OpportunisticGraftingTakesInBetterPeers) {
  Options options;
  options.mesh_n = 2;
  options.mesh_n_low = 2;
  options.mesh_n_high = 4;
  options.opportunistic_graft_heartbeats = 3;
  start(options);
  join(0);
  join(1);
  join(2, false);
  join(3, false);
  router().set_application_score(peers_[2], 30);
  sends();
  heartbeat();
  heartbeat();
  EXPECT_EQ(router().mesh_peers(topic).size(), 2u);
  heartbeat();  // the third: an opportunistic round
  const auto out = sends();
  EXPECT_TRUE(grafts(out, peers_[2]));
  EXPECT_FALSE(grafts(out, peers_[3]));
  EXPECT_EQ(router().mesh_peers(topic).size(), 3u);
  EXPECT_EQ(router().stats().opportunistic_grafts, 1u);
}

// ---------------------------------------------------------------- peer exchange

TEST_F(RouterScoring, PeerExchangeIsAcceptedOnlyFromWellScoredPeers) {
  start();
  join(0);
  join(1);
  events();
  const auto stranger = PeerId::from_ed25519(key_from(999).public_key());
  auto prune_with_px = [&](std::size_t from) {
    Rpc prune;
    prune.control.emplace();
    prune.control->prune.push_back({std::string(topic), {PeerInfo{stranger.bytes(), std::nullopt},
                                                         PeerInfo{peers_[1].bytes(), std::nullopt},
                                                         PeerInfo{Bytes{1, 2, 3}, std::nullopt}}, 60});
    router().handle_rpc(now_, peers_[from], prune);
  };
  prune_with_px(0);  // score 0 < accept_px_threshold 10
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(router().stats().px_refused, 1u);
  router().set_application_score(peers_[1], 15);
  prune_with_px(1);
  const auto out = events();
  ASSERT_EQ(out.size(), 1u);
  const auto& exchange = std::get<PeerExchange>(out[0]);
  EXPECT_EQ(exchange.from, peers_[1]);
  EXPECT_EQ(exchange.peers, std::vector<PeerId>{stranger});  // known and malformed ids left out
}

TEST_F(RouterScoring, OurPrunesCarryPeersWhenPeerExchangeIsOn) {
  Options options;
  options.do_px = true;
  start(options);
  for (std::size_t i = 0; i < 4; ++i) join(i);
  sends();
  router().unsubscribe(now_, topic);
  for (const auto& send : sends()) {
    if (!send.rpc.control || send.rpc.control->prune.empty()) continue;
    const auto& named = send.rpc.control->prune[0].peers;
    EXPECT_EQ(named.size(), 3u);
    for (const auto& info : named) EXPECT_NE(*info.peer_id, send.peer.bytes());
  }
}

// ---------------------------------------------------------------- StrictNoSign

TEST_F(RouterScoring, StrictNoSignPublishesBareMessagesAndRefusesSignedOnes) {
  Options options;
  options.signature_policy = SignaturePolicy::strict_no_sign;
  start(options);
  join(0);
  sends();
  events();
  const auto id = router().publish(now_, topic, to_bytes("anonymous"));
  ASSERT_TRUE(id.has_value());
  const auto out = sends();
  ASSERT_EQ(publishes_to(out, peers_[0]), 1u);
  const Message& sent = out[0].rpc.publish[0];
  EXPECT_FALSE(sent.from || sent.seqno || sent.signature || sent.key);
  EXPECT_EQ(*id, content_message_id(sent));
  EXPECT_EQ(router().publish(now_, topic, to_bytes("anonymous")).error().code, publish::Errc::duplicate);

  Message bare;
  bare.data = to_bytes("from a peer");
  bare.topic = std::string(topic);
  deliver(0, bare);
  deliver(0, signed_by(5, "signed"));
  const auto got = events();
  ASSERT_EQ(got.size(), 2u);
  const auto& delivered = std::get<Delivered>(got[0]);
  EXPECT_EQ(delivered.author, peers_[0]);  // no author: the propagation source
  EXPECT_EQ(std::get<InvalidMessage>(got[1]).error.code, validation::Errc::unexpected_field);
}

// ---------------------------------------------------------------- adaptive heartbeat and scoring off

TEST_F(RouterScoring, ReportedLossShortensTheHeartbeatWhenAdaptive) {
  for (const bool adaptive : {false, true}) {
    Options options;
    options.adaptive_heartbeat = adaptive;
    keys_.clear();
    peers_.clear();
    start(options);
    join(0);
    router().report_link_quality(peers_[0], 0.3, milliseconds(20));
    run_for(seconds(10));
    const Duration interval = router().heartbeat_interval();
    EXPECT_EQ(*router().next_timeout() - now_ <= interval, true);
    if (adaptive) {
      EXPECT_LT(interval, milliseconds(600)) << "stress " << router().heartbeat_stress();
      EXPECT_GE(interval, milliseconds(500));
    } else {
      EXPECT_EQ(interval, seconds(1));
    }
  }
}

TEST_F(RouterScoring, AFasterHeartbeatKeepsMessagesCachedAsLongAsConfigured) {
  start();
  join(0);
  router().report_link_quality(peers_[0], 1.0, Duration{0});
  run_for(seconds(5));  // heartbeats at ~0.5 s now
  ASSERT_LT(router().heartbeat_interval(), milliseconds(600));
  sends();
  const auto id = router().publish(now_, topic, to_bytes("keep me"));
  ASSERT_TRUE(id.has_value());
  sends();
  run_for(milliseconds(3500));  // 7 fast heartbeats, 3–4 configured intervals
  Rpc iwant;
  iwant.control.emplace();
  iwant.control->iwant.push_back({{*id}});
  router().handle_rpc(now_, peers_[0], iwant);
  EXPECT_EQ(publishes_to(sends(), peers_[0]), 1u);
}

TEST_F(RouterScoring, ScoringOffScoresEveryoneZero) {
  Options options;
  options.scoring = false;
  start(options);
  join(0);
  router().set_application_score(peers_[0], -1000);
  Message forged = signed_by(5, "forged");
  forged.data.push_back('!');
  deliver(0, forged);
  EXPECT_EQ(router().score(peers_[0]), 0.0);
  heartbeat();
  EXPECT_EQ(router().mesh_peers(topic).size(), 1u);
}

TEST_F(RouterScoring, InputsForUnknownPeersAreIgnored) {
  start();
  const auto stranger = PeerId::from_ed25519(key_from(999).public_key());
  router().set_peer_ip(stranger, "192.0.2.1");
  router().set_application_score(stranger, -5);
  router().report_link_quality(stranger, 0.5, milliseconds(10));
  EXPECT_EQ(router().score(stranger), 0.0);
  EXPECT_FALSE(router().report_validation(now_, to_bytes("no such id"), Verdict::reject));
}

}  // namespace
}  // namespace taho::gossipsub
