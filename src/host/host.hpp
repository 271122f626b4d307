// The host: the node's networking as one sans-IO object. It owns the swarm
// (connections, identify, ping, the protocol router) and the behaviours
// that run on it — the Kademlia DHT, gossipsub and the connection manager —
// and routes each swarm event to whoever it concerns. What no behaviour
// claims (streams of protocols the application registered, its pings)
// comes out of poll_event() unchanged, so the driver can serve echo, perf
// and later blob transfers beside it.
//
// Driver grammar, as for the swarm: add_connection / handle_input /
// handle_closed / handle_dial_failed / handle_timeout in; poll_output()
// (Transmit, Close and Dial) and next_timeout() out. The Asio driver runs
// one host on real sockets; the simulated network runs many in a process.
// QUIC connections come in secured and multiplexed: add_muxed_connection and
// handle_stream_* in, the swarm's stream outputs (OpenStream, StreamWrite ...)
// out.
//
// Transport choice (happy eyeballs): dialing a peer with addresses of
// several transports tries the one that last worked for it (else QUIC)
// first and another transport transport_fallback_delay later, or at once
// when the first fails; the first connection wins, the other is closed
// when it arrives, and the winner's transport is remembered for the peer.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "host/autonat_behaviour.hpp"
#include "host/connection_manager.hpp"
#include "host/content_behaviour.hpp"
#include "host/content_storage.hpp"
#include "host/gossip_behaviour.hpp"
#include "host/identify_push.hpp"
#include "host/kad_behaviour.hpp"
#include "host/rendezvous_behaviour.hpp"
#include "host/transport.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct HostOptions {
  swarm::SwarmOptions swarm;
  KadOptions kad;
  GossipOptions gossip;
  RendezvousOptions rendezvous;
  // AutoNAT: served by default; probing runs when kad or rendezvous has
  // follow_reachability (or autonat.probe is set).
  AutonatOptions autonat;
  ConnectionManagerOptions connections;
  ContentOptions content;
  // The node's content store; null: content exchange off (fetches finish
  // `disabled`, no blob protocol, no announcements). Must outlive the host.
  ContentStorage* content_storage = nullptr;
  // Which addresses the driver has a transport for (e.g. TCP and WS but
  // not QUIC yet). Unset: everything with /tcp.
  std::function<bool(const Multiaddr&)> can_dial;
  // Happy eyeballs: how long the first transport has before the next starts.
  Duration transport_fallback_delay = std::chrono::milliseconds(250);
  std::size_t preferred_transports_max = 4096;  // peers whose working transport we remember
  // After a reachability change, identify is pushed to connected peers at
  // once and again this much later: an identify sent just before the change
  // (another connection's answer, a push) can arrive after the first push
  // and would leave the peer believing the old protocol list.
  Duration reachability_repush_after = std::chrono::seconds(2);
};

using DialId = std::uint64_t;

namespace host_output {
struct Dial {
  DialId id;
  PeerId peer;
  Multiaddr addr;  // ends in /p2p/<peer>
};
}  // namespace host_output
using HostOutput = std::variant<swarm::swarm_output::Transmit, swarm::swarm_output::Close, host_output::Dial,
                                swarm::swarm_output::OpenStream, swarm::swarm_output::StreamWrite,
                                swarm::swarm_output::StreamCloseWrite, swarm::swarm_output::StreamReset,
                                swarm::swarm_output::StreamResumeReading>;

// A gossip message for one of our topics, as the application sees it.
struct GossipMessage {
  std::string topic;
  PeerId author;
  PeerId propagation_source;
  std::uint64_t seqno = 0;
  Bytes data;
  Bytes id;
};
using HostEvent = std::variant<swarm::SwarmEvent, GossipMessage, kad_event::QueryFinished,
                               content_event::FetchProgress, content_event::FetchFinished>;

// One connected peer, as `taho peers` and `taho mesh` show it.
struct PeerSummary {
  PeerId peer;
  Source source;
  std::optional<Duration> keepalive_interval;
};

class Host {
 public:
  Host(HostOptions options, crypto::CryptoSuite& suite, Rng& rng, Instant now);

