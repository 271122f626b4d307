// AutoNAT v1 (/libp2p/autonat/1.0.0) on the swarm, both roles:
// - server: answers a peer's DIAL request by dialing the chosen addresses
//   back (autonat::Server decides which) on fresh "probe" connections that
//   the host opens and closes for us (poll_dial_back / on_dial_back_result),
//   then writes DIAL_RESPONSE;
// - client: asks connected peers that offer AutoNAT (identify) to dial us
//   back at our listen and observed addresses, and feeds the answers to an
//   autonat::ReachabilityTracker. The host turns its verdict into the DHT
//   and rendezvous modes.
//
// Grammar as for the other behaviours: on_* from the host, poll_open /
// poll_dial_back / poll_event out, handle_timeout at next_timeout().
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "host/outbox.hpp"
#include "proto/autonat/message.hpp"
#include "proto/autonat/reachability.hpp"
#include "proto/autonat/server.hpp"
#include "proto/identify/message.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct AutonatOptions {
  bool serve = true;   // answer others' DIAL requests
  bool probe = false;  // ask others to dial us back (the host turns it on when a mode follows reachability)
  autonat::ServerOptions server;
  autonat::ReachabilityOptions reachability;
  Duration dial_back_timeout = std::chrono::seconds(15);  // server: every dial-back of one request
  Duration request_timeout = std::chrono::seconds(30);    // client: from opening the stream to the answer
  // Client: how long after a server's OK an inbound connection from it
  // still counts as its dial-back when that has not arrived yet. The server
  // answers once its end of the dial-back is secure; our end completes a
  // moment later, so the answer can arrive first.
  Duration late_dial_back_window = std::chrono::seconds(5);
  std::size_t inbound_streams_max = 16;
  std::size_t addrs_sent_max = 16;       // addresses in our DIAL request
  std::size_t observed_addrs_max = 8;    // observed addresses of ours we remember
};

struct AutonatOpen {
  std::uint64_t token;
  PeerId peer;
};
// Dial `addr` of `peer` on a new connection, whatever connections exist,
// and report with on_dial_back_result once the security handshake proved
// (or failed to prove) the peer id.
struct AutonatDialBack {
  std::uint64_t token;
  PeerId peer;
  Multiaddr addr;  // without /p2p
};
struct ReachabilityChanged {
  autonat::Reachability reachability;
};

struct AutonatStats {
  std::uint64_t requests_served = 0;  // DIAL_RESPONSE written, any status
  std::uint64_t dial_backs_ok = 0;
  std::uint64_t dial_backs_failed = 0;
  std::uint64_t probes_sent = 0;
  std::uint64_t probes_answered = 0;  // a well-formed DIAL_RESPONSE came back
  std::optional<autonat::ResponseStatus> last_status;  // of the last answer we got
};

class AutonatBehaviour {
 public:
  // `can_dial`: which addresses we have a transport for (unset: all).
  AutonatBehaviour(const PeerId& local, Instant now, AutonatOptions options = {},
                   std::function<bool(const Multiaddr&)> can_dial = {});

  static constexpr std::string_view protocol() { return autonat::protocol_id; }
  bool serving() const { return options_.serve; }
  bool probing() const { return options_.probe; }
  autonat::Reachability reachability() const { return tracker_.reachability(); }
  std::size_t confidence() const { return tracker_.confidence(); }
  const AutonatStats& stats() const { return stats_; }
  // Whether a DIAL request of ours to `peer` waits for its answer.
  bool awaiting_dial_back(const PeerId& peer) const;
  // Whether an inbound connection from `peer`, arriving now, is its
  // dial-back: our request waits for its answer, or it answered OK before
  // its dial-back reached us (then only this one connection, and only
  // within late_dial_back_window).
  bool claim_dial_back(Instant now, const PeerId& peer);

  // ---- from the host
  void set_listen_addrs(Instant now, const std::vector<Multiaddr>& addrs);
  void on_identified(Instant now, const PeerId& peer, const identify::Info& info);
  void on_disconnected(const PeerId& peer);
  // `observed` is the remote address of the stream's connection.
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened,
                         const Multiaddr& observed);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream);
  void on_open_failed(Instant now, std::uint64_t token);
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);
  void on_dial_back_result(Instant now, swarm::Swarm& swarm, std::uint64_t token, bool connected,
                           const std::string& detail);
  void handle_timeout(Instant now, swarm::Swarm& swarm);

  // ---- output
  std::optional<AutonatOpen> poll_open();
  std::optional<AutonatDialBack> poll_dial_back();
  std::optional<ReachabilityChanged> poll_event();
  std::optional<Instant> next_timeout() const;

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  // A DIAL request we serve, from its stream to our answer.
  struct Serving {
    PeerId peer;
    Multiaddr observed;
    autonat::FrameReader reader;
    Outbox outbox;
    std::vector<Multiaddr> to_dial;  // addresses not tried yet
    std::optional<std::uint64_t> dialing;  // token of the dial-back under way
    Multiaddr dialing_addr;
    std::optional<Instant> deadline;  // set once dialing starts
    bool answered = false;
  };
  // Our DIAL request to one server.
  struct Probe {
    PeerId server;
    std::optional<StreamKey> stream;
    autonat::FrameReader reader;
    Outbox outbox;
    Instant deadline;
    bool dial_back_seen = false;  // its dial-back reached us while we waited
  };

  void maybe_probe(Instant now);
  std::vector<Bytes> our_addrs() const;
  void pump_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  void next_dial_back(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  void answer(Instant now, swarm::Swarm& swarm, const StreamKey& key, const autonat::Message& response);
  void pump_probe(Instant now, swarm::Swarm& swarm);
  void finish_probe(Instant now, autonat::ProbeOutcome outcome, std::optional<autonat::ResponseStatus> status);

  PeerId local_;
  AutonatOptions options_;
  std::function<bool(const Multiaddr&)> can_dial_;
  autonat::Server server_;
  autonat::ReachabilityTracker tracker_;
  std::vector<Multiaddr> listen_addrs_;
  std::deque<Multiaddr> observed_addrs_;  // newest last
  std::set<PeerId> servers_;  // connected peers that offer AutoNAT
  bool starved_ = false;      // a probe was due and nobody could be asked

  std::map<StreamKey, Serving> serving_;
  std::map<std::uint64_t, StreamKey> dial_backs_;  // token -> the request it serves
  std::optional<std::pair<std::uint64_t, Probe>> probe_;  // token, state
  // A server that answered OK before its dial-back reached us, and until when that may still come.
  std::optional<std::pair<PeerId, Instant>> late_dial_back_;
  std::uint64_t next_token_ = 1;

  std::deque<AutonatOpen> opens_;
  std::deque<AutonatDialBack> dial_back_outputs_;
  std::deque<ReachabilityChanged> events_;
  AutonatStats stats_;
};

}  // namespace taho::host
