// The connection manager: keeps the node between min_peers and max_peers
// connections. It remembers every peer discovery told it about (with where
// it came from), dials the most promising ones while the node has too few
// connections, backs off exponentially (with jitter) from peers that fail,
// trims the least useful connections when there are too many, and keeps a
// per-peer keep-alive ping whose interval adapts to the link: faster while
// pings fail or RTT swings, slower while the link is steady. A peer that
// stops answering is dropped, and the fill-up replaces it.
//
// Sans-IO: the host feeds it connection events and ping results and carries
// out what it asks (dial, ping, disconnect) through poll_action().
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
#include <string_view>
#include <variant>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::host {

// How the node first learned of a peer; shown by `taho peers` and `taho mesh`.
enum class Source : std::uint8_t { bootstrap, mdns, dht, rendezvous, peerstore, inbound, manual };
std::string_view to_string(Source source);
std::optional<Source> parse_source(std::string_view text);
// 127.0.0.0/8 or ::1: a remote host's loopback address is usually our own.
bool is_loopback_addr(const Multiaddr& addr);

struct ConnectionManagerOptions {
  std::size_t min_peers = 4;
  std::size_t max_peers = 64;
  std::size_t dials_in_flight_max = 8;
  Duration backoff_initial = std::chrono::seconds(1);
  Duration backoff_max = std::chrono::minutes(5);
  double backoff_jitter = 0.2;  // +-20 %: nodes that lost the same peer do not re-dial in step
  Duration dial_timeout = std::chrono::seconds(20);
  Duration tick_interval = std::chrono::seconds(1);
  // Adaptive keep-alive ping per connected peer.
  Duration keepalive_initial = std::chrono::seconds(15);
  Duration keepalive_min = std::chrono::seconds(2);
  Duration keepalive_max = std::chrono::seconds(60);
  std::size_t keepalive_failures_max = 3;
  // A ping with no answer by then failed (its stream may never even open
  // on a dead link, so the ping's own timeout cannot be relied on).
  Duration keepalive_ping_timeout = std::chrono::seconds(15);  // consecutive failed pings before the peer is dropped
  // A peer counts as recently good (re-dialed after a drop) this long.
  Duration recently_good = std::chrono::hours(24);
  std::size_t known_peers_max = 5000;
  std::size_t addrs_per_peer_max = 16;
};

namespace action {
struct Dial {
  PeerId peer;
  Multiaddr addr;  // ends in /p2p/<peer>
};
struct Ping {
  PeerId peer;
};
struct Disconnect {
  PeerId peer;
  std::string reason;
};
}  // namespace action
using Action = std::variant<action::Dial, action::Ping, action::Disconnect>;

// What the manager knows of a peer; also what the peerstore file keeps.
struct KnownPeer {
  explicit KnownPeer(PeerId id) : peer(std::move(id)) {}
  PeerId peer;
  std::vector<Multiaddr> addrs;  // without /p2p
  Source source = Source::manual;
  bool bootstrap = false;
  bool connected = false;
  std::optional<Instant> last_connected;  // set while connected too
  std::size_t failures = 0;               // consecutive failed dials
  Instant next_dial{};                    // backoff: not before this
  std::size_t next_addr = 0;              // rotates through addrs on failures
  // Adaptive keep-alive state (while connected).
  Duration keepalive_interval{};
  Instant next_ping{};
  bool ping_in_flight = false;
  Instant ping_sent{};
  std::size_t ping_failures = 0;
  std::optional<Duration> rtt;
  std::optional<Duration> rtt_variation;  // smoothed |rtt - mean|, like TCP's RTTVAR
};

struct ConnectionManagerStats {
  std::uint64_t dials = 0;
  std::uint64_t dial_failures = 0;
  std::uint64_t trimmed = 0;
  std::uint64_t dropped_unresponsive = 0;
  std::uint64_t known_refused = 0;  // known_peers_max hit
};

class ConnectionManager {
 public:
  // `can_dial` says which addresses this node has a transport for.
  ConnectionManager(const PeerId& local, Rng& rng, ConnectionManagerOptions options,
                    std::function<bool(const Multiaddr&)> can_dial);

  // ---- input
  // A peer learned from discovery (or a bootstrap entry). Addresses may
  // carry /p2p; those of other peers are ignored.
  void add_known(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs, Source source);
  void add_bootstrap(Instant now, const PeerId& peer, const Multiaddr& addr);
  void handle_connected(Instant now, const PeerId& peer, bool inbound);
  void handle_disconnected(Instant now, const PeerId& peer);  // its last connection closed
  void handle_dial_failed(Instant now, const PeerId& peer);
  void handle_ping(Instant now, const PeerId& peer, std::optional<Duration> rtt);
  void handle_timeout(Instant now);
  // Peers the trimmer must leave alone (gossip mesh links, active transfers).
  void set_protected(std::set<PeerId> peers) { protected_ = std::move(peers); }

  // ---- output
  std::optional<Action> poll_action();
  std::optional<Instant> next_timeout() const { return next_tick_; }

  // ---- state
  const KnownPeer* find(const PeerId& peer) const;
  const std::map<PeerId, KnownPeer>& known() const { return known_; }
  std::size_t connected_count() const { return connected_; }
  const ConnectionManagerStats& stats() const { return stats_; }
  const ConnectionManagerOptions& options() const { return options_; }

 private:
  KnownPeer* remember(Instant now, const PeerId& peer, Source source);
  void add_addrs(KnownPeer& known, const std::vector<Multiaddr>& addrs);
  void fill_up(Instant now);
  void trim(Instant now);
  void keep_alive(Instant now);
  void ping_finished(Instant now, KnownPeer& known, std::optional<Duration> rtt);
  void schedule_retry(Instant now, KnownPeer& known);
  Duration jittered(Duration base);
  bool dialable(const KnownPeer& known, Instant now) const;
  void forget_one();

  PeerId local_;
  Rng& rng_;
  ConnectionManagerOptions options_;
  std::function<bool(const Multiaddr&)> can_dial_;
  std::map<PeerId, KnownPeer> known_;
  std::map<PeerId, Instant> dialing_;  // peer -> dial deadline
  std::set<PeerId> protected_;
  std::size_t connected_ = 0;
  std::optional<Instant> next_tick_;
  std::deque<Action> actions_;
  ConnectionManagerStats stats_;
};

}  // namespace taho::host
