// Content ids (DESIGN.md §4): `ca_blake3_` + the 64 lowercase hex digits of
// the BLAKE3 hash of the content, exactly what `b3sum` prints. The same hash
// as a CIDv1 (codec raw 0x55, multihash blake3 0x1e) names it in the DHT.
#pragma once

#include <compare>
#include <string>
#include <string_view>

#include "base/cid.hpp"
#include "base/error.hpp"
#include "crypto/blake3.hpp"

namespace taho::content {

enum class IdErrc {
  bad_prefix,     // text starts with neither `ca_blake3_` nor a CID's multibase
  bad_length,     // not 64 hex digits after the prefix
  bad_hex,        // a character that is not lowercase hex (uppercase is refused)
  bad_cid,        // a CID that does not decode
  wrong_codec,    // a CID whose codec is not raw (0x55)
  wrong_hash,     // a CID whose multihash is not a 32-byte blake3 one
};
using IdError = Error<IdErrc>;

using Hash = crypto::blake3::Hash;

class ContentId {
 public:
  static constexpr std::string_view kPrefix = "ca_blake3_";
  static constexpr std::size_t kTextChars = kPrefix.size() + 64;

  ContentId() = default;
  explicit ContentId(const Hash& hash) : hash_(hash) {}

  // Accepts `ca_blake3_<hex>` and the CIDv1 text form (any multibase).
  static Expected<ContentId, IdError> parse(std::string_view text);
  static Expected<ContentId, IdError> from_cid(const Cid& cid);

  const Hash& hash() const { return hash_; }
  std::string hex() const;
  std::string to_string() const;       // ca_blake3_<hex>
  Cid to_cid() const;                  // CIDv1 raw + blake3 multihash
  std::string to_cid_string() const;   // its base32 text, "bafkr4i..."

  auto operator<=>(const ContentId&) const = default;

 private:
  Hash hash_{};
};

}  // namespace taho::content
