#include "proto/blob/errors.hpp"

namespace taho::blob {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::bad_length_prefix: return "bad_length_prefix";
    case Errc::bad_protobuf: return "bad_protobuf";
    case Errc::bad_field: return "bad_field";
    case Errc::truncated: return "truncated";
    case Errc::unexpected_data: return "unexpected_data";
    case Errc::dont_have: return "dont_have";
    case Errc::remote_error: return "remote_error";
    case Errc::bad_group: return "bad_group";
    case Errc::bad_response: return "bad_response";
    case Errc::too_many_bytes: return "too_many_bytes";
    case Errc::bad_range: return "bad_range";
    case Errc::range_too_large: return "range_too_large";
    case Errc::wrong_state: return "wrong_state";
  }
  return "unknown";
}

std::string_view to_string(RemoteErrc code) {
  switch (code) {
    case RemoteErrc::unspecified: return "unspecified";
    case RemoteErrc::bad_request: return "bad_request";
    case RemoteErrc::range_too_large: return "range_too_large";
    case RemoteErrc::busy: return "busy";
    case RemoteErrc::internal: return "internal";
  }
  return "unknown";
}

}  // namespace taho::blob
