// Why a Yamux session ended, and why a command was refused.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::yamux {

// Carried by the SessionClosed event.
enum class Errc {
  closed_normally,        // GoAway(normal) sent or received, and no stream was left
  closed_locally,         // go_away() with an error code
  // The peer broke the protocol; we sent GoAway(protocol error).
  bad_version,            // header version other than 0
  bad_frame_type,         // frame type above 3
  frame_too_large,        // data frame above inbound_frame_bytes_max
  window_exceeded,        // data beyond the receive window we granted
  unknown_stream,         // a frame without SYN for a stream id never opened
  bad_stream_id,          // SYN on id 0, on our parity, or on an id already used
  data_after_fin,         // data on a stream the peer had half-closed
  // The peer ended the session with an error GoAway.
  remote_protocol_error,
  remote_internal_error,
  remote_unknown_error,   // a GoAway code the spec does not define
  // Local conditions.
  keepalive_timeout,      // a ping went unanswered for ping_timeout
  transport_closed,       // the driver reported the end of the byte stream
  transmit_overflow,      // the peer made us queue more control frames than allowed while not reading
};
using SessionError = Error<Errc>;

// True for the codes after which we sent GoAway(protocol error).
bool is_protocol_violation(Errc code);
std::string_view to_string(Errc code);

// Returned by commands (open_stream, write, read, ...).
enum class CommandErrc {
  unknown_stream,     // never opened, or already reset/closed (its events said so)
  write_closed,       // write after close_write
  session_closed,     // the session has ended
  going_away,         // a GoAway was sent or received: no new streams
  too_many_streams,   // streams_max reached
  ack_backlog_full,   // outbound_unacked_max streams await the peer's ACK
  ids_exhausted,      // all 2^31 stream ids of our parity were used
  ping_in_flight,     // one ping at a time
};
using CommandError = Error<CommandErrc>;

std::string_view to_string(CommandErrc code);

}  // namespace taho::yamux
