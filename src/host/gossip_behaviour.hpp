// Gossipsub on the swarm (libp2p/specs pubsub): one long-lived outbound
// stream per peer that speaks /meshsub (we write our RPCs on it) and the
// peer's inbound stream to us (we read its RPCs), the way go and js do it.
// The router core decides what to send; this class moves the frames.
// When our stream ends while the peer is still connected (the connection
// that carried it closed and another remains, or the peer reset it), it is
// reopened after a per-peer backoff, as go-libp2p-pubsub respawns its
// writer for a peer "declared dead but still connected".
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
  // Inbound streams kept per peer; a newer one replaces the oldest, as
  // go-libp2p-pubsub, rust-libp2p and js-libp2p replace theirs (a peer only
  // opens another when it gave up on the old one). 0 takes none.
  std::size_t inbound_streams_per_peer_max = 2;
  // Published messages accepted from one peer per second (a token bucket
  // holding `peer_message_burst`); beyond it the peer's RPCs are dropped and
  // its application score (P5) goes down by one per dropped RPC.
  double peer_messages_per_second = 1000;
  double peer_message_burst = 2000;
  // Reopening our stream to a peer that is still connected: the first try
  // waits reopen_backoff_initial, each consecutive failure doubles the wait
  // up to reopen_backoff_max, and a stream that lived reopen_stable_after
  // starts the count afresh. After reopen_attempts_max consecutive failures
  // we stop: a peer that keeps refusing has most likely dropped gossipsub,
  // and its next identify (push or new connection) starts over anyway,
  // while retrying forever would hammer it for nothing.
  Duration reopen_backoff_initial = std::chrono::milliseconds(100);
  Duration reopen_backoff_max = std::chrono::seconds(30);
  Duration reopen_stable_after = std::chrono::seconds(60);
  std::size_t reopen_attempts_max = 10;
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
  std::uint64_t streams_opened = 0;     // every open we asked for, first ones and reopens
  std::uint64_t streams_reopened = 0;   // opens after our stream ended while the peer stayed connected
  std::uint64_t reopens_given_up = 0;   // peers left alone after reopen_attempts_max failures
  std::uint64_t inbound_streams_replaced = 0;  // a peer's oldest inbound stream reset for its newest
};

// A scheduled reopen of our stream to a peer (for tests and diagnostics).
struct GossipReopen {
  Instant due;
  std::size_t failures = 0;  // consecutive ends or failed opens so far, this one included
};

class GossipBehaviour {
 public:
  GossipBehaviour(const crypto::Ed25519KeyPair& key, Rng& rng, Instant now, GossipOptions options = {});

  // Protocol ids to register with the swarm, preferred first.
  static std::vector<std::string> protocols();

  // ---- from the host
  void on_identified(Instant now, const PeerId& peer, const identify::Info& info, bool connected);
  // The peer's last connection is gone: forgets everything about it.
  void on_disconnected(Instant now, const PeerId& peer);
  // The peer's IP (no port), for the IP-colocation score (P6).
  void set_peer_ip(const PeerId& peer, std::string ip);
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream, const std::string& protocol);
  void on_open_failed(Instant now, swarm::Swarm& swarm, std::uint64_t token);
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
  std::optional<Instant> next_timeout() const;
  // Peers in any topic's mesh: the connection manager must not trim them.
  std::set<PeerId> mesh_peers() const;
  const GossipStats& stats() const { return stats_; }
  // The connection our stream to `peer` runs on, once it is open.
  std::optional<swarm::ConnectionId> outbound_connection(const PeerId& peer) const;
  std::optional<GossipReopen> reopen_of(const PeerId& peer) const;

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  struct Outbound {
    std::optional<StreamKey> stream;  // unset while opening or waiting to reopen
    std::uint64_t token = 0;          // of the open under way, 0 while waiting to reopen
    Outbox outbox;
    Instant opened{};     // when the stream opened: a long-lived one resets the backoff
    bool routed = false;  // given to the router (add_peer); stays so while waiting to reopen
  };
  // What reopening needs about a peer we opened a stream to; kept while
  // it is connected.
  struct Reopen {
    std::string protocol;  // the version chosen from its identify
    std::size_t failures = 0;
    std::optional<Instant> due;
  };
  struct Inbound {
    PeerId peer;
    gossipsub::FrameReader reader;
    std::uint64_t arrival = 0;  // orders a peer's streams, oldest first
  };
  void pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  bool routed(const PeerId& peer) const;
  void drop_peer(Instant now, const PeerId& peer);
  void open(const PeerId& peer, const std::string& protocol);
  // Our stream ended or failed to open: schedule the next try if the swarm
  // is still connected to the peer, else drop it.
  void stream_lost(Instant now, swarm::Swarm& swarm, const PeerId& peer);
  // False when there will be no reopen (it does not speak gossipsub, or we gave up).
  bool schedule_reopen(Instant now, const PeerId& peer, bool stable);
  void cancel_reopen(const PeerId& peer);
  void reopen_due(Instant now, swarm::Swarm& swarm);

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
  std::uint64_t inbound_arrivals_ = 0;
  std::map<PeerId, Reopen> reopens_;                  // bounded by the connected peers
  std::set<std::pair<Instant, PeerId>> reopen_queue_;  // (due, peer), earliest first
  std::uint64_t next_token_ = 1;
  std::deque<GossipOpen> opens_;
  GossipStats stats_;
};

}  // namespace taho::host
