// The AutoNAT v1 server's policy: whether to answer a DIAL request and
// which of the requester's addresses to dial back. The driver dials those
// (a fresh connection that must prove the requester's peer id) and builds
// the DIAL_RESPONSE with response_for().
//
// Rules (docs/protocols/autonat.md):
// - anti-amplification: only addresses whose IP is the IP we see the
//   requester's connection come from, so nobody can aim our dials at a
//   third party;
// - only /ip4|ip6 + /tcp (optionally /ws), or /udp/quic-v1: no DNS, no
//   relayed addresses; at most dial_addrs_max of them, duplicates dropped;
// - a request whose peer id is not the requester's is a bad request;
// - a rate limit per requester and a global one over a sliding window.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/autonat/message.hpp"

namespace taho::autonat {

struct ServerOptions {
  std::size_t dial_addrs_max = 4;                      // dialed per request
  Duration rate_window = std::chrono::seconds(60);
  std::size_t requests_per_peer_max = 3;               // per rate_window
  std::size_t requests_global_max = 60;                // per rate_window
  std::size_t peers_tracked_max = 1024;                // requesters remembered for the per-peer limit
};

// Dial these (ending without /p2p) and answer with the first that connects.
struct DialBack {
  std::vector<Multiaddr> addrs;
};
// Answer at once with this status.
struct Refusal {
  ResponseStatus status;
  std::string text;
};
using Decision = std::variant<DialBack, Refusal>;

struct ServerStats {
  std::uint64_t requests = 0;
  std::uint64_t refused_rate = 0;       // over a rate limit
  std::uint64_t refused_addresses = 0;  // nothing dialable on the observed IP
  std::uint64_t bad_requests = 0;
};

class Server {
 public:
  explicit Server(ServerOptions options = {}) : options_(std::move(options)) {}

  // `observed` is the remote address of the requester's connection.
  // `can_dial`, if set, further limits the addresses to our transports.
  Decision handle_request(Instant now, const PeerId& requester, const Multiaddr& observed, const Message& request,
                          const std::function<bool(const Multiaddr&)>& can_dial = {});

  const ServerStats& stats() const { return stats_; }

 private:
  void forget_before(Instant cutoff);

  ServerOptions options_;
  std::deque<Instant> recent_;                        // every accepted request in the window
  std::map<PeerId, std::deque<Instant>> per_peer_;    // accepted requests per requester in the window
  ServerStats stats_;
};

// The IP address component (ip4 or ip6) of an address, if it starts with one.
std::optional<multiaddr::Component> ip_component(const Multiaddr& addr);
// /ip4|ip6/../tcp/N[/ws] or /ip4|ip6/../udp/N/quic-v1, optionally ending in /p2p.
bool is_dial_back_shape(const Multiaddr& addr);

// DIAL_RESPONSE messages.
Message response_for(const Refusal& refusal);
Message response_ok(const Multiaddr& reached);
Message response_dial_error(std::string text);

}  // namespace taho::autonat
