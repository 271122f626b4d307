#include "proto/identify/envelope.hpp"

#include <algorithm>
#include <string>

#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::identify {
namespace {

constexpr std::uint32_t kFieldPublicKey = 1;
constexpr std::uint32_t kFieldPayloadType = 2;
constexpr std::uint32_t kFieldPayload = 3;
constexpr std::uint32_t kFieldSignature = 5;

IdentifyError bad_envelope(std::string detail) { return {Errc::bad_envelope, "envelope: " + std::move(detail)}; }

void append_prefixed(Bytes& out, ByteView field) {
  varint::encode(field.size(), out);
  append(out, field);
}

}  // namespace

Bytes encode_envelope(const Envelope& envelope) {
  pb::Writer writer;
  writer.bytes(kFieldPublicKey, envelope.public_key.encode());
  writer.bytes(kFieldPayloadType, envelope.payload_type);
  writer.bytes(kFieldPayload, envelope.payload);
  writer.bytes(kFieldSignature, envelope.signature);
  return writer.take();
}

Expected<Envelope, IdentifyError> decode_envelope(ByteView bytes) {
  if (bytes.size() > envelope_bytes_max) {
    return unexpected(IdentifyError{Errc::too_large, "envelope of " + std::to_string(bytes.size()) + " bytes"});
  }
  Envelope envelope;
  bool has_key = false;
  bool has_type = false;
  bool has_signature = false;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(bad_envelope(field.error().detail));
    const bool known = field->number == kFieldPublicKey || field->number == kFieldPayloadType ||
                       field->number == kFieldPayload || field->number == kFieldSignature;
    if (!known) continue;  // unknown fields are skipped, as protobuf readers do
    if (field->type != pb::WireType::length_delimited) {
      return unexpected(bad_envelope("field " + std::to_string(field->number) + " has the wrong wire type"));
    }
    const Bytes value(field->bytes.begin(), field->bytes.end());
    switch (field->number) {
      case kFieldPublicKey: {
        auto key = PublicKey::decode(value);
        if (!key) return unexpected(IdentifyError{Errc::bad_public_key, "envelope key: " + key.error().detail});
        envelope.public_key = std::move(*key);
        has_key = true;
        break;
      }
      case kFieldPayloadType:
        envelope.payload_type = value;
        has_type = true;
        break;
      case kFieldPayload: envelope.payload = value; break;
      case kFieldSignature:
        envelope.signature = value;
        has_signature = true;
        break;
    }
  }
  if (!has_key) return unexpected(bad_envelope("no public key"));
  if (!has_type || envelope.payload_type.empty()) return unexpected(bad_envelope("no payload type"));
  if (!has_signature) return unexpected(bad_envelope("no signature"));
  return envelope;
}

Bytes envelope_signed_data(std::string_view domain, ByteView payload_type, ByteView payload) {
  Bytes data;
  data.reserve(domain.size() + payload_type.size() + payload.size() + 3 * varint::kEncodedBytesMax);
  append_prefixed(data, as_bytes(domain));
  append_prefixed(data, payload_type);
  append_prefixed(data, payload);
  return data;
}

Envelope seal_envelope(const crypto::Ed25519KeyPair& key, std::string_view domain, ByteView payload_type,
                       ByteView payload) {
  const crypto::Ed25519Signature signature = key.sign(envelope_signed_data(domain, payload_type, payload));
  return Envelope{
      .public_key = PublicKey::ed25519(key.public_key()),
      .payload_type = Bytes(payload_type.begin(), payload_type.end()),
      .payload = Bytes(payload.begin(), payload.end()),
      .signature = Bytes(signature.begin(), signature.end()),
  };
}

Expected<void, IdentifyError> verify_envelope(const Envelope& envelope, std::string_view domain,
                                              ByteView expected_payload_type) {
  if (!std::ranges::equal(envelope.payload_type, expected_payload_type)) {
    return unexpected(IdentifyError{Errc::wrong_payload_type, "envelope payload type " + to_hex(envelope.payload_type) +
                                                                  ", expected " + to_hex(expected_payload_type)});
  }
  if (envelope.public_key.type != KeyType::ed25519) {
    return unexpected(IdentifyError{Errc::unsupported_key_type,
                                    "envelope signed by a " + std::string(name(envelope.public_key.type)) + " key"});
  }
  // PublicKey::decode guarantees an Ed25519 key is exactly 32 bytes.
  crypto::Ed25519PublicKey key{};
  std::copy_n(envelope.public_key.data.begin(), key.size(), key.begin());
  const Bytes signed_data = envelope_signed_data(domain, envelope.payload_type, envelope.payload);
  if (!crypto::ed25519_verify(key, signed_data, envelope.signature)) {
    return unexpected(IdentifyError{Errc::bad_signature, "envelope signature does not verify"});
  }
  return {};
}

Expected<Envelope, IdentifyError> open_envelope(ByteView bytes, std::string_view domain,
                                                ByteView expected_payload_type) {
  auto envelope = decode_envelope(bytes);
  if (!envelope) return envelope;
  if (auto verified = verify_envelope(*envelope, domain, expected_payload_type); !verified) {
    return unexpected(std::move(verified).error());
  }
  return envelope;
}

}  // namespace taho::identify
