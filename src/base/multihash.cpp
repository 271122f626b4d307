#include "base/multihash.hpp"

#include "base/varint.hpp"

namespace taho {
namespace multihash {

std::string_view name(Code code) {
  switch (code) {
    case Code::identity: return "identity";
    case Code::sha2_256: return "sha2-256";
    case Code::blake3: return "blake3";
  }
  return "unknown";
}

}  // namespace multihash

namespace {

using multihash::Code;
using multihash::Errc;

bool is_supported(std::uint64_t code) {
  return code == static_cast<std::uint64_t>(Code::identity) || code == static_cast<std::uint64_t>(Code::sha2_256) ||
         code == static_cast<std::uint64_t>(Code::blake3);
}

Expected<void, MultihashError> check_length(Code code, std::size_t length) {
  if (length > multihash::kDigestBytesMax) {
    return unexpected(MultihashError{Errc::bad_length, "digest of " + std::to_string(length) +
                                                           " bytes is over the limit of " +
                                                           std::to_string(multihash::kDigestBytesMax)});
  }
  // blake3 is an extendable-output function, but content ids fix it at 32
  // bytes, like the multicodec table's default.
  const std::size_t required = code == Code::sha2_256 ? multihash::kSha256DigestBytes
                               : code == Code::blake3 ? multihash::kBlake3DigestBytes
                                                      : length;
  if (length != required) {
    return unexpected(MultihashError{Errc::bad_length, std::string(multihash::name(code)) + " digest must be " +
                                                           std::to_string(required) + " bytes, not " +
                                                           std::to_string(length)});
  }
  return {};
}

MultihashError from_varint_error(const varint::VarintError& error, const char* what) {
  const Errc code = error.code == varint::Errc::truncated ? Errc::truncated : Errc::bad_varint;
  return {code, std::string(what) + ": " + error.detail};
}

}  // namespace

Expected<Multihash, MultihashError> Multihash::create(Code code, ByteView digest) {
  if (!is_supported(static_cast<std::uint64_t>(code))) {
    return unexpected(MultihashError{Errc::unsupported_code, "unsupported hash code " +
                                                                 std::to_string(static_cast<std::uint64_t>(code))});
  }
  if (auto ok = check_length(code, digest.size()); !ok) return unexpected(ok.error());
  Bytes bytes;
  varint::encode(static_cast<std::uint64_t>(code), bytes);
  varint::encode(digest.size(), bytes);
  const std::size_t offset = bytes.size();
  append(bytes, digest);
  return Multihash(code, std::move(bytes), offset);
}

Expected<Multihash, MultihashError> Multihash::from_bytes(ByteView bytes) {
  const auto code = varint::decode(bytes);
  if (!code) return unexpected(from_varint_error(code.error(), "multihash code"));
  if (!is_supported(code->value)) {
    return unexpected(MultihashError{Errc::unsupported_code, "unsupported hash code " + std::to_string(code->value)});
  }
  const auto length = varint::decode(bytes.subspan(code->length));
  if (!length) return unexpected(from_varint_error(length.error(), "multihash length"));
  const auto function = static_cast<Code>(code->value);
  if (length->value > multihash::kDigestBytesMax) {
    return unexpected(MultihashError{Errc::bad_length, "digest length " + std::to_string(length->value) +
                                                           " is over the limit of " +
                                                           std::to_string(multihash::kDigestBytesMax)});
  }
  if (auto ok = check_length(function, static_cast<std::size_t>(length->value)); !ok) return unexpected(ok.error());

  const std::size_t offset = code->length + length->length;
  const std::size_t available = bytes.size() - offset;
  if (available < length->value) {
    return unexpected(MultihashError{Errc::truncated, "digest needs " + std::to_string(length->value) +
                                                          " bytes, only " + std::to_string(available) + " left"});
  }
  if (available > length->value) {
    return unexpected(MultihashError{Errc::trailing_bytes, std::to_string(available - length->value) +
                                                               " bytes after the digest"});
  }
  return Multihash(function, Bytes(bytes.begin(), bytes.end()), offset);
}

}  // namespace taho
