// A bounded X.509 walker: finds in a DER certificate what libp2p TLS
// verification needs, without trusting the TLS library to parse a
// certificate that carries an extension it does not know (the libp2p one is
// critical). Views point into the caller's buffer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "proto/tls/errors.hpp"

namespace taho::tls {

// Our certificates are ~400 bytes; an RSA-4096 self-signed one ~1.5 KB.
inline constexpr std::size_t certificate_bytes_max = 16 * 1024;
inline constexpr std::size_t extensions_max = 64;

struct CertificateFields {
  ByteView tbs_certificate;          // DER of TBSCertificate: what the self-signature covers
  ByteView subject_public_key_info;  // DER of SubjectPublicKeyInfo: what the host key signs
  ByteView signature_algorithm;      // DER of the outer AlgorithmIdentifier
  ByteView signature;                // the signature bits (BIT STRING without its unused-bits byte)
  std::int64_t not_before_unix_s = 0;
  std::int64_t not_after_unix_s = 0;
  std::optional<ByteView> libp2p_extension;  // the extension's OCTET STRING contents
  bool libp2p_extension_critical = false;
  bool has_unique_ids = false;  // deprecated issuer/subjectUniqueID present
};

// Fails on malformed DER, a shape that is not X.509 v1-v3, or over
// certificate_bytes_max / extensions_max. A missing libp2p extension is not
// an error here (verify_certificate refuses it).
Expected<CertificateFields, TlsError> parse_certificate(ByteView der);

// Seconds since 1970-01-01 of an ASN.1 UTCTime ("YYMMDDHHMMSSZ", years
// 1950-2049) or GeneralizedTime ("YYYYMMDDHHMMSSZ").
Expected<std::int64_t, TlsError> parse_time(std::uint8_t tag, ByteView text);

}  // namespace taho::tls
