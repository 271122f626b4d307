// libp2p mDNS peer discovery (libp2p/specs discovery/mdns.md), sans-IO.
//
// We ask "_p2p._udp.local PTR?" at start, a few times soon after, then every
// query_interval. We answer such questions (our own too: a peer that hears
// our answer to our own query learns of us passively) with
//   answers: _p2p._udp.local PTR <peer-name>._p2p._udp.local
//            <peer-name>._p2p._udp.local TXT "dnsaddr=<multiaddr>/p2p/<our id>"   (one per address)
// where <peer-name> is a random 63-character label, as js-libp2p does. We
// read TXT records from the answers and the additionals.
//
// Grammar of the cores: handle_datagram / handle_timeout for input,
// poll_transmit() for datagrams to multicast to 224.0.0.251:5353,
// poll_event() for discovered peers, next_timeout() for the timer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/mdns/dns_message.hpp"

namespace taho::mdns {

inline constexpr std::string_view service_name = "_p2p._udp.local";
inline constexpr std::string_view ipv4_group = "224.0.0.251";
inline constexpr std::uint16_t port = 5353;
inline constexpr std::size_t peer_name_chars = 63;  // a full DNS label
inline constexpr std::string_view dnsaddr_prefix = "dnsaddr=";

// An interface as the driver numbers it (the OS interface index).
using InterfaceIndex = std::uint32_t;

struct Options {
  Duration query_interval = std::chrono::seconds(10);
  // Extra queries after the first (which goes out at construction time), so
  // peers that start at about the same moment find each other within a
  // second or two instead of a full interval.
  std::vector<Duration> startup_queries = {std::chrono::milliseconds(500), std::chrono::milliseconds(1500)};
  // Per interface, at most one response per this long; a query arriving
  // sooner is answered when the interval has passed (RFC 6762 §6: at most
  // one multicast of a record per second).
  Duration response_interval_min = std::chrono::seconds(1);
  // A random delay before each response, so the peers that hear one query
  // do not all answer in the same instant (RFC 6762 §6: 20-120 ms).
  Duration response_delay_min = std::chrono::milliseconds(20);
  Duration response_delay_max = std::chrono::milliseconds(120);
  std::uint32_t record_ttl_seconds = 120;
  // Loopback addresses are announced only when set (tests on one machine),
  // and then only on loopback interfaces (see set_loopback_interfaces);
  // public addresses never are: mDNS is for the local network.
  bool announce_loopback = false;

  std::size_t announced_addrs_max = 16;
  // Our answer is split into datagrams of at most about this size (each
  // with its own PTR record), so that it needs no IP fragmentation.
  std::size_t response_datagram_bytes_target = 1400;
  dns::Limits message_limits;          // for received datagrams
  std::size_t peers_max = 1024;        // remembered peers
  std::size_t new_peers_per_interval_max = 64;  // new peers accepted per query_interval
  std::size_t addrs_per_peer_max = 32;
  std::size_t dnsaddr_strings_per_peer_max = 64;  // TXT strings read per peer and response
  std::size_t transmit_queue_max = 64;
  std::size_t events_max = 256;
  std::size_t interfaces_max = 64;  // interfaces with response state
};

// A datagram to send to 224.0.0.251:5353.
struct Transmit {
  Bytes datagram;
  // The interface to send it on; nullopt: on every interface.
  std::optional<InterfaceIndex> interface_index;
};

// A peer answered: its addresses (each ending in /p2p/<peer>). Reported when
// first seen, when its addresses change, and otherwise at most once per
// query_interval.
struct PeerDiscovered {
  PeerId peer;
  std::vector<Multiaddr> addrs;
};

// Counted reasons why input was dropped or a limit was hit.
struct Stats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t malformed = 0;            // not a DNS message decode() accepts
  std::uint64_t queries_received = 0;     // asking for _p2p._udp.local
  std::uint64_t responses_sent = 0;       // response datagrams queued
  std::uint64_t responses_deferred = 0;   // queries answered late for response_interval_min
  std::uint64_t queries_sent = 0;
  std::uint64_t own_answers_ignored = 0;  // our own responses, looped back
  std::uint64_t bad_dnsaddr = 0;          // a dnsaddr= string that is no multiaddr with /p2p/
  std::uint64_t peer_id_mismatch = 0;     // a dnsaddr for another peer than the answer's first
  std::uint64_t addrs_over_limit = 0;     // addresses or strings beyond the per-peer limits
  std::uint64_t peers_table_full = 0;     // new peers refused for peers_max
  std::uint64_t new_peers_over_limit = 0; // new peers refused for new_peers_per_interval_max
  std::uint64_t transmits_dropped = 0;    // transmit_queue_max
  std::uint64_t events_dropped = 0;       // events_max
  std::uint64_t goodbyes = 0;             // TTL 0 answers: the peer left
  std::uint64_t loopback_addrs_dropped = 0;  // loopback addresses heard on another interface
};

