// The self-signed certificate a libp2p TLS endpoint presents: a fresh
// ECDSA P-256 key (what rust-libp2p and go-libp2p use), valid 1975-4096 like
// rust-libp2p's so clock skew never matters, carrying the critical libp2p
// extension signed by the node's Ed25519 host key.
#pragma once

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "crypto/ed25519.hpp"

namespace taho::quic {

struct Certificate {
  Bytes der;                     // X.509 certificate
  Bytes private_key_pkcs8_der;   // unencrypted PKCS #8 of the certificate key
};

// What to put in the certificate; anything but `libp2p` exists so tests can
// prove that peers refuse it.
enum class CertificateKind {
  libp2p,             // the real thing
  without_extension,  // no libp2p extension at all
  bad_signature,      // the extension's signature covers another key
};

Result<Certificate> generate_certificate(const crypto::Ed25519KeyPair& host,
                                         CertificateKind kind = CertificateKind::libp2p);

}  // namespace taho::quic
