// Why a ping failed. Each one ends the stream; the connection's owner decides
// whether a failed ping also ends the connection (js-libp2p does so).
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::ping {

enum class Errc {
  mismatch,         // the echo differs from what we sent: a broken or lying peer
  timeout,          // no full echo (dialer) or no data (listener) within Options::timeout
  stream_ended,     // the stream ended in the middle of a 32-byte block
  unexpected_data,  // the listener echoed bytes we never asked for
  echo_backlog,     // the remote sends faster than we get to echo (limit echo_backlog_bytes_max)
  busy,             // ping() while one is in flight, or after the stream failed or ended
};
using PingError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::ping
