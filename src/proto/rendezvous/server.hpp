// The rendezvous point: stores (namespace, peer) registrations for their TTL
// and answers DISCOVER from them (rendezvous/README.md "The Protocol").
//
// The driver reads one request frame from an inbound `/rendezvous/1.0.0`
// stream, calls handle_request with the connection's authenticated peer,
// writes the reply frame (if any) and closes the stream; an error means
// reset the stream. Refusals a client can act on (bad TTL, bad record,
// limits, stale cookie) are replies with a status, not errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/rendezvous/message.hpp"

namespace taho::rendezvous {

struct ServerOptions {
  // The spec: 2 h when the client names none; points should accept at
  // least 2 h and at most 72 h.
  std::chrono::seconds ttl_default = std::chrono::hours(2);
  std::chrono::seconds ttl_min = std::chrono::hours(2);
  std::chrono::seconds ttl_max = std::chrono::hours(72);
  // The spec recommends 1000 per peer against trivial DoS. Every
  // registration holds a signed record of at most 8 KiB, so the total bounds
  // memory to about registrations_max × 8 KiB.
  std::size_t registrations_per_peer_max = 1000;
  std::size_t registrations_max = 10'000;
  std::size_t namespaces_max = 1000;
  // Per DISCOVER: the spec recommends at most 1000, and the reply must fit
  // in a frame a client reads (rust-libp2p: 1 MiB); the cookie pages on.
  std::size_t discover_limit_max = 1000;
  std::size_t response_bytes_max = Limits{}.message_bytes_max;
};

struct ServerStats {
  std::uint64_t registered = 0;  // new (namespace, peer) registrations
  std::uint64_t refreshed = 0;   // REGISTERs replacing a live registration
  std::uint64_t unregistered = 0;
  std::uint64_t expired = 0;
  std::uint64_t registers_refused = 0;
  std::uint64_t discovers_answered = 0;
  std::uint64_t discovers_refused = 0;
};

class Server {
 public:
  // Draws the cookie epoch from `rng` (cookie.hpp); keeps no reference.
  explicit Server(Rng& rng, const ServerOptions& options = {});

  // The reply to `request` from `sender`: a REGISTER_RESPONSE or
  // DISCOVER_RESPONSE, nullopt for UNREGISTER (which has none). Fails
  // (bad_request) for response types and requests without their body.
  Expected<std::optional<Message>, RendezvousError> handle_request(Instant now, const PeerId& sender,
                                                                   const Message& request);

  // Drops registrations whose TTL has run out. Requests do the same
  // lazily, so calling this only bounds how long expired records use memory.
  void handle_timeout(Instant now);
  // When the next registration expires.
  std::optional<Instant> next_timeout() const;

  std::size_t registration_count() const { return entries_.size(); }
  std::size_t namespace_count() const { return by_namespace_.size(); }
  std::size_t registration_count(const PeerId& peer) const;
  const ServerStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::string ns;
    PeerId peer;
    Bytes signed_peer_record;
    Instant expires_at;
  };
  using Key = std::pair<std::string, PeerId>;

  Message register_reply(Instant now, const PeerId& sender, const Register& request);
  Message discover_reply(Instant now, const Discover& request);
  void unregister(const PeerId& sender, const std::string& ns);
  void erase(std::uint64_t sequence);

  ServerOptions options_;
  std::uint16_t epoch_ = 0;
  std::uint64_t last_sequence_ = 0;  // every accepted REGISTER takes the next one
  std::map<std::uint64_t, Entry> entries_;  // by sequence: the order cookies page in
  std::map<Key, std::uint64_t> by_key_;
  std::map<std::string, std::set<std::uint64_t>, std::less<>> by_namespace_;
  std::map<PeerId, std::size_t> per_peer_;
  std::set<std::pair<Instant, std::uint64_t>> by_expiry_;
  ServerStats stats_;
};

}  // namespace taho::rendezvous
