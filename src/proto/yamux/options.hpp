// Limits and timers of a Yamux session. Every buffer the peer can make us
// fill is bounded by one of these.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/time.hpp"
#include "proto/yamux/frame.hpp"

namespace taho::yamux {

enum class Role {
  client,  // opens odd stream ids (the side that dialed the connection)
  server,  // opens even stream ids
};

struct Options {
  // Receive-window auto-tuning grows a stream's window from 256 KiB up to this
  // when the application reads fast compared to the RTT (go-yamux, rust yamux).
  // Set to kInitialWindowBytes to disable tuning.
  std::uint32_t stream_receive_window_bytes_max = 16 * 1024 * 1024;
  // Sum of all streams' receive windows that tuning may reach. Initial windows
  // are fixed by the spec, so this bounds only growth.
  std::uint64_t session_receive_window_bytes_max = 64 * 1024 * 1024;
  // Largest data frame we send (js-libp2p rejects frames above 64 KiB).
  std::uint32_t frame_data_bytes_max = 64 * 1024;
  // Largest data frame we accept; a larger one is a protocol error.
  std::uint32_t inbound_frame_bytes_max = 16 * 1024 * 1024;
  // Open streams in both directions; inbound streams past this get RST.
  std::size_t streams_max = 512;
  // Inbound streams not yet taken by accept_stream(); past this they get RST.
  std::size_t inbound_backlog_max = 256;
  // Our streams the peer has not acknowledged yet (spec "ACK backlog").
  std::size_t outbound_unacked_max = 256;
  // Stream data queued in poll_transmit's buffer; write() accepts no more
  // until the driver drains it. Backpressure from the socket.
  std::size_t transmit_bytes_max = 1024 * 1024;
  // Control frames (pongs, resets, window updates) allowed on top of that. A
  // peer that makes us exceed it while not reading ends the session.
  std::size_t transmit_control_bytes_max = 64 * 1024;
  // Send a ping this often (js-libp2p pings every 30 s); zero disables.
  Duration keepalive_interval = std::chrono::seconds(30);
  // A ping unanswered for this long ends the session.
  Duration ping_timeout = std::chrono::seconds(15);
  // Ping when the session starts, so the RTT that window tuning needs is known early.
  bool ping_on_start = true;
};

}  // namespace taho::yamux
