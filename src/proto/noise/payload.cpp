#include "proto/noise/payload.hpp"

#include <algorithm>

#include "base/peer_id.hpp"
#include "base/protobuf.hpp"

namespace taho::noise {
namespace {

constexpr std::uint32_t kFieldIdentityKey = 1;
constexpr std::uint32_t kFieldIdentitySig = 2;
constexpr std::uint32_t kFieldExtensions = 4;
constexpr std::uint32_t kFieldWebtransportCerthashes = 1;
constexpr std::uint32_t kFieldStreamMuxers = 2;

NoiseError bad_payload(std::string detail) { return NoiseError{Errc::bad_payload, std::move(detail)}; }

// A field we know must have the wire type we expect; anything else is a
// malformed message, not an unknown field to skip.
bool is_bytes(const pb::Field& field) { return field.type == pb::WireType::length_delimited; }

Expected<void, NoiseError> decode_extensions(ByteView message, Extensions& extensions) {
  pb::Reader reader(message);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(bad_payload("extensions: " + field.error().detail));
    if (field->number == kFieldWebtransportCerthashes || field->number == kFieldStreamMuxers) {
      if (!is_bytes(*field)) return unexpected(bad_payload("extensions: wrong wire type"));
      const bool certhash = field->number == kFieldWebtransportCerthashes;
      const std::size_t count =
          certhash ? extensions.webtransport_certhashes.size() : extensions.stream_muxers.size();
      if (count == extension_entries_max) {
        return unexpected(bad_payload("extensions: more than " + std::to_string(extension_entries_max) + " entries"));
      }
      if (certhash) {
        extensions.webtransport_certhashes.emplace_back(field->bytes.begin(), field->bytes.end());
      } else {
        extensions.stream_muxers.emplace_back(as_text(field->bytes));
      }
    }
  }
  return {};
}

}  // namespace

Bytes encode_payload(const HandshakePayload& payload) {
  pb::Writer writer;
  writer.bytes(kFieldIdentityKey, payload.identity_key);
  writer.bytes(kFieldIdentitySig, payload.identity_sig);
  if (payload.has_extensions) {
    pb::Writer extensions;
    for (const Bytes& certhash : payload.extensions.webtransport_certhashes) {
      extensions.bytes(kFieldWebtransportCerthashes, certhash);
    }
    for (const std::string& muxer : payload.extensions.stream_muxers) extensions.string(kFieldStreamMuxers, muxer);
    writer.bytes(kFieldExtensions, extensions.data());
  }
  return writer.take();
}

Expected<HandshakePayload, NoiseError> decode_payload(ByteView message) {
  HandshakePayload payload;
  pb::Reader reader(message);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(bad_payload("handshake payload: " + field.error().detail));
    switch (field->number) {
      case kFieldIdentityKey:
        if (!is_bytes(*field)) return unexpected(bad_payload("identity_key: wrong wire type"));
        payload.identity_key.assign(field->bytes.begin(), field->bytes.end());
        break;
      case kFieldIdentitySig:
        if (!is_bytes(*field)) return unexpected(bad_payload("identity_sig: wrong wire type"));
        payload.identity_sig.assign(field->bytes.begin(), field->bytes.end());
        break;
      case kFieldExtensions:
        if (!is_bytes(*field)) return unexpected(bad_payload("extensions: wrong wire type"));
        if (auto decoded = decode_extensions(field->bytes, payload.extensions); !decoded) {
          return unexpected(std::move(decoded).error());
        }
        payload.has_extensions = true;
        break;
      default:
        break;  // unknown fields are for future versions
    }
  }
  return payload;
}

Expected<crypto::Ed25519PublicKey, NoiseError> decode_ed25519_identity(ByteView public_key_protobuf) {
  auto key = PublicKey::decode(public_key_protobuf);
  if (!key) {
    const Errc code = key.error().code == public_key::Errc::unknown_type ? Errc::unsupported_key_type : Errc::bad_payload;
    return unexpected(NoiseError{code, "identity key: " + key.error().detail});
  }
  if (key->type != KeyType::ed25519) {
    return unexpected(NoiseError{Errc::unsupported_key_type,
                                 "identity key of type " + std::string(name(key->type)) + " (only Ed25519 is supported)"});
  }
  crypto::Ed25519PublicKey ed25519{};
  if (key->data.size() != ed25519.size()) return unexpected(NoiseError{Errc::bad_payload, "Ed25519 key of wrong size"});
  std::copy(key->data.begin(), key->data.end(), ed25519.begin());
  return ed25519;
}

Bytes static_key_signature_message(const crypto::X25519PublicKey& static_key) {
  Bytes message;
  message.reserve(static_key_signature_prefix.size() + static_key.size());
  append(message, as_bytes(static_key_signature_prefix));
  append(message, static_key);
  return message;
}

}  // namespace taho::noise
