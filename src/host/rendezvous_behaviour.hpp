// Rendezvous (libp2p/specs rendezvous) on the swarm: every node can be a
// rendezvous point (the server core answers /rendezvous/1.0.0 streams), and
// each node registers under namespace "taho" at its rendezvous points —
// its bootstrap peers and the [mesh] rendezvous peers — and discovers the
// others registered there. This is how nodes that share no LAN (no mDNS)
// and no DHT neighbourhood yet find each other through one known node.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "host/outbox.hpp"
#include "proto/identify/message.hpp"
#include "proto/rendezvous/message.hpp"
#include "proto/rendezvous/registrar.hpp"
#include "proto/rendezvous/server.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct RendezvousOptions {
  bool server = true;            // act as a rendezvous point for others
  // A rendezvous point exactly while AutoNAT finds us publicly reachable
  // (switched by the host at runtime); `server` is ignored then and we start
  // as a plain client.
  bool follow_reachability = false;
  std::string ns = "taho";
  Duration discover_interval = std::chrono::seconds(60);
  rendezvous::ServerOptions point;
  rendezvous::RegistrarOptions registrar;
  std::size_t inbound_streams_max = 64;
};

struct RendezvousOpen {
  std::uint64_t token;
  PeerId peer;
};
struct RendezvousDiscovered {
  PeerId peer;
  std::vector<Multiaddr> addrs;
};

class RendezvousBehaviour {
 public:
  RendezvousBehaviour(const PeerId& local, Rng& rng, RendezvousOptions options = {});

  static constexpr std::string_view protocol() { return rendezvous::protocol_id; }
  bool server() const { return options_.server; }
  // Runtime switch (AutoNAT). Registrations already held stay until they
  // expire; new requests are refused while off.
  void set_server(bool server) { options_.server = server; }

  // Peers we register and discover at (once connected and identified).
  void add_point(const PeerId& peer) { points_.insert(peer); }
  void set_signed_peer_record(Instant now, Bytes envelope) { registrar_.set_signed_peer_record(now, std::move(envelope)); }

  void on_identified(Instant now, const PeerId& peer, const identify::Info& info);
  void on_disconnected(const PeerId& peer) { connected_points_.erase(peer); }
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream);
  void on_open_failed(Instant now, std::uint64_t token, const std::string& error);
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);
  void handle_timeout(Instant now);

  std::optional<RendezvousOpen> poll_open();
  std::optional<RendezvousDiscovered> poll_discovered();
  std::optional<Instant> next_timeout() const;

  std::size_t registrations_served() const { return point_.registration_count(); }
  std::size_t registrations_held() const { return registrar_.registration_count(); }

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  struct Exchange {  // one request stream, inbound or outbound
    PeerId peer;
    rendezvous::FrameReader reader;
    Outbox outbox;
    std::uint64_t request = 0;  // outbound: the registrar's request id
    bool expects_reply = true;
  };
  void pump(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  void pull_requests(Instant now);
  void finish(Instant now, swarm::Swarm& swarm, const StreamKey& key, const std::optional<std::string>& error);

  PeerId local_;
  RendezvousOptions options_;
  rendezvous::Server point_;
  rendezvous::Registrar registrar_;
  std::set<PeerId> points_;
  std::set<PeerId> connected_points_;
  std::map<std::uint64_t, rendezvous::OutboundRequest> waiting_;  // by token (= request id) until the stream opens
  std::map<StreamKey, Exchange> outbound_;
  std::map<StreamKey, Exchange> inbound_;
  std::optional<Instant> next_discover_;
  std::deque<RendezvousOpen> opens_;
  std::deque<RendezvousDiscovered> discovered_;
};

}  // namespace taho::host
