#include "proto/noise/errors.hpp"

namespace taho::noise {

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::bad_length: return "bad_length";
    case Errc::decrypt_failed: return "decrypt_failed";
    case Errc::bad_key: return "bad_key";
    case Errc::bad_payload: return "bad_payload";
    case Errc::unsupported_key_type: return "unsupported_key_type";
    case Errc::bad_signature: return "bad_signature";
    case Errc::peer_id_mismatch: return "peer_id_mismatch";
    case Errc::unexpected_message: return "unexpected_message";
    case Errc::nonce_exhausted: return "nonce_exhausted";
    case Errc::payload_too_large: return "payload_too_large";
    case Errc::crypto_failure: return "crypto_failure";
  }
  return "unknown";
}

}  // namespace taho::noise
