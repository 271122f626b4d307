#include "proto/rendezvous/errors.hpp"

namespace taho::rendezvous {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::too_many_entries: return "too_many_entries";
    case Errc::bad_length_prefix: return "bad_length_prefix";
    case Errc::truncated: return "truncated";
    case Errc::bad_protobuf: return "bad_protobuf";
    case Errc::bad_field: return "bad_field";
    case Errc::bad_request: return "bad_request";
    case Errc::bad_response: return "bad_response";
    case Errc::bad_argument: return "bad_argument";
    case Errc::timed_out: return "timed_out";
    case Errc::invalid_namespace: return "invalid_namespace";
    case Errc::invalid_signed_peer_record: return "invalid_signed_peer_record";
    case Errc::invalid_ttl: return "invalid_ttl";
    case Errc::invalid_cookie: return "invalid_cookie";
    case Errc::not_authorized: return "not_authorized";
    case Errc::internal_error: return "internal_error";
    case Errc::unavailable: return "unavailable";
    case Errc::unknown_status: return "unknown_status";
  }
  return "unknown";
}

}  // namespace taho::rendezvous
