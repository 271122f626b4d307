#include "content/tree/content_id.hpp"

#include <algorithm>

#include "base/multihash.hpp"

namespace taho::content {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

Expected<ContentId, IdError> parse_hex(std::string_view hex, std::string_view whole) {
  if (hex.size() != 64) {
    return unexpected(IdError{IdErrc::bad_length, "content id '" + std::string(whole) + "' must be " +
                                                      std::string(ContentId::kPrefix) +
                                                      " followed by 64 hex digits, got " +
                                                      std::to_string(hex.size())});
  }
  Hash hash{};
  for (std::size_t i = 0; i < hash.size(); ++i) {
    const int high = hex_digit(hex[2 * i]);
    const int low = hex_digit(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return unexpected(IdError{IdErrc::bad_hex, "content id '" + std::string(whole) +
                                                     "' has a character that is not lowercase hex"});
    }
    hash[i] = static_cast<std::uint8_t>(high * 16 + low);
  }
  return ContentId(hash);
}

}  // namespace

Expected<ContentId, IdError> ContentId::parse(std::string_view text) {
  if (text.starts_with(kPrefix)) return parse_hex(text.substr(kPrefix.size()), text);
  // Anything else must be a CID; a short or prefix-less text is most likely a
  // mistyped ca_blake3_ id, so say what is expected.
  auto cid = Cid::parse(text);
  if (!cid) {
    return unexpected(IdError{IdErrc::bad_prefix, "'" + std::string(text) + "' is not a content id: expected " +
                                                      std::string(kPrefix) + "<64 hex digits> or a CIDv1"});
  }
  return from_cid(*cid);
}

Expected<ContentId, IdError> ContentId::from_cid(const Cid& cid) {
  if (cid.version() != 1 || cid.codec() != cid::Codec::raw) {
    return unexpected(IdError{IdErrc::wrong_codec, "CID is not a CIDv1 of raw bytes (codec 0x55)"});
  }
  const auto digest = cid.hash().digest();
  if (cid.hash().code() != multihash::Code::blake3 || digest.size() != Hash{}.size()) {
    return unexpected(IdError{IdErrc::wrong_hash, "CID's multihash is not a 32-byte blake3 (0x1e) digest"});
  }
  Hash hash{};
  std::copy(digest.begin(), digest.end(), hash.begin());
  return ContentId(hash);
}

std::string ContentId::hex() const { return to_hex(hash_); }

std::string ContentId::to_string() const { return std::string(kPrefix) + hex(); }

Cid ContentId::to_cid() const {
  // A 32-byte digest is always valid for blake3: create cannot fail here.
  auto multihash = Multihash::create(multihash::Code::blake3, hash_);
  return Cid::v1(cid::Codec::raw, std::move(multihash).value());
}

std::string ContentId::to_cid_string() const { return to_cid().to_string(); }

}  // namespace taho::content
