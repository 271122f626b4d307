// Fuzzes the range decoder (content/tree/range_decoder.hpp): arbitrary
// encodings, and honest ones with fuzzer-chosen damage, are fed against the
// root of known content. It must never crash, and every group it accepts
// must be the content's own bytes at that offset.
#include <cstddef>
#include <cstdint>

#include "content/tree/range_decoder.hpp"
#include "content/tree/range_encoding.hpp"

namespace {

using namespace taho;
using namespace taho::content;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Content chosen by the fuzzer's first bytes: up to 6 groups and a bit.
Bytes make_content(std::uint32_t size, std::uint8_t seed) {
  Bytes content(size);
  std::uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : content) {
    state = state * 1103515245u + 12345u;
    byte = static_cast<std::uint8_t>(state >> 24);
  }
  return content;
}

void feed_and_check(const Bytes& content, const Hash& root, ByteRange range, ByteView encoding,
                    std::size_t piece) {
  RangeDecoder decoder(root, range);
  while (!encoding.empty()) {
    const std::size_t take = std::min(piece, encoding.size());
    const bool fed = decoder.feed(encoding.first(take)).has_value();
    while (auto group = decoder.poll_group()) {
      check(group->offset == group->index * kGroupBytes);
      check(group->offset + group->bytes.size() <= content.size() || (content.empty() && group->bytes.empty()));
      check(std::equal(group->bytes.begin(), group->bytes.end(),
                       content.begin() + static_cast<std::ptrdiff_t>(group->offset)));
    }
    if (!fed) return;
    encoding = encoding.subspan(take);
  }
  if (decoder.finish()) check(decoder.size() == content.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 6) return 0;
  const std::uint8_t mode = data[0];
  const std::uint32_t content_size = (std::uint32_t{data[1]} << 8 | data[2]) % (6 * kGroupBytes + 1000);
  const std::uint8_t seed = data[3];
  const ByteRange range{(data[4] % 8) * kGroupBytes, (data[5] % 8) * kGroupBytes + data[5] / 8};
  const ByteView rest(data + 6, size - 6);

  const Bytes content = make_content(content_size, seed);
  const Outboard outboard = compute_outboard(content);
  const std::size_t piece = 1 + (seed % 7) * 3000;

  if (mode % 2 == 0) {
    // Arbitrary bytes as the encoding.
    feed_and_check(content, outboard.root, range, rest, piece);
    return 0;
  }
  // An honest encoding, damaged: rest is (position, xor) pairs, then a cut.
  auto view = OutboardView::open(outboard.bytes, content.size());
  check(view.has_value());
  auto honest = encode_range(content, *view, range);
  check(honest.has_value());
  Bytes damaged = *honest;
  for (std::size_t i = 0; i + 2 < rest.size(); i += 3) {
    const std::size_t position = (std::size_t{rest[i]} << 8 | rest[i + 1]) * 7 % (damaged.size());
    damaged[position] ^= rest[i + 2];
  }
  if (mode & 2) damaged.resize(damaged.size() - (rest.empty() ? 0 : rest[0] % damaged.size()));
  feed_and_check(content, outboard.root, range, damaged, piece);
  return 0;
}
