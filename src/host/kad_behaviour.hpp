// The Kademlia DHT on the swarm (libp2p/specs kad-dht): the kad core's
// routing table, stores, request handler and iterative queries, carried
// over one stream per request. Peers enter the routing table only when
// identify says they run our DHT protocol (client-mode peers never do).
//
// Grammar: the host forwards the swarm events that concern the DHT
// (on_*), hands the outputs over (poll_open for streams to open, poll_dial
// for peers a query needs that are not connected, poll_event for finished
// queries and peers learned), and calls handle_timeout at next_timeout().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "host/outbox.hpp"
#include "proto/identify/message.hpp"
#include "proto/kad/address_book.hpp"
#include "proto/kad/handler.hpp"
#include "proto/kad/message.hpp"
#include "proto/kad/provider_store.hpp"
#include "proto/kad/query.hpp"
#include "proto/kad/record_store.hpp"
#include "proto/kad/routing_table.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct KadOptions {
  std::string protocol{kad::default_protocol_id};
  // Server mode answers requests and announces the protocol in identify;
  // client mode only asks (and refuses inbound DHT streams).
  bool server = true;
  // Server exactly while AutoNAT finds us publicly reachable (the host
  // switches the mode at runtime); `server` is ignored then and the DHT
  // starts in client mode.
  bool follow_reachability = false;
  kad::QueryOptions query;
  Duration refresh_interval = std::chrono::minutes(10);
  Duration first_refresh_delay = std::chrono::seconds(1);  // after the first peer joins the table
  std::size_t queries_max = 64;              // running at once
  std::size_t inbound_streams_max = 256;
  std::size_t requests_in_flight_max = 256;  // outbound request streams
  std::size_t stream_buffer_bytes_max = 4 * 1024 * 1024 + 16;
};

using QueryId = std::uint64_t;

enum class QueryKind : std::uint8_t { find_node, find_peer, get_providers, provide, put_value, get_value, refresh };

namespace kad_event {
struct QueryFinished {
  QueryId id;
  QueryKind kind;
  Bytes key;
  kad::QueryResult result;
  std::size_t requests = 0;  // requests sent
  std::size_t rounds = 0;    // longest chain of answers that led to the result (lookup hops)
  std::optional<std::string> error;  // e.g. the routing table was empty
};
// Closer peers or providers a query heard of: candidates for the
// connection manager.
struct PeerLearned {
  PeerId peer;
  std::vector<Multiaddr> addrs;
};
}  // namespace kad_event
using KadEvent = std::variant<kad_event::QueryFinished, kad_event::PeerLearned>;

struct KadOpen {
  std::uint64_t token;
  PeerId peer;
  std::string protocol;
};
struct KadDial {
  PeerId peer;
  std::vector<Multiaddr> addrs;
};

struct KadStats {
  std::size_t routing_table_peers = 0;
  std::size_t provider_keys = 0;
  std::size_t records = 0;
  std::size_t queries_running = 0;
  std::uint64_t queries_finished = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_failed = 0;
  std::uint64_t requests_served = 0;
  std::uint64_t bad_requests = 0;  // malformed or refused inbound requests
  std::uint64_t inbound_refused = 0;
};

class KadBehaviour {
 public:
  KadBehaviour(const PeerId& local, Instant now, Rng& rng, KadOptions options = {});

  const std::string& protocol() const { return options_.protocol; }
  bool server() const { return options_.server; }
  // Runtime mode switch (AutoNAT); the host announces it with identify push.
  void set_server(bool server) { options_.server = server; }

