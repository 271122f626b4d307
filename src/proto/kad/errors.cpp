#include "proto/kad/errors.hpp"

namespace taho::kad {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::too_many_entries: return "too_many_entries";
    case Errc::bad_length_prefix: return "bad_length_prefix";
    case Errc::truncated: return "truncated";
    case Errc::bad_protobuf: return "bad_protobuf";
    case Errc::bad_field: return "bad_field";
    case Errc::bad_request: return "bad_request";
    case Errc::rejected_record: return "rejected_record";
  }
  return "unknown";
}

}  // namespace taho::kad
