// Content identifiers (multiformats/cid): CIDv1 = <0x01><codec><multihash>,
// text = multibase (base32 by default). CIDv0 (bare base58btc sha2-256,
// "Qm...") is accepted on input and kept as v0.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/multibase.hpp"
#include "base/multihash.hpp"

namespace taho {

namespace cid {

// The content types taho understands; other codecs are refused.
enum class Codec : std::uint64_t {
  raw = 0x55,         // plain bytes: content ids (blake3)
  dag_pb = 0x70,      // IPFS UnixFS; every CIDv0 has it
  libp2p_key = 0x72,  // a peer id
};

enum class Errc {
  empty,              // no bytes or text
  bad_multibase,      // text is not valid multibase
  bad_varint,         // version or codec varint malformed or truncated
  unsupported_version,
  unsupported_codec,
  bad_multihash,      // the multihash part does not decode
};

std::string_view name(Codec codec);

}  // namespace cid

using CidError = Error<cid::Errc>;

class Cid {
 public:
  static Cid v1(cid::Codec codec, Multihash hash) { return Cid(1, codec, std::move(hash)); }
  // A CIDv0 must be a sha2-256 multihash; it has codec dag-pb implicitly.
  static Expected<Cid, CidError> v0(Multihash hash);

  // Binary: CIDv1, or a CIDv0 (the 34-byte sha2-256 multihash).
  static Expected<Cid, CidError> from_bytes(ByteView bytes);
  // Text: a multibase CIDv1 in any supported base, or a CIDv0 ("Qm..." base58btc).
  static Expected<Cid, CidError> parse(std::string_view text);

  int version() const { return version_; }
  cid::Codec codec() const { return codec_; }
  const Multihash& hash() const { return hash_; }

  // v1: 0x01, codec, multihash. v0: the multihash alone.
  Bytes bytes() const;
  // v1 in the given multibase (base32 by default); v0 is always bare base58btc.
  std::string to_string(multibase::Base base = multibase::Base::base32) const;

  bool operator==(const Cid& other) const = default;

 private:
  Cid(int version, cid::Codec codec, Multihash hash) : version_(version), codec_(codec), hash_(std::move(hash)) {}

  int version_ = 1;
  cid::Codec codec_ = cid::Codec::raw;
  Multihash hash_;
};

}  // namespace taho
