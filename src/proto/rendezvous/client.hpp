// The client side of rendezvous, as pure functions: build the requests and
// read the responses. Registrar (registrar.hpp) keeps the state around them
// (refreshing registrations, remembering cookies).
//
// Registrations learned from a point are only as good as their signatures:
// each signed peer record is verified and must be a peer record; those that
// are not are dropped and counted, never trusted on the point's word.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/rendezvous/message.hpp"

namespace taho::rendezvous {

// The spec's implied TTL when a message carries none.
inline constexpr std::chrono::seconds default_ttl = std::chrono::hours(2);
// No point may keep a registration longer (the spec's upper bound); a
// longer TTL read from a point is capped to it.
inline constexpr std::chrono::seconds ttl_cap = std::chrono::hours(72);

// A peer some point says is registered, with the addresses its own signed
// record gives.
struct Registration {
  std::string ns;
  PeerId peer;
  std::vector<Multiaddr> addrs;
  Duration ttl;                      // how long the point keeps it (capped to ttl_cap)
  std::uint64_t record_seq = 0;      // the signed record's sequence number
  Bytes signed_peer_record;          // the verified envelope, for a peerstore's certified addresses

  bool operator==(const Registration&) const = default;
};

struct DiscoverResult {
  std::vector<Registration> registrations;
  Bytes cookie;  // pass it to the next DISCOVER of this namespace at this point
  // Registrations whose record did not verify, was not a peer record, or
  // belonged to another namespace than the one asked for.
  std::size_t rejected_registrations = 0;
};

// REGISTER for `ns` with our signed peer record (identify::seal_peer_record).
// Fails (bad_argument) for an invalid namespace or an empty record.
Expected<Message, RendezvousError> make_register(ByteView signed_peer_record, std::string_view ns,
                                                 std::optional<std::chrono::seconds> ttl = std::nullopt);
Expected<Message, RendezvousError> make_unregister(std::string_view ns);
// DISCOVER `ns` (empty: every namespace) from `cookie` on (empty: from the start).
Expected<Message, RendezvousError> make_discover(std::string_view ns, std::optional<std::uint64_t> limit = std::nullopt,
                                                 ByteView cookie = {});

// The TTL a point granted, or the refusal as an error (Errc mirrors the
// status; the detail is its statusText).
Expected<std::chrono::seconds, RendezvousError> read_register_response(const Message& response);

// The verified registrations of an OK DISCOVER_RESPONSE for `requested_ns`
// (empty if every namespace was asked for), or the refusal as an error.
Expected<DiscoverResult, RendezvousError> read_discover_response(const Message& response, std::string_view requested_ns);

// The error a non-OK status stands for.
RendezvousError refusal(ResponseStatus status, std::string_view status_text);

}  // namespace taho::rendezvous