class Discovery {
 public:
  // The first query is due at `now`. `rng` draws the peer name and the
  // response delays, and must outlive this object.
  Discovery(Instant now, PeerId local_peer, Rng& rng, Options options = {});

  // The addresses we answer with. Kept: private, loopback (if
  // announce_loopback) and link-local IPv4/IPv6 addresses, each with
  // /p2p/<our id> appended if missing; any other address is dropped.
  void set_listen_addrs(std::span<const Multiaddr> addrs);
  // Which interfaces are loopback ones. A loopback address is only announced
  // on them, and only believed when heard on them: heard on a LAN it names
  // the sender's host, not a place we can dial.
  void set_loopback_interfaces(std::span<const InterfaceIndex> interfaces);
  // A datagram that arrived on port 5353 of the interface.
  void handle_datagram(Instant now, ByteView datagram, InterfaceIndex from_interface);
  void handle_timeout(Instant now);
  // Queries at once (e.g. an interface came up) and restarts the interval.
  void query_now(Instant now);

  std::optional<Transmit> poll_transmit();
  std::optional<PeerDiscovered> poll_event();
  std::optional<Instant> next_timeout() const;

  const Stats& stats() const { return stats_; }
  const std::string& peer_name() const { return peer_name_; }
  const std::vector<Multiaddr>& announced_addrs() const { return announced_; }
  std::size_t known_peer_count() const { return peers_.size(); }

 private:
  struct Peer {
    std::vector<Multiaddr> addrs;
    Instant expires;
    Instant last_reported;
  };
  struct InterfaceState {
    std::optional<Instant> last_response;
    std::optional<Instant> response_due;  // a query waits for an answer
  };

  void handle_query(Instant now, const dns::Message& query, InterfaceIndex from_interface);
  void handle_response(Instant now, const dns::Message& response, InterfaceIndex from_interface);
  bool is_loopback_interface(InterfaceIndex index) const;
  void learn_peer(Instant now, const PeerId& peer, std::vector<Multiaddr> addrs, std::uint32_t ttl_seconds);
  void send_query();
  void send_response(InterfaceIndex interface_index);
  void queue_transmit(Transmit transmit);
  void queue_event(PeerDiscovered event);
  void forget_expired(Instant now);
  Duration random_response_delay();

  Options options_;
  PeerId local_peer_;
  Rng& rng_;
  std::string peer_name_;
  dns::Name service_;
  dns::Name instance_;  // <peer-name>._p2p._udp.local
  std::vector<Multiaddr> announced_;
  std::vector<InterfaceIndex> loopback_interfaces_;
  Instant next_query_;
  std::deque<Instant> startup_queries_;  // when the quick re-queries are due
  std::map<InterfaceIndex, InterfaceState> interfaces_;
  std::map<PeerId, Peer> peers_;
  Instant window_start_;
  std::size_t new_peers_in_window_ = 0;
  std::deque<Transmit> transmits_;
  std::deque<PeerDiscovered> events_;
  Stats stats_;
};

// Whether an address may be announced on the local network: its IP is
// private (RFC 1918, RFC 4193), link-local, or loopback when allowed.
bool is_local_network_address(const Multiaddr& address, bool allow_loopback);
// Whether the address's IP is 127.0.0.0/8 or ::1.
bool is_loopback_address(const Multiaddr& address);

}  // namespace taho::mdns
