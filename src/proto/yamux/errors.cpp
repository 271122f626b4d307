#include "proto/yamux/errors.hpp"

namespace taho::yamux {

bool is_protocol_violation(Errc code) {
  switch (code) {
    case Errc::bad_version:
    case Errc::bad_frame_type:
    case Errc::frame_too_large:
    case Errc::window_exceeded:
    case Errc::unknown_stream:
    case Errc::bad_stream_id:
    case Errc::data_after_fin:
      return true;
    default:
      return false;
  }
}

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::closed_normally: return "closed_normally";
    case Errc::closed_locally: return "closed_locally";
    case Errc::bad_version: return "bad_version";
    case Errc::bad_frame_type: return "bad_frame_type";
    case Errc::frame_too_large: return "frame_too_large";
    case Errc::window_exceeded: return "window_exceeded";
    case Errc::unknown_stream: return "unknown_stream";
    case Errc::bad_stream_id: return "bad_stream_id";
    case Errc::data_after_fin: return "data_after_fin";
    case Errc::remote_protocol_error: return "remote_protocol_error";
    case Errc::remote_internal_error: return "remote_internal_error";
    case Errc::remote_unknown_error: return "remote_unknown_error";
    case Errc::keepalive_timeout: return "keepalive_timeout";
    case Errc::transport_closed: return "transport_closed";
    case Errc::transmit_overflow: return "transmit_overflow";
  }
  return "unknown";
}

std::string_view to_string(CommandErrc code) {
  switch (code) {
    case CommandErrc::unknown_stream: return "unknown_stream";
    case CommandErrc::write_closed: return "write_closed";
    case CommandErrc::session_closed: return "session_closed";
    case CommandErrc::going_away: return "going_away";
    case CommandErrc::too_many_streams: return "too_many_streams";
    case CommandErrc::ack_backlog_full: return "ack_backlog_full";
    case CommandErrc::ids_exhausted: return "ids_exhausted";
    case CommandErrc::ping_in_flight: return "ping_in_flight";
  }
  return "unknown";
}

}  // namespace taho::yamux
