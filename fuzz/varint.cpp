// Fuzzes varint::decode: never crashes, and whatever it accepts re-encodes to
// the same bytes (minimal encodings only).
#include <cstdlib>

#include "base/varint.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const taho::ByteView input(data, size);
  const auto decoded = taho::varint::decode(input);
  if (!decoded) return 0;
  if (decoded->length == 0 || decoded->length > taho::varint::kEncodedBytesMax || decoded->length > size) std::abort();
  taho::Bytes encoded;
  taho::varint::encode(decoded->value, encoded);
  if (encoded.size() != decoded->length || taho::varint::encoded_length(decoded->value) != encoded.size()) std::abort();
  if (!std::equal(encoded.begin(), encoded.end(), input.begin())) std::abort();
  return 0;
}
