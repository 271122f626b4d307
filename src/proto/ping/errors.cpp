#include "proto/ping/errors.hpp"

namespace taho::ping {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::mismatch: return "mismatch";
    case Errc::timeout: return "timeout";
    case Errc::stream_ended: return "stream_ended";
    case Errc::unexpected_data: return "unexpected_data";
    case Errc::echo_backlog: return "echo_backlog";
    case Errc::busy: return "busy";
  }
  return "unknown";
}

}  // namespace taho::ping
