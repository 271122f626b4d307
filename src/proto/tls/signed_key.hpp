// The libp2p public key extension (OID 1.3.6.1.4.1.53594.1.1) of
// libp2p/specs tls/tls.md:
//   SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING }
// publicKey is the protobuf libp2p PublicKey of the host; signature is the
// host key's signature over "libp2p-tls-handshake:" ‖ the certificate's
// SubjectPublicKeyInfo (DER).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "crypto/ed25519.hpp"
#include "proto/tls/errors.hpp"

namespace taho::tls {

// The extension's OID, DER-encoded contents (without tag and length).
inline constexpr std::array<std::uint8_t, 10> extension_oid_der = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                                                   0x83, 0xa2, 0x5a, 0x01, 0x01};
inline constexpr std::string_view extension_oid_text = "1.3.6.1.4.1.53594.1.1";
inline constexpr std::string_view signature_prefix = "libp2p-tls-handshake:";
// An RSA-4096 host key and its signature fit well within this.
inline constexpr std::size_t extension_bytes_max = 4096;

struct SignedKey {
  Bytes public_key;  // protobuf libp2p PublicKey
  Bytes signature;

  static Expected<SignedKey, TlsError> decode(ByteView der);
  Bytes encode() const;

  bool operator==(const SignedKey&) const = default;
};

// What the host key signs: the prefix followed by the SPKI DER.
Bytes signed_message(ByteView subject_public_key_info);

// The extension value a node with Ed25519 host key `host` puts in a
// certificate whose public key is `subject_public_key_info`.
Bytes make_extension(const crypto::Ed25519KeyPair& host, ByteView subject_public_key_info);

}  // namespace taho::tls
