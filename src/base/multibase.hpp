// Multibase: self-describing text encodings of bytes (multiformats/multibase).
// The four bases libp2p and IPFS use: base58btc for peer ids, base32 for CIDs,
// base64url and base16 for keys and debugging.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::multibase {

// The value is the multibase prefix character.
enum class Base : char {
  base16 = 'f',     // lowercase hex
  base32 = 'b',     // RFC 4648 lowercase, no padding
  base58btc = 'z',  // bitcoin alphabet
  base64url = 'u',  // RFC 4648 url-safe, no padding
};

enum class Errc {
  empty,           // no text at all: not even a prefix
  unknown_prefix,  // first character is not a supported multibase prefix
  bad_character,   // a character outside the base's alphabet
  bad_length,      // a length no encoding produces (e.g. 1 char of base32)
  non_canonical,   // unused trailing bits set: another text means the same bytes
  too_long,        // base58 text above kBase58TextCharsMax
};
using MultibaseError = Error<Errc>;

// base58 decoding is quadratic; longer inputs are refused rather than ground
// through (peer ids and CIDs are under 100 characters).
inline constexpr std::size_t kBase58TextCharsMax = 1024;

// Encodes with the prefix character first.
std::string encode(Base base, ByteView data);
// Encodes without a prefix (e.g. legacy peer ids are bare base58btc).
std::string encode_bare(Base base, ByteView data);

// Decodes prefixed text; the prefix picks the base.
Expected<Bytes, MultibaseError> decode(std::string_view text);
// Decodes text that carries no prefix, in the given base. Empty text decodes
// to no bytes.
Expected<Bytes, MultibaseError> decode_bare(Base base, std::string_view text);

// The base named by a prefix character, if we support it.
std::optional<Base> base_from_prefix(char prefix);

}  // namespace taho::multibase
