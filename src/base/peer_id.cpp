#include "base/peer_id.hpp"

#include "base/cid.hpp"
#include "base/protobuf.hpp"

namespace taho {

std::string_view name(KeyType type) {
  switch (type) {
    case KeyType::rsa: return "RSA";
    case KeyType::ed25519: return "Ed25519";
    case KeyType::secp256k1: return "Secp256k1";
    case KeyType::ecdsa: return "ECDSA";
  }
  return "unknown";
}

namespace {

constexpr std::uint32_t kTypeField = 1;
constexpr std::uint32_t kDataField = 2;
constexpr std::uint64_t kKeyTypeMax = static_cast<std::uint64_t>(KeyType::ecdsa);

PublicKeyError key_error(public_key::Errc code, std::string detail) { return {code, std::move(detail)}; }
PeerIdError id_error(peer_id::Errc code, std::string detail) { return {code, std::move(detail)}; }

}  // namespace

PublicKey PublicKey::ed25519(std::span<const std::uint8_t, public_key::kEd25519KeyBytes> key) {
  return PublicKey{KeyType::ed25519, Bytes(key.begin(), key.end())};
}

Bytes PublicKey::encode() const {
  // Field order and minimal varints are what the spec's deterministic
  // encoding asks for; pb::Writer writes exactly that.
  pb::Writer writer;
  writer.varint(kTypeField, static_cast<std::uint64_t>(type));
  writer.bytes(kDataField, data);
  return writer.take();
}

Expected<PublicKey, PublicKeyError> PublicKey::decode(ByteView protobuf) {
  using public_key::Errc;
  if (protobuf.size() > public_key::kEncodedBytesMax) {
    return unexpected(key_error(Errc::too_long, "public key of " + std::to_string(protobuf.size()) +
                                                    " bytes is over the limit of " +
                                                    std::to_string(public_key::kEncodedBytesMax)));
  }
  std::optional<std::uint64_t> type;
  std::optional<ByteView> data;
  pb::Reader reader(protobuf);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(key_error(Errc::bad_protobuf, field.error().detail));
    if (field->number == kTypeField && !type) {
      if (field->type != pb::WireType::varint) {
        return unexpected(key_error(Errc::bad_wire_type, "Type (field 1) is not a varint"));
      }
      type = field->integer;
    } else if (field->number == kDataField && !data) {
      if (field->type != pb::WireType::length_delimited) {
        return unexpected(key_error(Errc::bad_wire_type, "Data (field 2) is not bytes"));
      }
      data = field->bytes;
    } else {
      return unexpected(key_error(Errc::unknown_field, "unexpected field " + std::to_string(field->number) +
                                                           " in PublicKey (only Type=1 and Data=2, once each)"));
    }
  }
  if (!type) return unexpected(key_error(Errc::missing_field, "PublicKey has no Type (field 1)"));
  if (!data) return unexpected(key_error(Errc::missing_field, "PublicKey has no Data (field 2)"));
  if (*type > kKeyTypeMax) {
    return unexpected(key_error(Errc::unknown_type, "unknown key type " + std::to_string(*type)));
  }
  PublicKey key{static_cast<KeyType>(*type), Bytes(data->begin(), data->end())};
  if (key.data.empty()) return unexpected(key_error(Errc::bad_key, "empty key data"));
  if (key.type == KeyType::ed25519 && key.data.size() != public_key::kEd25519KeyBytes) {
    return unexpected(key_error(Errc::bad_key, "Ed25519 key of " + std::to_string(key.data.size()) +
                                                   " bytes, expected 32"));
  }
  // Anything the deterministic encoder would not have produced (fields out
  // of order, padded varints) gives a second encoding, hence a second peer
  // id, for the same key: refuse it.
  const Bytes canonical = key.encode();
  if (!std::equal(canonical.begin(), canonical.end(), protobuf.begin(), protobuf.end())) {
    return unexpected(key_error(Errc::non_canonical, "PublicKey is not deterministically encoded"));
  }
  return key;
}

namespace {

// A key that would not decode would give a peer id that does not parse back.
Expected<Bytes, PeerIdError> encode_valid_key(const PublicKey& key) {
  Bytes encoded = key.encode();
  if (auto valid = PublicKey::decode(encoded); !valid) {
    return unexpected(id_error(peer_id::Errc::bad_public_key, valid.error().detail));
  }
  return encoded;
}

}  // namespace

Expected<PeerId, PeerIdError> PeerId::from_public_key(const PublicKey& key) {
  auto encoded_or_error = encode_valid_key(key);
  if (!encoded_or_error) return unexpected(std::move(encoded_or_error).error());
  const Bytes& encoded = *encoded_or_error;
  if (encoded.size() > peer_id::kIdentityKeyBytesMax) {
    return unexpected(id_error(peer_id::Errc::unsupported_hash,
                               std::string(name(key.type)) + " key encodes to " + std::to_string(encoded.size()) +
                                   " bytes: its peer id needs sha2-256, pass a hash function"));
  }
  auto hash = Multihash::create(multihash::Code::identity, encoded);
  if (!hash) __builtin_trap();  // 42 bytes is within every multihash limit
  return PeerId(std::move(*hash));
}