  // ---- driver input
  // `dial` is the Dial output this connection answers, if any.
  bool add_connection(Instant now, swarm::ConnectionId id, swarm::Direction direction, const Multiaddr& local_addr,
                      const Multiaddr& remote_addr, std::optional<PeerId> expected_peer,
                      std::optional<DialId> dial = std::nullopt);
  void handle_input(Instant now, swarm::ConnectionId id, ByteView bytes);
  void handle_closed(Instant now, swarm::ConnectionId id, const std::string& reason);
  void handle_dial_failed(Instant now, DialId dial, const std::string& reason);
  void handle_timeout(Instant now);
  // A QUIC connection (the transport proved `remote_peer`); see Swarm.
  bool add_muxed_connection(Instant now, swarm::ConnectionId id, swarm::Direction direction,
                            const Multiaddr& local_addr, const Multiaddr& remote_addr, const PeerId& remote_peer,
                            std::optional<DialId> dial = std::nullopt);
  std::optional<swarm::StreamId> handle_stream_opened(Instant now, swarm::ConnectionId id);
  void handle_stream_data(Instant now, swarm::ConnectionId id, swarm::StreamId stream, ByteView bytes);
  void handle_stream_end(Instant now, swarm::ConnectionId id, swarm::StreamId stream);
  void handle_stream_reset(Instant now, swarm::ConnectionId id, swarm::StreamId stream);
  void handle_stream_sent(Instant now, swarm::ConnectionId id, swarm::StreamId stream, std::size_t bytes);

  // ---- commands: discovery and connections
  void set_listen_addrs(Instant now, std::vector<Multiaddr> addrs);
  // Must end in /p2p/<id>. Bootstrap peers are also rendezvous points.
  void add_bootstrap(Instant now, const Multiaddr& addr);
  // A rendezvous point ([mesh] rendezvous): kept connected like a bootstrap peer.
  void add_rendezvous_point(Instant now, const Multiaddr& addr);
  void add_discovered(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs, Source source);
  void disconnect(Instant now, const PeerId& peer);

  // ---- AutoNAT probe dials: one connection to exactly `addr` expecting
  // `peer`, even while connected to it, that the host closes as soon as
  // the security handshake proved (or failed to prove) the peer id. It is
  // never a peer connection for the behaviours or the connection manager
  // and never a crossed-dial duplicate. The AutoNAT server uses it to dial
  // requesters back; the result goes to the behaviour's token.
  DialId probe_dial(Instant now, const PeerId& peer, const Multiaddr& addr, std::uint64_t token);

  // ---- commands: the application's own protocols (echo, perf, blob ...)
  void register_protocol(std::string protocol) { add_protocol(std::move(protocol)); }
  swarm::RequestId open_stream(Instant now, const PeerId& peer, std::string protocol);
  swarm::RequestId ping(Instant now, const PeerId& peer);
  // Over one given connection (`taho ping --transport`).
  swarm::RequestId ping_connection(Instant now, swarm::ConnectionId connection);
  // Stream I/O of application streams goes to the swarm directly.
  swarm::Swarm& swarm() { return swarm_; }
  const swarm::Swarm& swarm() const { return swarm_; }
  // Call after driving application streams through swarm(): collects what
  // those calls queued.
  void process(Instant now);

  // ---- commands: DHT and gossip
  QueryId dht_find_peer(Instant now, const PeerId& peer);
  QueryId dht_get_providers(Instant now, const Bytes& key);
  QueryId dht_provide(Instant now, const Bytes& key);
  QueryId dht_put_value(Instant now, const kad::Record& record);
  QueryId dht_get_value(Instant now, const Bytes& key);
  Expected<void, gossipsub::SubscribeError> subscribe(Instant now, std::string_view topic);
  void unsubscribe(Instant now, std::string_view topic);
  Expected<Bytes, gossipsub::PublishError> publish(Instant now, std::string_view topic, ByteView data);

  // ---- commands: content exchange (content_behaviour.hpp). Gossip of the
  // announce topic is consumed here, never surfaced as GossipMessage.
  // The whole content when no range; FetchProgress events follow (at most
  // one per 100 ms, plus one when the size is known) and exactly one
  // FetchFinished.
  FetchId fetch(Instant now, const content::Hash& root, std::optional<content::ByteRange> range = std::nullopt);
  void cancel_fetch(Instant now, FetchId id);  // FetchFinished with cancelled follows
  void announce_content(Instant now, const content::Hash& root, std::uint64_t size);  // after a local publish
  void withdraw_content(Instant now, const content::Hash& root);                     // after a local rm
  std::vector<HolderInfo> content_holders(const content::Hash& root) const;
  std::vector<HolderRecord> export_holder_index() const;
  void import_holder_index(Instant now, const std::vector<HolderRecord>& records);

  // ---- output
  std::optional<HostOutput> poll_output();
  std::optional<HostEvent> poll_event();
  std::optional<Instant> next_timeout() const;

