// libp2p ping (/ipfs/ping/1.0.0, libp2p/specs ping/ping.md), sans-IO: the
// dialer writes 32 random bytes and expects them back, the listener echoes
// every 32-byte block until the stream ends. The round-trip time is the
// difference of the `now` values the driver passes in, so the same code
// measures real sockets and a simulated network.
//
// Both sides follow the cores' grammar: handle_*(now, ...) for input,
// poll_transmit() for bytes to send, poll_event() for outcomes,
// next_timeout() for the timer to arm (call handle_timeout once it passes).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <variant>

#include "base/bytes.hpp"
#include "base/time.hpp"
#include "proto/ping/errors.hpp"

namespace taho::ping {

inline constexpr std::string_view protocol_id = "/ipfs/ping/1.0.0";
inline constexpr std::size_t payload_bytes = 32;
// Per connection, at most this many inbound ping streams may be open at once
// (as js-libp2p and go-libp2p allow); the swarm refuses further ones.
inline constexpr std::size_t inbound_streams_per_connection_max = 2;
// A well-behaved dialer waits for each echo; more pending than this is a flood.
inline constexpr std::size_t echo_backlog_bytes_max = 32 * payload_bytes;

using Payload = std::array<std::uint8_t, payload_bytes>;

struct Options {
  // Dialer: how long to wait for the full echo. Listener: how long the
  // stream may stay silent before we give up on it. js-libp2p uses 10 s.
  Duration timeout = std::chrono::seconds(10);
};

struct Pong {
  Duration rtt;
};
struct Failed {
  PingError error;
};
// The listener saw the stream end cleanly: close our side once transmitted.
struct Finished {};

// The outbound side. Several pings may run one after another on one stream
// (go-libp2p does that); js-libp2p opens a new stream for each.
class Dialer {
 public:
  using Event = std::variant<Pong, Failed>;

  explicit Dialer(const Options& options = {}) : options_(options) {}

  // Starts a ping with a payload drawn from `rng`. Fails (busy) while a ping
  // is in flight or once the stream has failed or ended.
  Expected<void, PingError> ping(Instant now, Rng& rng);

  void handle_data(Instant now, ByteView bytes);
  // The remote closed its write side.
  void handle_end(Instant now);
  void handle_timeout(Instant now);

  std::optional<Bytes> poll_transmit();
  std::optional<Event> poll_event();
  std::optional<Instant> next_timeout() const;

  bool in_flight() const { return state_ == State::in_flight; }
  bool failed() const { return state_ == State::failed; }

 private:
  enum class State { idle, in_flight, failed, ended };
  void fail(PingError error);

  Options options_;
  State state_ = State::idle;
  Payload sent_{};
  Instant sent_at_;
  Bytes received_;
  std::optional<Bytes> transmit_;
  std::deque<Event> events_;
};

// The inbound side: one per inbound ping stream.
class Listener {
 public:
  using Event = std::variant<Finished, Failed>;

  explicit Listener(Instant now, const Options& options = {}) : options_(options), last_activity_(now) {}

  void handle_data(Instant now, ByteView bytes);
  void handle_end(Instant now);
  void handle_timeout(Instant now);

  std::optional<Bytes> poll_transmit();
  std::optional<Event> poll_event();
  std::optional<Instant> next_timeout() const;

  bool active() const { return state_ == State::active; }

 private:
  enum class State { active, finished, failed };
  void fail(PingError error);

  Options options_;
  State state_ = State::active;
  Instant last_activity_;
  Bytes partial_;  // the start of the next block, < payload_bytes
  Bytes echo_;     // complete blocks waiting for poll_transmit
  std::deque<Event> events_;
};

}  // namespace taho::ping
