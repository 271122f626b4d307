// libp2p TLS peer authentication (libp2p/specs tls/tls.md "Peer
// Authentication"): from the peer's one certificate to its PeerId.
//
// Checked here: validity period, the libp2p extension (present once), the
// host key's signature over the certificate's SubjectPublicKeyInfo, and the
// PeerId against the one we dialled. Not checked here: the certificate's
// self-signature and the TLS CertificateVerify, which need the certificate
// key's algorithm (ECDSA, Ed25519, RSA ...): the TLS stack does those (see
// src/proto/quic), using the spans CertificateFields provides.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "crypto/crypto_suite.hpp"
#include "proto/tls/certificate.hpp"
#include "proto/tls/errors.hpp"

namespace taho::tls {

struct VerifiedPeer {
  PeerId peer_id;
  PublicKey public_key;  // the host key from the extension
};

// Checks the extension value against the certificate key it should sign.
// Ed25519 host keys only; other key types fail with unsupported_key_type.
Expected<VerifiedPeer, TlsError> verify_extension(ByteView extension_value, ByteView subject_public_key_info,
                                                  crypto::CryptoSuite& suite);

// The whole check of a peer's certificate at wall-clock time `unix_now_s`.
// `expected` (the dialled peer) fails the check with peer_id_mismatch when
// the certificate belongs to anyone else; listeners pass nullopt.
Expected<VerifiedPeer, TlsError> verify_certificate(ByteView certificate_der, std::int64_t unix_now_s,
                                                    const std::optional<PeerId>& expected,
                                                    crypto::CryptoSuite& suite);

}  // namespace taho::tls
