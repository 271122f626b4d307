// Test support: two quic::Endpoints joined by an in-memory wire with a fixed
// one-way latency, on a virtual clock (quinn's Pair, STYLE.md principle 12).
// Nothing here sleeps or reads a clock: time jumps to the next arrival or
// timer.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "base/seeded_rng.hpp"
#include "proto/quic/endpoint.hpp"

namespace taho::quic::testing {

inline crypto::Ed25519KeyPair host_key(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

inline constexpr std::int64_t unix_time_s = 1'800'000'000;

class EndpointPair {
 public:
  struct Side {
    UdpAddress address;
    crypto::Ed25519KeyPair key;
    std::unique_ptr<SeededRng> rng;
    std::unique_ptr<Endpoint> endpoint;
    std::deque<Event> events;
    PeerId id() const { return endpoint->local_peer_id(); }
  };

  EndpointPair(Options client_options = {}, Options server_options = {},
               std::optional<Certificate> client_certificate = std::nullopt,
               std::optional<Certificate> server_certificate = std::nullopt)
      : client(make_side(UdpAddress::ipv4({10, 0, 0, 1}, 1000), 1, client_options, std::move(client_certificate))),
        server(make_side(UdpAddress::ipv4({10, 0, 0, 2}, 2000), 2, server_options, std::move(server_certificate))) {}

  Side client;
  Side server;
  Instant now{};
  Duration latency = std::chrono::microseconds(500);
  std::size_t datagrams_delivered = 0;
  // Drops a datagram when it returns true (for loss and garbage tests).
  std::function<bool(const Transmit&)> drop;

  // Moves datagrams and fires timers until `done` holds or `limit` of
  // virtual time passes. Returns whether `done` held.
  bool run_until(const std::function<bool()>& done, Duration limit = std::chrono::seconds(30)) {
    const Instant deadline = now + limit;
    while (!done()) {
      flush();
      collect();
      if (done()) return true;
      std::optional<Instant> next;
      if (!wire_.empty()) next = wire_.front().arrival;
      for (Side* side : {&client, &server}) {
        if (auto timeout = side->endpoint->next_timeout(); timeout && (!next || *timeout < *next)) next = timeout;
      }
      if (!next || *next > deadline) {
        now = deadline;
        return done();
      }
      now = std::max(now, *next);
      while (!wire_.empty() && wire_.front().arrival <= now) {
        InFlight flight = std::move(wire_.front());
        wire_.pop_front();
        Side& to = flight.to_server ? server : client;
        Side& from = flight.to_server ? client : server;
        ++datagrams_delivered;
        to.endpoint->handle_datagram(now, flight.transmit.bytes, from.address);
      }
      for (Side* side : {&client, &server}) {
        if (auto timeout = side->endpoint->next_timeout(); timeout && *timeout <= now) {
          side->endpoint->handle_timeout(now);
        }
      }
    }
    return true;
  }

  // Runs for `duration` of virtual time.
  void run_for(Duration duration) {
    const Instant until = now + duration;
    run_until([&] { return now >= until; }, duration);
  }

  template <class T>
  std::vector<T> take(Side& side) {
    collect();
    std::vector<T> found;
    for (auto it = side.events.begin(); it != side.events.end();) {
      if (auto* event = std::get_if<T>(&*it)) {
        found.push_back(std::move(*event));
        it = side.events.erase(it);
      } else {
        ++it;
      }
    }
    return found;
  }

  template <class T>
  bool has(Side& side) {
    collect();
    for (const auto& event : side.events) {
      if (std::holds_alternative<T>(event)) return true;
    }
    return false;
  }

  void flush() {
    for (Side* side : {&client, &server}) {
      while (auto transmit = side->endpoint->poll_transmit(now)) {
        if (drop && drop(*transmit)) continue;
        const bool to_server = side == &client;
        wire_.push_back(InFlight{now + latency, to_server, std::move(*transmit)});
      }
    }
  }

  void collect() {
    for (Side* side : {&client, &server}) {
      while (auto event = side->endpoint->poll_event()) side->events.push_back(std::move(*event));
    }
  }

  // Injects raw bytes as if `from` had sent them to the other side.
  void inject(Side& from, Bytes bytes) {
    const bool to_server = &from == &client;
    wire_.push_back(InFlight{now + latency, to_server, Transmit{{}, std::move(bytes)}});
  }

 private:
  struct InFlight {
    Instant arrival;
    bool to_server = false;
    Transmit transmit;
  };

  static Side make_side(UdpAddress address, std::uint8_t seed, const Options& options,
                        std::optional<Certificate> certificate) {
    Side side{address, host_key(seed), std::make_unique<SeededRng>(seed), nullptr, {}};
    auto endpoint = Endpoint::create(Instant{}, unix_time_s, address, side.key, *side.rng, options,
                                     std::move(certificate));
    if (endpoint) side.endpoint = std::move(*endpoint);
    return side;
  }

  std::deque<InFlight> wire_;  // arrival order = send order (fixed latency)
};

}  // namespace taho::quic::testing