  // ---- from the host
  void on_identified(Instant now, const PeerId& peer, const identify::Info& info);
  void on_connected(Instant now, const PeerId& peer);
  void on_disconnected(Instant now, const PeerId& peer);
  void on_dial_failed(Instant now, const PeerId& peer);
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream);
  void on_open_failed(Instant now, std::uint64_t token, const std::string& error);
  // Readable, writable or closed: false if the stream is not the DHT's.
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);
  void handle_timeout(Instant now, swarm::Swarm& swarm);

  // ---- commands; each finishes with a QueryFinished carrying its id
  QueryId find_peer(Instant now, const PeerId& peer);
  QueryId find_node(Instant now, const Bytes& key);
  QueryId get_providers(Instant now, const Bytes& key);
  // Stores us as a provider locally and at the k closest peers to `key`.
  QueryId provide(Instant now, const Bytes& key, const std::vector<Multiaddr>& our_addrs);
  QueryId put_value(Instant now, const kad::Record& record);
  QueryId get_value(Instant now, const Bytes& key);
  // Providers known locally (our own announcements and others' ADD_PROVIDER).
  std::vector<kad::ProviderRecord> local_providers(Instant now, const Bytes& key) const;

  // ---- output
  std::optional<KadOpen> poll_open();
  std::optional<KadDial> poll_dial();
  std::optional<KadEvent> poll_event();
  std::optional<Instant> next_timeout() const;

  // ---- state
  KadStats stats() const;
  const kad::RoutingTable& routing_table() const { return table_; }
  std::vector<Multiaddr> addresses(const PeerId& peer) const { return addresses_.addresses(peer); }

 private:
  struct QueryState {
    QueryKind kind;
    Bytes key;
    kad::Query query;
    std::optional<kad::Record> record;       // put_value
    std::vector<Multiaddr> provider_addrs;   // provide
    std::size_t requests = 0;
    std::map<PeerId, std::size_t> depth;     // hops from us at which a peer was learned
    std::size_t rounds = 0;
  };
  // One request on its own stream.
  struct Request {
    QueryId query = 0;  // 0: fire-and-forget (ADD_PROVIDER, PUT_VALUE after a lookup)
    PeerId peer;
    kad::Message message;
    enum class State { waiting_connection, opening, open } state = State::waiting_connection;
    std::optional<std::pair<swarm::ConnectionId, swarm::StreamId>> stream;
    kad::FrameReader reader;
    Outbox outbox;
    bool expects_reply = true;
    Instant deadline;
  };
  struct Inbound {
    PeerId peer;
    kad::FrameReader reader;
    Outbox outbox;
    bool ended = false;
  };
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;

  QueryId start(Instant now, QueryKind kind, Bytes key, kad::MessageType type);
  void drive(Instant now);
  void send(Instant now, QueryId query, const PeerId& peer, const std::vector<Multiaddr>& addrs,
            kad::Message message, bool expects_reply);
  void finish_request(Instant now, std::uint64_t token, std::optional<kad::Message> reply, bool failed);
  void finish_query(Instant now, QueryId id, std::optional<std::string> error = std::nullopt);
  void pump_request(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  void pump_inbound(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  void learn(const PeerId& peer, const std::vector<Multiaddr>& addrs);
  void admit(Instant now, const PeerId& peer);

  PeerId local_;
  Rng& rng_;
  KadOptions options_;
  kad::RoutingTable table_;
  kad::AddressBook addresses_;
  kad::ProviderStore providers_;
  kad::RecordStore records_;
  kad::Handler handler_;
  std::set<PeerId> connected_;

  std::map<QueryId, QueryState> queries_;
  QueryId next_query_ = 1;
  std::map<std::uint64_t, Request> requests_;  // by token
  std::map<StreamKey, std::uint64_t> request_streams_;
  std::uint64_t next_token_ = 1;
  std::map<StreamKey, Inbound> inbound_;

  std::map<Bytes, std::vector<Multiaddr>> provided_;  // our own provider records, republished
  Instant next_refresh_;
  Instant next_republish_;
  bool refreshed_once_ = false;

  std::deque<KadOpen> opens_;
  std::deque<KadDial> dials_;
  std::deque<KadEvent> events_;
  KadStats stats_;
};

}  // namespace taho::host
