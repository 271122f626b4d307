#include "proto/identify/errors.hpp"

namespace taho::identify {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::too_many_messages: return "too_many_messages";
    case Errc::too_many_entries: return "too_many_entries";
    case Errc::bad_length_prefix: return "bad_length_prefix";
    case Errc::truncated: return "truncated";
    case Errc::bad_protobuf: return "bad_protobuf";
    case Errc::bad_field: return "bad_field";
    case Errc::bad_public_key: return "bad_public_key";
    case Errc::bad_envelope: return "bad_envelope";
    case Errc::unsupported_key_type: return "unsupported_key_type";
    case Errc::wrong_payload_type: return "wrong_payload_type";
    case Errc::bad_signature: return "bad_signature";
    case Errc::bad_record: return "bad_record";
    case Errc::peer_id_mismatch: return "peer_id_mismatch";
    case Errc::finished: return "finished";
  }
  return "unknown";
}

}  // namespace taho::identify
