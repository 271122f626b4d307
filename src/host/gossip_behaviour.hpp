// Gossipsub on the swarm (libp2p/specs pubsub): one long-lived outbound
// stream per peer that speaks /meshsub (we write our RPCs on it) and the
// peer's inbound stream to us (we read its RPCs), the way go and js do it.
// The router core decides what to send; this class moves the frames.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "host/outbox.hpp"
#include "proto/gossipsub/router.hpp"
#include "proto/gossipsub/rpc.hpp"
#include "proto/identify/message.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct GossipOptions {
  gossipsub::Options router;
  // RPC bytes queued for one peer's stream; over it, the RPC is dropped
  // (counted): a peer that does not read must not grow our memory.
  std::size_t peer_queue_bytes_max = 16 * 1024 * 1024;
  std::size_t inbound_streams_per_peer_max = 2;
  // Published messages accepted from one peer per second (a token bucket
  // holding `peer_message_burst`); beyond it the peer's RPCs are dropped and
  // its application score (P5) goes down by one per dropped RPC.
  double peer_messages_per_second = 1000;
  double peer_message_burst = 2000;
};

struct GossipOpen {
  std::uint64_t token;
  PeerId peer;
  std::string protocol;
};

struct GossipStats {
  std::uint64_t rpcs_sent = 0;
  std::uint64_t rpcs_received = 0;
  std::uint64_t rpcs_dropped_queue_full = 0;
  std::uint64_t bad_frames = 0;
  std::uint64_t rpcs_dropped_rate_limited = 0;
};

class GossipBehaviour {
 public:
  GossipBehaviour(const crypto::Ed25519KeyPair& key, Rng& rng, Instant now, GossipOptions options = {});

  // Protocol ids to register with the swarm, preferred first.
  static std::vector<std::string> protocols();

  // ---- from the host
  void on_identified(Instant now, const PeerId& peer, const identify::Info& info, bool connected);
  void on_disconnected(Instant now, const PeerId& peer);
  // The peer's IP (no port), for the IP-colocation score (P6).
  void set_peer_ip(const PeerId& peer, std::string ip);
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream, const std::string& protocol);
  void on_open_failed(Instant now, std::uint64_t token);
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);
  void handle_timeout(Instant now, swarm::Swarm& swarm);
  // Moves what the router queued onto the streams. The host calls it after
  // every command and input.
  void flush(Instant now, swarm::Swarm& swarm);

  // ---- commands (through here so the behaviour knows our topics)
  Expected<void, gossipsub::SubscribeError> subscribe(Instant now, swarm::Swarm& swarm, std::string_view topic);
  void unsubscribe(Instant now, swarm::Swarm& swarm, std::string_view topic);
  Expected<Bytes, gossipsub::PublishError> publish(Instant now, swarm::Swarm& swarm, std::string_view topic,
                                                   ByteView data);
  const std::set<std::string>& topics() const { return topics_; }

  gossipsub::Router& router() { return router_; }
  const gossipsub::Router& router() const { return router_; }

  std::optional<GossipOpen> poll_open();
  std::optional<gossipsub::Event> poll_event() { return router_.poll_event(); }
  std::optional<Instant> next_timeout() const { return router_.next_timeout(); }
  // Peers in any topic's mesh: the connection manager must not trim them.
  std::set<PeerId> mesh_peers() const;
  const GossipStats& stats() const { return stats_; }

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  struct Outbound {
    std::optional<StreamKey> stream;  // unset while opening
    std::uint64_t token = 0;
    Outbox outbox;
  };
  struct Inbound {
    PeerId peer;
    gossipsub::FrameReader reader;
  };
  void pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  void drop_peer(Instant now, const PeerId& peer);

  gossipsub::Router router_;
  GossipOptions options_;
  std::set<std::string> topics_;
  std::map<PeerId, std::string> peer_ips_;  // told to the router once it knows the peer
  struct RateBucket {
    double tokens = 0;
    Instant refilled{};
    std::uint64_t dropped = 0;
  };
  std::map<PeerId, RateBucket> rates_;
  bool admit(Instant now, const PeerId& peer, std::size_t messages);
  std::map<PeerId, Outbound> outbound_;
  std::map<std::uint64_t, PeerId> opening_;  // token -> peer
  std::map<StreamKey, PeerId> outbound_streams_;
  std::map<StreamKey, Inbound> inbound_;
  std::uint64_t next_token_ = 1;
  std::deque<GossipOpen> opens_;
  GossipStats stats_;
};

}  // namespace taho::host
