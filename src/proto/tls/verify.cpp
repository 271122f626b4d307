#include "proto/tls/verify.hpp"

#include <string>

#include "crypto/sha256.hpp"
#include "proto/tls/signed_key.hpp"

namespace taho::tls {

Expected<VerifiedPeer, TlsError> verify_extension(ByteView extension_value, ByteView subject_public_key_info,
                                                  crypto::CryptoSuite& suite) {
  auto signed_key = SignedKey::decode(extension_value);
  if (!signed_key) return unexpected(std::move(signed_key).error());
  auto host_key = PublicKey::decode(signed_key->public_key);
  if (!host_key) return unexpected(TlsError{Errc::bad_public_key, "host key: " + host_key.error().detail});
  if (host_key->type != KeyType::ed25519) {
    return unexpected(TlsError{Errc::unsupported_key_type,
                               "host key type " + std::string(name(host_key->type)) + " is not supported (Ed25519 only)"});
  }
  crypto::Ed25519PublicKey key{};
  if (host_key->data.size() != key.size()) return unexpected(TlsError{Errc::bad_public_key, "Ed25519 key not 32 bytes"});
  std::copy(host_key->data.begin(), host_key->data.end(), key.begin());
  if (!suite.ed25519_verify(key, signed_message(subject_public_key_info), signed_key->signature)) {
    return unexpected(TlsError{Errc::bad_signature, "the host key's signature over the certificate key does not verify"});
  }
  auto peer_id = PeerId::from_public_key(*host_key, [](ByteView data) { return crypto::sha256(data); });
  if (!peer_id) return unexpected(TlsError{Errc::bad_public_key, "no peer id for the host key: " + peer_id.error().detail});
  return VerifiedPeer{std::move(*peer_id), std::move(*host_key)};
}

Expected<VerifiedPeer, TlsError> verify_certificate(ByteView certificate_der, std::int64_t unix_now_s,
                                                    const std::optional<PeerId>& expected,
                                                    crypto::CryptoSuite& suite) {
  auto fields = parse_certificate(certificate_der);
  if (!fields) return unexpected(std::move(fields).error());
  if (unix_now_s < fields->not_before_unix_s) {
    return unexpected(TlsError{Errc::not_yet_valid, "certificate valid from unix time " +
                                                        std::to_string(fields->not_before_unix_s)});
  }
  if (unix_now_s > fields->not_after_unix_s) {
    return unexpected(TlsError{Errc::expired, "certificate expired at unix time " +
                                                  std::to_string(fields->not_after_unix_s)});
  }
  if (!fields->libp2p_extension) {
    return unexpected(TlsError{Errc::missing_extension, "certificate has no libp2p public key extension"});
  }
  auto peer = verify_extension(*fields->libp2p_extension, fields->subject_public_key_info, suite);
  if (!peer) return peer;
  if (expected && peer->peer_id != *expected) {
    return unexpected(TlsError{Errc::peer_id_mismatch,
                               "expected " + expected->to_string() + ", the certificate is " + peer->peer_id.to_string()});
  }
  return peer;
}

}  // namespace taho::tls
