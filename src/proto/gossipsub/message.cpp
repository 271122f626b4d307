#include "proto/gossipsub/message.hpp"

#include "crypto/sha256.hpp"

#include <algorithm>

namespace taho::gossipsub {

std::string_view to_string(validation::Errc code) {
  using validation::Errc;
  switch (code) {
    case Errc::missing_from: return "missing_from";
    case Errc::missing_seqno: return "missing_seqno";
    case Errc::bad_seqno: return "bad_seqno";
    case Errc::missing_signature: return "missing_signature";
    case Errc::missing_key: return "missing_key";
    case Errc::bad_from: return "bad_from";
    case Errc::bad_key: return "bad_key";
    case Errc::unsupported_key: return "unsupported_key";
    case Errc::key_mismatch: return "key_mismatch";
    case Errc::bad_signature: return "bad_signature";
    case Errc::unexpected_field: return "unexpected_field";
  }
  return "unknown";
}

Bytes signing_bytes(const Message& message) { return encode_unsigned_message(signing_prefix, message); }

Message sign_message(const crypto::Ed25519KeyPair& key, std::string_view topic, ByteView data, std::uint64_t seqno) {
  Message message;
  message.from = PeerId::from_ed25519(key.public_key()).bytes();
  message.data = Bytes(data.begin(), data.end());
  Bytes seqno_be(seqno_bytes);
  for (std::size_t i = 0; i < seqno_bytes; ++i) {
    seqno_be[i] = static_cast<std::uint8_t>(seqno >> (8 * (seqno_bytes - 1 - i)));
  }
  message.seqno = std::move(seqno_be);
  message.topic = std::string(topic);
  const auto signature = key.sign(signing_bytes(message));
  message.signature = Bytes(signature.begin(), signature.end());
  message.key = PublicKey::ed25519(key.public_key()).encode();
  return message;
}

Expected<PeerId, ValidationError> validate_strict(const Message& message) {
  using validation::Errc;
  auto reject = [](Errc code, std::string detail = {}) { return unexpected(ValidationError{code, std::move(detail)}); };
  if (!message.from) return reject(Errc::missing_from);
  if (!message.seqno) return reject(Errc::missing_seqno);
  if (message.seqno->size() != seqno_bytes) return reject(Errc::bad_seqno, std::to_string(message.seqno->size()) + " bytes");
  if (!message.signature) return reject(Errc::missing_signature);
  if (!message.key) return reject(Errc::missing_key);
  auto author = PeerId::from_bytes(*message.from);
  if (!author) return reject(Errc::bad_from, author.error().detail);
  auto key = PublicKey::decode(*message.key);
  if (!key) return reject(Errc::bad_key, key.error().detail);
  if (key->type != KeyType::ed25519) return reject(Errc::unsupported_key, std::string(name(key->type)));
  auto key_id = PeerId::from_public_key(*key);
  if (!key_id || !(*key_id == *author)) return reject(Errc::key_mismatch);
  crypto::Ed25519PublicKey raw{};
  if (key->data.size() != raw.size()) return reject(Errc::bad_key, "ed25519 key length");
  std::copy(key->data.begin(), key->data.end(), raw.begin());
  if (!crypto::ed25519_verify(raw, signing_bytes(message), *message.signature)) return reject(Errc::bad_signature);
  return *author;
}

Expected<void, ValidationError> validate_strict_no_sign(const Message& message) {
  const char* field = message.from        ? "from"
                      : message.seqno     ? "seqno"
                      : message.signature ? "signature"
                      : message.key       ? "key"
                                          : nullptr;
  if (field != nullptr) return unexpected(ValidationError{validation::Errc::unexpected_field, field});
  return {};
}

Bytes content_message_id(const Message& message) {
  const auto digest = crypto::sha256(message.data);
  return Bytes(digest.begin(), digest.end());
}

Bytes message_id(const Message& message) {
  Bytes id = message.key.value_or(Bytes{});
  if (message.seqno) append(id, *message.seqno);
  return id;
}

}  // namespace taho::gossipsub
