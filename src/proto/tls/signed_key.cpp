#include "proto/tls/signed_key.hpp"

#include "base/peer_id.hpp"
#include "proto/tls/der.hpp"

namespace taho::tls {

Expected<SignedKey, TlsError> SignedKey::decode(ByteView der) {
  if (der.size() > extension_bytes_max) return unexpected(TlsError{Errc::too_long, "extension over extension_bytes_max"});
  der::Reader outer(der);
  auto sequence = outer.read(der::tag_sequence);
  if (!sequence) return unexpected(TlsError{Errc::bad_signed_key, "SignedKey: " + sequence.error().detail});
  if (!outer.at_end()) return unexpected(TlsError{Errc::bad_signed_key, "SignedKey: bytes after the sequence"});
  der::Reader fields(sequence->value);
  auto public_key = fields.read(der::tag_octet_string);
  if (!public_key) return unexpected(TlsError{Errc::bad_signed_key, "SignedKey.publicKey: " + public_key.error().detail});
  auto signature = fields.read(der::tag_octet_string);
  if (!signature) return unexpected(TlsError{Errc::bad_signed_key, "SignedKey.signature: " + signature.error().detail});
  if (!fields.at_end()) return unexpected(TlsError{Errc::bad_signed_key, "SignedKey: fields after the signature"});
  return SignedKey{Bytes(public_key->value.begin(), public_key->value.end()),
                   Bytes(signature->value.begin(), signature->value.end())};
}

Bytes SignedKey::encode() const {
  Bytes fields;
  der::write(fields, der::tag_octet_string, public_key);
  der::write(fields, der::tag_octet_string, signature);
  Bytes out;
  der::write(out, der::tag_sequence, fields);
  return out;
}

Bytes signed_message(ByteView subject_public_key_info) {
  Bytes message;
  message.reserve(signature_prefix.size() + subject_public_key_info.size());
  for (const char c : signature_prefix) message.push_back(static_cast<std::uint8_t>(c));
  message.insert(message.end(), subject_public_key_info.begin(), subject_public_key_info.end());
  return message;
}

Bytes make_extension(const crypto::Ed25519KeyPair& host, ByteView subject_public_key_info) {
  const auto signature = host.sign(signed_message(subject_public_key_info));
  SignedKey key{PublicKey::ed25519(host.public_key()).encode(), Bytes(signature.begin(), signature.end())};
  return key.encode();
}

}  // namespace taho::tls
