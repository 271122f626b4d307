#include "proto/tls/errors.hpp"

namespace taho::tls {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::bad_der: return "bad_der";
    case Errc::too_long: return "too_long";
    case Errc::bad_certificate: return "bad_certificate";
    case Errc::missing_extension: return "missing_extension";
    case Errc::duplicate_extension: return "duplicate_extension";
    case Errc::bad_signed_key: return "bad_signed_key";
    case Errc::bad_public_key: return "bad_public_key";
    case Errc::unsupported_key_type: return "unsupported_key_type";
    case Errc::bad_signature: return "bad_signature";
    case Errc::not_yet_valid: return "not_yet_valid";
    case Errc::expired: return "expired";
    case Errc::peer_id_mismatch: return "peer_id_mismatch";
  }
  return "unknown";
}

}  // namespace taho::tls
