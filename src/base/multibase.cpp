#include "base/multibase.hpp"

#include <array>
#include <cstdint>

namespace taho::multibase {
namespace {

constexpr std::string_view kBase58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kBase16Alphabet = "0123456789abcdef";

constexpr std::int8_t kNotInAlphabet = -1;

// Character -> digit value, kNotInAlphabet for characters outside it.
constexpr std::array<std::int8_t, 256> reverse_table(std::string_view alphabet) {
  std::array<std::int8_t, 256> table{};
  for (auto& entry : table) entry = kNotInAlphabet;
  for (std::size_t i = 0; i < alphabet.size(); ++i) {
    table[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
  }
  return table;
}

constexpr auto kBase58Values = reverse_table(kBase58Alphabet);
constexpr auto kBase32Values = reverse_table(kBase32Alphabet);
constexpr auto kBase64UrlValues = reverse_table(kBase64UrlAlphabet);
constexpr auto kBase16Values = reverse_table(kBase16Alphabet);

MultibaseError bad_character(char c, std::size_t position, std::string_view base_name) {
  std::string detail = "character ";
  if (c >= 0x21 && c < 0x7f) {
    detail += '\'';
    detail += c;
    detail += '\'';
  } else {
    detail += "0x" + to_hex(as_bytes(std::string_view(&c, 1)));
  }
  detail += " at position " + std::to_string(position) + " is not " + std::string(base_name);
  return {Errc::bad_character, std::move(detail)};
}

// RFC 4648 bases (32, 64) pack `bits` per character, most significant first,
// without padding.
std::string encode_bit_groups(ByteView data, std::string_view alphabet, unsigned bits) {
  std::string out;
  out.reserve((data.size() * 8 + bits - 1) / bits);
  const unsigned mask = (1u << bits) - 1;
  std::uint32_t buffer = 0;
  unsigned buffered = 0;
  for (std::uint8_t byte : data) {
    buffer = (buffer << 8) | byte;
    buffered += 8;
    while (buffered >= bits) {
      buffered -= bits;
      out.push_back(alphabet[(buffer >> buffered) & mask]);
    }
  }
  if (buffered > 0) out.push_back(alphabet[(buffer << (bits - buffered)) & mask]);
  return out;
}

Expected<Bytes, MultibaseError> decode_bit_groups(std::string_view text, const std::array<std::int8_t, 256>& values,
                                                  unsigned bits, std::string_view base_name) {
  // The last character must carry at least one bit of a byte, otherwise no
  // encoder would have written it.
  if ((text.size() * bits) % 8 >= bits) {
    return unexpected(MultibaseError{
        Errc::bad_length, std::to_string(text.size()) + " characters are not a valid " + std::string(base_name) + " length"});
  }
  Bytes out;
  out.reserve(text.size() * bits / 8);
  std::uint32_t buffer = 0;
  unsigned buffered = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const std::int8_t value = values[static_cast<unsigned char>(text[i])];
    if (value == kNotInAlphabet) return unexpected(bad_character(text[i], i, base_name));
    buffer = (buffer << bits) | static_cast<std::uint32_t>(value);
    buffered += bits;
    if (buffered >= 8) {
      buffered -= 8;
      out.push_back(static_cast<std::uint8_t>(buffer >> buffered));
    }
    buffer &= (1u << buffered) - 1;  // keep only the bits not yet emitted
  }
  if (buffer != 0) {
    return unexpected(MultibaseError{Errc::non_canonical, "unused trailing bits are not zero in " + std::string(base_name)});
  }
  return out;
}

std::string encode_base16(ByteView data) { return to_hex(data); }

Expected<Bytes, MultibaseError> decode_base16(std::string_view text) {
  if (text.size() % 2 != 0) {
    return unexpected(MultibaseError{Errc::bad_length, "odd number of base16 characters"});
  }
  Bytes out;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const std::int8_t high = kBase16Values[static_cast<unsigned char>(text[i])];
    if (high == kNotInAlphabet) return unexpected(bad_character(text[i], i, "lowercase base16"));
    const std::int8_t low = kBase16Values[static_cast<unsigned char>(text[i + 1])];
    if (low == kNotInAlphabet) return unexpected(bad_character(text[i + 1], i + 1, "lowercase base16"));
    out.push_back(static_cast<std::uint8_t>(high << 4 | low));
  }
  return out;
}

// base58 is a big-number conversion: each leading zero byte becomes a '1',
// the rest is the number in base 58.
std::string encode_base58(ByteView data) {
  std::size_t zeros = 0;
  while (zeros < data.size() && data[zeros] == 0) ++zeros;
  // log(256)/log(58) < 1.38: room for every digit.
  std::vector<std::uint8_t> digits;
  digits.reserve((data.size() - zeros) * 138 / 100 + 1);
  for (std::size_t i = zeros; i < data.size(); ++i) {
    std::uint32_t carry = data[i];
    for (auto& digit : digits) {  // little-endian digits
      carry += std::uint32_t{digit} << 8;
      digit = static_cast<std::uint8_t>(carry % 58);
      carry /= 58;
    }
    while (carry > 0) {
      digits.push_back(static_cast<std::uint8_t>(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  out.reserve(zeros + digits.size());
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out.push_back(kBase58Alphabet[*it]);
  return out;
}

Expected<Bytes, MultibaseError> decode_base58(std::string_view text) {
  if (text.size() > kBase58TextCharsMax) {
    return unexpected(MultibaseError{Errc::too_long, "base58 text of " + std::to_string(text.size()) +
                                                         " characters is over the limit of " +
                                                         std::to_string(kBase58TextCharsMax)});
  }
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<std::uint8_t> bytes;  // little-endian
  bytes.reserve((text.size() - ones) * 733 / 1000 + 1);  // log(58)/log(256) < 0.733
  for (std::size_t i = ones; i < text.size(); ++i) {
    const std::int8_t value = kBase58Values[static_cast<unsigned char>(text[i])];
    if (value == kNotInAlphabet) return unexpected(bad_character(text[i], i, "base58btc"));
    std::uint32_t carry = static_cast<std::uint32_t>(value);
    for (auto& byte : bytes) {
      carry += std::uint32_t{byte} * 58;
      byte = static_cast<std::uint8_t>(carry & 0xff);
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push_back(static_cast<std::uint8_t>(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

}  // namespace

std::optional<Base> base_from_prefix(char prefix) {
  switch (prefix) {
    case static_cast<char>(Base::base16): return Base::base16;
    case static_cast<char>(Base::base32): return Base::base32;
    case static_cast<char>(Base::base58btc): return Base::base58btc;
    case static_cast<char>(Base::base64url): return Base::base64url;
    default: return std::nullopt;
  }
}

std::string encode_bare(Base base, ByteView data) {
  switch (base) {
    case Base::base16: return encode_base16(data);
    case Base::base32: return encode_bit_groups(data, kBase32Alphabet, 5);
    case Base::base58btc: return encode_base58(data);
    case Base::base64url: return encode_bit_groups(data, kBase64UrlAlphabet, 6);
  }
  __builtin_trap();  // every enumerator is handled above
}

std::string encode(Base base, ByteView data) {
  std::string out(1, static_cast<char>(base));
  out += encode_bare(base, data);
  return out;
}

Expected<Bytes, MultibaseError> decode_bare(Base base, std::string_view text) {
  switch (base) {
    case Base::base16: return decode_base16(text);
    case Base::base32: return decode_bit_groups(text, kBase32Values, 5, "base32");
    case Base::base58btc: return decode_base58(text);
    case Base::base64url: return decode_bit_groups(text, kBase64UrlValues, 6, "base64url");
  }
  __builtin_trap();
}

Expected<Bytes, MultibaseError> decode(std::string_view text) {
  if (text.empty()) return unexpected(MultibaseError{Errc::empty, "empty multibase text"});
  const auto base = base_from_prefix(text.front());
  if (!base) {
    std::string detail = "unsupported multibase prefix ";
    detail += (text.front() >= 0x21 && text.front() < 0x7f) ? std::string("'") + text.front() + "'"
                                                             : "0x" + to_hex(as_bytes(text.substr(0, 1)));
    return unexpected(MultibaseError{Errc::unknown_prefix, std::move(detail)});
  }
  return decode_bare(*base, text.substr(1));
}

}  // namespace taho::multibase