  // ---- state
  const PeerId& local_peer() const { return swarm_.local_peer(); }
  const std::vector<Multiaddr>& listen_addrs() const { return listen_addrs_; }
  const ConnectionManager& connections() const { return manager_; }
  const KadBehaviour& dht() const { return kad_; }
  const GossipBehaviour& gossip() const { return gossip_; }
  const RendezvousBehaviour& rendezvous() const { return rendezvous_; }
  const AutonatBehaviour& autonat() const { return autonat_; }
  std::uint64_t identify_pushes_sent() const { return identify_push_.pushes_sent(); }
  // AutoNAT's verdict on our reachability (unknown while not probing).
  autonat::Reachability reachability() const { return autonat_.reachability(); }
  bool dht_server() const { return kad_.server(); }
  bool rendezvous_point() const { return rendezvous_.server(); }
  // What identify (and identify push) should announce: every registered
  // protocol but the DHT's and rendezvous' while they are in client mode.
  std::vector<std::string> advertised_protocols() const;
  const ContentBehaviour& content() const { return content_; }
  std::optional<Source> source_of(const PeerId& peer) const;
  // The transport of the last connection we dialed to the peer.
  std::optional<Transport> preferred_transport(const PeerId& peer) const;

 private:
  enum class Owner : std::uint8_t { app, kad, gossip, rendezvous, content, autonat, identify_push };
  struct OwnedRequest {
    Owner owner;
    std::uint64_t token = 0;
  };

  void on_swarm_event(Instant now, swarm::SwarmEvent& event);
  void on_stream_opened(Instant now, const swarm::swarm_event::StreamOpened& opened);
  bool close_duplicate_connection(Instant now, const swarm::swarm_event::PeerConnected& connected);
  void on_stream_open_failed(Instant now, const swarm::swarm_event::StreamOpenFailed& failed);
  void dial(Instant now, const PeerId& peer, const Multiaddr& addr);
  std::vector<Multiaddr> dial_plan(const PeerId& peer, const Multiaddr& addr) const;
  void start_due_attempts(Instant now);
  void dial_failed(Instant now, DialId dial, const std::string& reason);
  bool close_race_loser(const swarm::swarm_event::PeerConnected& connected, std::optional<DialId> dial);
  bool drain_behaviours(Instant now);
  void emit_gossip(Instant now, const gossipsub::Event& event);
  void run_content_command(Instant now, ContentCommand& command);
  void dial_any(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs, Source source);
  std::vector<Multiaddr> provider_addrs() const;
  void process_until_quiet(Instant now);
  void add_protocol(std::string protocol);
  void apply_reachability(Instant now);
  void push_identify(const PeerId& peer);
  void push_identify_to_connected();
  bool on_probe_connection_event(Instant now, swarm::SwarmEvent& event);
  void finish_probe_dial(Instant now, DialId dial, bool connected, const std::string& detail);
  Multiaddr remote_addr_of(swarm::ConnectionId connection) const;
  void on_identify_info(Instant now, const PeerId& peer, const identify::Info& info);

  HostOptions options_;
  swarm::Swarm swarm_;
  Rng& rng_;
  KadBehaviour kad_;
  GossipBehaviour gossip_;
  RendezvousBehaviour rendezvous_;
  ContentBehaviour content_;
  AutonatBehaviour autonat_;
  IdentifyPush identify_push_;
  ConnectionManager manager_;
  std::uint64_t record_seq_;
  std::vector<Multiaddr> listen_addrs_;
  Bytes signed_record_;  // our latest signed peer record, for identify push
  std::vector<std::string> protocols_;  // what the swarm announces, in its order

  // Probe dials (AutoNAT server side) and the connections they made.
  struct ProbeDial {
    PeerId peer;
    std::uint64_t token;
  };
  std::map<DialId, ProbeDial> probe_dials_;
  std::map<swarm::ConnectionId, DialId> probe_connections_;  // until established or failed
  // Connections that are only probes: our probe dials once established,
  // and (client side) a server's dial-back to us. Their events stay here.
  std::map<swarm::ConnectionId, PeerId> probe_only_connections_;
  std::optional<Instant> reachability_repush_due_;

  swarm::RequestId next_request_ = 1;
  std::map<swarm::RequestId, OwnedRequest> requests_;  // outbound streams of behaviours
  std::map<QueryId, std::uint64_t> content_queries_;   // DHT lookups the content exchange asked for
  std::set<swarm::RequestId> keepalive_pings_;
  // One race per peer being dialed: its attempts (one per transport) not yet failed.
  struct DialAttempt {
    Multiaddr addr;
    Instant due;
    std::optional<DialId> id;  // set once started
  };
  DialId next_dial_ = 1;
  std::map<DialId, PeerId> dials_;  // started attempts not answered yet
  std::map<PeerId, std::vector<DialAttempt>> races_;
  // Attempts of races another attempt won: their connections close on arrival.
  std::set<DialId> abandoned_dials_;
  std::map<swarm::ConnectionId, DialId> dial_connections_;
  // When each peer connection was established: only young ones can be a crossed dial.
  std::map<swarm::ConnectionId, Instant> established_at_;
  std::map<PeerId, Transport> preferred_transports_;
  bool processing_ = false;

  std::deque<host_output::Dial> dial_outputs_;
  std::deque<HostEvent> events_;
};

}  // namespace taho::host
