// The client's rendezvous state: keeps our registrations alive at the points
// we chose and remembers each (point, namespace) DISCOVER cookie, so a
// repeated discovery returns only what is new.
//
// Grammar (STYLE.md principle 2): commands add work; the driver opens one
// `/rendezvous/1.0.0` stream per poll_request(), writes its message, reads
// the response (none for UNREGISTER) and reports it with handle_response, or
// handle_failure when the stream failed. Results come out of poll_event().
//
// A registration is refreshed when half its granted TTL has passed, so a
// lost refresh still leaves half a TTL to retry in; failures retry with
// exponential backoff.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/rendezvous/client.hpp"
#include "proto/rendezvous/message.hpp"

namespace taho::rendezvous {

struct RegistrarOptions {
  std::chrono::seconds request_timeout = std::chrono::seconds(30);
  std::chrono::seconds retry_initial = std::chrono::seconds(30);
  std::chrono::seconds retry_max = std::chrono::minutes(30);
  // A point granting a tiny TTL must not make us refresh in a tight loop.
  std::chrono::seconds refresh_min = std::chrono::seconds(30);
  std::size_t registrations_max = 64;        // (point, namespace) pairs we keep alive
  std::size_t discovers_in_flight_max = 64;
  std::size_t unregisters_queued_max = 64;
  std::size_t cookies_max = 256;             // the least recently used is forgotten first
  std::size_t events_queued_max = 256;       // unpolled events beyond this drop the oldest
};

using RequestId = std::uint64_t;

struct OutboundRequest {
  RequestId id = 0;
  PeerId point;
  Message message;  // UNREGISTER expects no response: just send it
};

struct Registered {
  PeerId point;
  std::string ns;
  std::chrono::seconds ttl;  // as granted
};
struct RegisterFailed {
  PeerId point;
  std::string ns;
  RendezvousError error;
  Instant retry_at;
};
struct Discovered {
  PeerId point;
  std::string ns;
  DiscoverResult result;
};
struct DiscoverFailed {
  PeerId point;
  std::string ns;
  RendezvousError error;
};
using RegistrarEvent = std::variant<Registered, RegisterFailed, Discovered, DiscoverFailed>;

class Registrar {
 public:
  explicit Registrar(const RegistrarOptions& options = {}) : options_(options) {}

  // Our signed peer record (identify::seal_peer_record). Registrations wait
  // until there is one; a new one (new addresses) re-registers everywhere.
  void set_signed_peer_record(Instant now, Bytes envelope);

  // Keeps us registered in `ns` at `point` until removed. Registering an
  // existing pair again changes its TTL and refreshes it now.
  Expected<void, RendezvousError> add_registration(Instant now, const PeerId& point, std::string_view ns,
                                                   std::optional<std::chrono::seconds> ttl = std::nullopt);
  // Stops refreshing and sends an UNREGISTER. False if there was no such registration.
  bool remove_registration(const PeerId& point, std::string_view ns);

  // Asks `point` for the registrations in `ns` (empty: all) newer than our
  // last discovery there. One discovery per (point, namespace) at a time.
  Expected<void, RendezvousError> discover(Instant now, const PeerId& point, std::string_view ns,
                                           std::optional<std::uint64_t> limit = std::nullopt);
  // The next discover of (point, ns) starts from the beginning again.
  void forget_cookie(const PeerId& point, std::string_view ns);

  void handle_response(Instant now, RequestId id, const Message& response);
  void handle_failure(Instant now, RequestId id, const RendezvousError& error);
  void handle_timeout(Instant now);
  std::optional<Instant> next_timeout() const;

  std::optional<OutboundRequest> poll_request();
  std::optional<RegistrarEvent> poll_event();

  std::size_t registration_count() const { return registrations_.size(); }
  std::size_t cookie_count() const { return cookies_.size(); }
  std::size_t dropped_unregisters() const { return dropped_unregisters_; }
  std::size_t dropped_events() const { return dropped_events_; }

 private:
  using Key = std::pair<PeerId, std::string>;
  struct RegistrationState {
    std::optional<std::chrono::seconds> ttl;
    Instant due;  // when to send the next REGISTER (if none is in flight)
    std::optional<RequestId> in_flight;
    std::chrono::seconds backoff{0};
    bool record_changed = false;  // a newer record arrived while a REGISTER was in flight
  };
  enum class Kind : std::uint8_t { register_request, discover };
  struct Pending {
    Kind kind;
    Key key;
    Instant deadline;
    bool had_cookie = false;
    std::optional<std::uint64_t> limit;
  };
  struct CookieEntry {
    Bytes cookie;
    std::uint64_t last_used = 0;
  };

  void send_register(Instant now, const Key& key, RegistrationState& state);
  void send_discover(Instant now, const Key& key, std::optional<std::uint64_t> limit);
  void queue_unregister(const Key& key);
  void registration_failed(Instant now, const Key& key, RendezvousError error);
  void store_cookie(const Key& key, Bytes cookie);
  RequestId queue(const PeerId& point, Message message);
  void emit(RegistrarEvent event);

  RegistrarOptions options_;
  Bytes signed_peer_record_;
  std::map<Key, RegistrationState> registrations_;
  std::map<RequestId, Pending> pending_;
  std::map<Key, CookieEntry> cookies_;
  std::deque<OutboundRequest> outbound_;
  std::deque<RegistrarEvent> events_;
  RequestId next_id_ = 1;
  std::uint64_t cookie_clock_ = 0;
  std::size_t queued_unregisters_ = 0;
  std::size_t dropped_unregisters_ = 0;
  std::size_t dropped_events_ = 0;
};

}  // namespace taho::rendezvous
