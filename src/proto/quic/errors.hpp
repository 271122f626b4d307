// Why a QUIC command failed. Connection failures are not errors of a call:
// they arrive as ConnectionClosed events with a reason in words.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::quic {

enum class Errc {
  unknown_connection,   // no such handle, or it has closed
  unknown_stream,       // no such stream on that connection (or it is finished)
  not_connected,        // the handshake has not completed yet
  stream_limit,         // the peer allows no more streams for now
  stream_closed,        // write after close_write, or on a reset stream
  stream_reset,         // read on a stream the peer reset
  too_many_connections, // over Options::connections_max
  bad_address,          // an address we cannot use (family mismatch, port 0 ...)
  tls_setup,            // GnuTLS refused our own configuration or certificate
  internal,             // ngtcp2 failed in a way that is our bug or out of memory
};
using QuicError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::quic
