#include "base/cid.hpp"

#include "base/varint.hpp"

namespace taho {
namespace cid {

std::string_view name(Codec codec) {
  switch (codec) {
    case Codec::raw: return "raw";
    case Codec::dag_pb: return "dag-pb";
    case Codec::libp2p_key: return "libp2p-key";
  }
  return "unknown";
}

}  // namespace cid

namespace {

using cid::Codec;
using cid::Errc;

constexpr std::uint64_t kVersion1 = 1;
constexpr std::size_t kV0Bytes = 34;  // 0x12 0x20 + 32-byte sha2-256 digest
constexpr std::size_t kV0TextChars = 46;

bool is_supported(std::uint64_t codec) {
  return codec == static_cast<std::uint64_t>(Codec::raw) || codec == static_cast<std::uint64_t>(Codec::dag_pb) ||
         codec == static_cast<std::uint64_t>(Codec::libp2p_key);
}

bool looks_like_v0(ByteView bytes) {
  return bytes.size() == kV0Bytes && bytes[0] == static_cast<std::uint8_t>(multihash::Code::sha2_256) &&
         bytes[1] == multihash::kSha256DigestBytes;
}

CidError from_multihash_error(const MultihashError& error) { return {Errc::bad_multihash, "multihash: " + error.detail}; }

}  // namespace

Expected<Cid, CidError> Cid::v0(Multihash hash) {
  if (hash.code() != multihash::Code::sha2_256) {
    return unexpected(CidError{Errc::unsupported_version, "a CIDv0 must hold a sha2-256 multihash"});
  }
  return Cid(0, Codec::dag_pb, std::move(hash));
}

Expected<Cid, CidError> Cid::from_bytes(ByteView bytes) {
  if (bytes.empty()) return unexpected(CidError{Errc::empty, "empty CID"});
  if (looks_like_v0(bytes)) {
    auto hash = Multihash::from_bytes(bytes);
    if (!hash) return unexpected(from_multihash_error(hash.error()));
    return Cid(0, Codec::dag_pb, std::move(*hash));
  }
  const auto version = varint::decode(bytes);
  if (!version) return unexpected(CidError{Errc::bad_varint, "CID version: " + version.error().detail});
  if (version->value != kVersion1) {
    return unexpected(CidError{Errc::unsupported_version, "unsupported CID version " + std::to_string(version->value)});
  }
  const ByteView after_version = bytes.subspan(version->length);
  const auto codec = varint::decode(after_version);
  if (!codec) return unexpected(CidError{Errc::bad_varint, "CID codec: " + codec.error().detail});
  if (!is_supported(codec->value)) {
    return unexpected(CidError{Errc::unsupported_codec, "unsupported CID codec " + std::to_string(codec->value)});
  }
  auto hash = Multihash::from_bytes(after_version.subspan(codec->length));
  if (!hash) return unexpected(from_multihash_error(hash.error()));
  return Cid(1, static_cast<Codec>(codec->value), std::move(*hash));
}

Expected<Cid, CidError> Cid::parse(std::string_view text) {
  if (text.empty()) return unexpected(CidError{Errc::empty, "empty CID text"});
  // CIDv0 has no multibase prefix; its text is always 46 characters, "Qm...".
  if (text.size() == kV0TextChars && text.starts_with("Qm")) {
    auto bytes = multibase::decode_bare(multibase::Base::base58btc, text);
    if (!bytes) return unexpected(CidError{Errc::bad_multibase, "CIDv0: " + bytes.error().detail});
    if (!looks_like_v0(*bytes)) {
      return unexpected(CidError{Errc::unsupported_version, "CIDv0 text does not hold a sha2-256 multihash"});
    }
    return from_bytes(*bytes);
  }
  auto bytes = multibase::decode(text);
  if (!bytes) return unexpected(CidError{Errc::bad_multibase, bytes.error().detail});
  // A binary CIDv0 inside multibase is not a valid CID text (the spec reserves
  // that form), so insist on an explicit version 1 here.
  if (looks_like_v0(*bytes)) {
    return unexpected(CidError{Errc::unsupported_version, "multibase text holds a CIDv0; CIDv0 text is bare base58btc"});
  }
  return from_bytes(*bytes);
}

Bytes Cid::bytes() const {
  if (version_ == 0) return hash_.bytes();
  Bytes out;
  varint::encode(kVersion1, out);
  varint::encode(static_cast<std::uint64_t>(codec_), out);
  append(out, hash_.bytes());
  return out;
}

std::string Cid::to_string(multibase::Base base) const {
  if (version_ == 0) return multibase::encode_bare(multibase::Base::base58btc, hash_.bytes());
  return multibase::encode(base, bytes());
}

}  // namespace taho
