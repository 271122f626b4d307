#include "proto/quic/errors.hpp"

namespace taho::quic {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::unknown_connection: return "unknown_connection";
    case Errc::unknown_stream: return "unknown_stream";
    case Errc::not_connected: return "not_connected";
    case Errc::stream_limit: return "stream_limit";
    case Errc::stream_closed: return "stream_closed";
    case Errc::stream_reset: return "stream_reset";
    case Errc::too_many_connections: return "too_many_connections";
    case Errc::bad_address: return "bad_address";
    case Errc::tls_setup: return "tls_setup";
    case Errc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace taho::quic
