// Why a libp2p TLS certificate was refused. The QUIC handshake fails with
// the code's name and the detail, so a person can tell a hostile peer from a
// peer that merely uses a key type we do not verify yet.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::tls {

enum class Errc {
  bad_der,               // not well-formed DER (bad length, truncated, wrong tag, too deep)
  too_long,              // over certificate_bytes_max or extension_bytes_max
  bad_certificate,       // DER, but not the X.509 shape we need (e.g. no SPKI, bad time)
  missing_extension,     // no libp2p public key extension
  duplicate_extension,   // the libp2p extension appears twice
  bad_signed_key,        // the extension value is not a SignedKey
  bad_public_key,        // SignedKey.publicKey is not a valid libp2p PublicKey
  unsupported_key_type,  // a host key type we cannot verify (secp256k1, ECDSA, RSA)
  bad_signature,         // the host key did not sign this certificate's key
  not_yet_valid,         // now < notBefore
  expired,               // now > notAfter
  peer_id_mismatch,      // a valid certificate, but not of the peer we dialled
};
using TlsError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::tls
