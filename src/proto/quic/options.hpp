// Limits and timers of a quic::Endpoint, each with the default we run with.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/time.hpp"

namespace taho::quic {

struct Options {
  // A connection with no packets either way for this long is dropped (the
  // smaller of ours and the peer's applies: js-libp2p uses 10 s).
  Duration idle_timeout = std::chrono::seconds(30);
  // Send a PING after this much quiet so idle timeouts never fire on a live peer.
  Duration keep_alive_interval = std::chrono::seconds(5);
  Duration handshake_timeout = std::chrono::seconds(10);

  std::size_t connections_max = 1024;
  // Inbound connections still in their handshake: a flood of Initials
  // beyond this is dropped without allocating state.
  std::size_t pending_handshakes_max = 64;
  // New inbound handshakes accepted per second (token bucket, burst of the same size).
  std::uint32_t inbound_handshakes_per_second_max = 200;
  // Address validation (RFC 9000 8.1.2): once this many inbound handshakes
  // are pending, new clients must first echo a Retry token, so spoofed
  // source addresses cost us no state. 0: always; >= pending_handshakes_max: never.
  std::size_t retry_above_pending_handshakes = 16;
  Duration retry_token_lifetime = std::chrono::seconds(10);

  std::uint64_t streams_per_connection_max = 256;  // concurrent bidirectional streams the peer may open
  std::uint64_t stream_window_initial_bytes = 1024 * 1024;
  std::uint64_t stream_window_max_bytes = 16 * 1024 * 1024;  // ngtcp2 auto-tunes up to this
  std::uint64_t connection_window_initial_bytes = 16 * 1024 * 1024;
  std::uint64_t connection_window_max_bytes = 64 * 1024 * 1024;
  // Bytes write() takes per stream before they are acknowledged.
  std::size_t stream_send_buffer_bytes_max = 4 * 1024 * 1024;
  // Datagrams one connection may produce per poll_transmit round before the
  // next connection gets its turn.
  std::size_t datagrams_per_round_max = 64;
};

}  // namespace taho::quic