Expected<PeerId, PeerIdError> PeerId::from_public_key(const PublicKey& key, const peer_id::Sha256Function& sha256) {
  auto encoded_or_error = encode_valid_key(key);
  if (!encoded_or_error) return unexpected(std::move(encoded_or_error).error());
  const Bytes& encoded = *encoded_or_error;
  if (encoded.size() <= peer_id::kIdentityKeyBytesMax) return from_public_key(key);
  const peer_id::Sha256Digest digest = sha256(encoded);
  auto hash = Multihash::create(multihash::Code::sha2_256, digest);
  if (!hash) __builtin_trap();  // a 32-byte digest is always valid
  return PeerId(std::move(*hash));
}

PeerId PeerId::from_ed25519(std::span<const std::uint8_t, public_key::kEd25519KeyBytes> key) {
  auto id = from_public_key(PublicKey::ed25519(key));
  if (!id) __builtin_trap();  // any 32 bytes make a valid Ed25519 PublicKey message
  return std::move(*id);
}

Expected<PeerId, PeerIdError> PeerId::from_multihash(const Multihash& multihash) {
  switch (multihash.code()) {
    case multihash::Code::sha2_256:
      return PeerId(multihash);
    case multihash::Code::identity: {
      if (multihash.digest().size() > peer_id::kIdentityKeyBytesMax) {
        return unexpected(id_error(peer_id::Errc::bad_public_key,
                                   "identity peer id of " + std::to_string(multihash.digest().size()) +
                                       " bytes; keys over 42 bytes are hashed"));
      }
      auto key = PublicKey::decode(multihash.digest());
      if (!key) return unexpected(id_error(peer_id::Errc::bad_public_key, "inlined key: " + key.error().detail));
      return PeerId(multihash);
    }
    default:
      return unexpected(id_error(peer_id::Errc::unsupported_hash,
                                 std::string("peer ids are identity or sha2-256 multihashes, not ") +
                                     std::string(multihash::name(multihash.code()))));
  }
}

Expected<PeerId, PeerIdError> PeerId::from_bytes(ByteView bytes) {
  if (bytes.empty()) return unexpected(id_error(peer_id::Errc::empty, "empty peer id"));
  auto hash = Multihash::from_bytes(bytes);
  if (!hash) {
    const auto code = hash.error().code == multihash::Errc::unsupported_code ? peer_id::Errc::unsupported_hash
                                                                            : peer_id::Errc::bad_multihash;
    return unexpected(id_error(code, hash.error().detail));
  }
  return from_multihash(*hash);
}

Expected<PeerId, PeerIdError> PeerId::parse(std::string_view text) {
  if (text.empty()) return unexpected(id_error(peer_id::Errc::empty, "empty peer id"));
  // Legacy form: a bare base58btc multihash. Identity multihashes start with
  // a zero byte ('1'), sha2-256 ones with 0x12 0x20 ("Qm").
  if (text.front() == '1' || text.starts_with("Qm")) {
    auto bytes = multibase::decode_bare(multibase::Base::base58btc, text);
    if (!bytes) return unexpected(id_error(peer_id::Errc::bad_text, "peer id: " + bytes.error().detail));
    return from_bytes(*bytes);
  }
  if (!multibase::base_from_prefix(text.front())) {
    return unexpected(id_error(peer_id::Errc::bad_text,
                               "peer id text is neither base58btc (1..., Qm...) nor a multibase CID"));
  }
  auto cid = Cid::parse(text);
  if (!cid) return unexpected(id_error(peer_id::Errc::bad_cid, "peer id CID: " + cid.error().detail));
  if (cid->version() != 1 || cid->codec() != cid::Codec::libp2p_key) {
    return unexpected(id_error(peer_id::Errc::wrong_codec, "peer id CID has codec " +
                                                               std::string(cid::name(cid->codec())) +
                                                               ", expected libp2p-key"));
  }
  return from_multihash(cid->hash());
}

std::string PeerId::to_string() const { return multibase::encode_bare(multibase::Base::base58btc, bytes()); }

std::string PeerId::to_cid_string(multibase::Base base) const {
  return Cid::v1(cid::Codec::libp2p_key, multihash_).to_string(base);
}

std::optional<PublicKey> PeerId::public_key() const {
  if (multihash_.code() != multihash::Code::identity) return std::nullopt;
  auto key = PublicKey::decode(multihash_.digest());
  if (!key) return std::nullopt;  // cannot happen: checked when the id was made
  return std::move(*key);
}

}  // namespace taho
