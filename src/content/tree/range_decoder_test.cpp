#include "content/tree/range_decoder.hpp"

#include <gtest/gtest.h>

#include <random>

#include "content/tree/range_encoding.hpp"

namespace taho::content {
namespace {

Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
  return out;
}

struct Stored {
  Bytes content;
  Outboard outboard;
};

Stored make_content(std::uint64_t size) {
  Stored stored{random_bytes(size, static_cast<std::uint32_t>(size * 31 + 1)), {}};
  stored.outboard = compute_outboard(stored.content);
  return stored;
}

Bytes encode(const Stored& stored, ByteRange range) {
  auto view = OutboardView::open(stored.outboard.bytes, stored.content.size());
  EXPECT_TRUE(view);
  auto encoded = encode_range(stored.content, *view, range);
  EXPECT_TRUE(encoded) << encoded.error().detail;
  return encoded ? *encoded : Bytes{};
}

// Feeds the encoding in random pieces; returns the verified groups or the error.
Expected<std::vector<VerifiedGroup>, ProofError> decode(const Hash& root, ByteRange range, ByteView encoded,
                                                        std::uint32_t seed = 1) {
  RangeDecoder decoder(root, range);
  std::mt19937 rng(seed);
  std::vector<VerifiedGroup> groups;
  while (!encoded.empty()) {
    const std::size_t piece = std::min<std::size_t>(1 + rng() % 20000, encoded.size());
    auto fed = decoder.feed(encoded.first(piece));
    if (!fed) return unexpected(fed.error());
    while (auto group = decoder.poll_group()) groups.push_back(std::move(*group));
    encoded = encoded.subspan(piece);
  }
  auto finished = decoder.finish();
  if (!finished) return unexpected(finished.error());
  return groups;
}

const std::uint64_t kSizes[] = {0, 1, 1023, 1024, 16383, 16384, 16385, 49153, 200'000, (1 << 20) + 1};

std::vector<ByteRange> ranges_for(std::uint64_t size) {
  return {{0, size},           {0, 1},           {0, kGroupBytes},    {kGroupBytes, 1},
          {kGroupBytes * 2, kGroupBytes * 3}, {(size / kGroupBytes) * kGroupBytes, 5},
          {(size / kGroupBytes + 4) * kGroupBytes, 10}, {0, 0}, {0, ~std::uint64_t{0}}};
}

TEST(RangeProof, RoundTripsEveryRange) {
  for (const auto size : kSizes) {
    const auto stored = make_content(size);
    for (const auto range : ranges_for(size)) {
      SCOPED_TRACE(testing::Message() << "size " << size << " range " << range.offset << "+" << range.length);
      const auto encoded = encode(stored, range);
      EXPECT_EQ(encoded.size(), *encoded_range_bytes(range, size));
      auto groups = decode(stored.outboard.root, range, encoded);
      ASSERT_TRUE(groups) << groups.error().detail;
      // The requested groups plus the last one, in order, each with the right bytes.
      const auto wanted = *groups_of(range, size);
      std::vector<std::uint64_t> expected_indices;
      for (auto g = wanted.first; g < wanted.end; ++g) expected_indices.push_back(g);
      const auto last = group_count(size) - 1;
      if (expected_indices.empty() || expected_indices.back() != last) expected_indices.push_back(last);
      ASSERT_EQ(groups->size(), expected_indices.size());
      for (std::size_t i = 0; i < groups->size(); ++i) {
        const auto& group = (*groups)[i];
        EXPECT_EQ(group.index, expected_indices[i]);
        EXPECT_EQ(group.offset, group.index * kGroupBytes);
        const auto original = ByteView(stored.content).subspan(group.offset, group_length(size, group.index));
        EXPECT_TRUE(std::equal(original.begin(), original.end(), group.bytes.begin(), group.bytes.end()));
      }
    }
  }
}

TEST(RangeProof, AnyFlippedBitIsDetected) {
  for (const auto size : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{16385}, std::uint64_t{200'000}}) {
    const auto stored = make_content(size);
    const ByteRange range{kGroupBytes, 3 * kGroupBytes};
    const auto encoded = encode(stored, range);
    std::mt19937 rng(static_cast<std::uint32_t>(size));
    // Every bit of small encodings; a few hundred random ones of big ones.
    const std::size_t bits = encoded.size() * 8;
    const std::size_t trials = std::min<std::size_t>(bits, 400);
    for (std::size_t t = 0; t < trials; ++t) {
      const std::size_t bit = bits <= 400 ? t : rng() % bits;
      auto tampered = encoded;
      tampered[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      auto groups = decode(stored.outboard.root, range, tampered);
      EXPECT_FALSE(groups) << "size " << size << ": flipped bit " << bit << " accepted";
    }
  }
}

TEST(RangeProof, TruncationAndTrailingBytesAreDetected) {
  const auto stored = make_content(100'000);
  const ByteRange range{0, 2 * kGroupBytes};
  const auto encoded = encode(stored, range);
  for (std::size_t cut = 0; cut < encoded.size(); cut += 97) {
    auto groups = decode(stored.outboard.root, range, ByteView(encoded).first(cut));
    ASSERT_FALSE(groups) << cut;
    EXPECT_EQ(groups.error().code, ProofErrc::truncated);
  }
  auto longer = encoded;
  longer.push_back(0);
  EXPECT_EQ(decode(stored.outboard.root, range, longer).error().code, ProofErrc::trailing_bytes);
}

// A sender lying about the size, in the header, is caught even when the
// requested range is far from the end: the last group travels along.
TEST(RangeProof, WrongLengthIsDetected) {
  const std::uint64_t size = 5 * kGroupBytes + 100;
  const auto stored = make_content(size);
  const ByteRange range{0, kGroupBytes};
  for (const std::uint64_t claimed : {size - 1, size + 1, size - 100, size + kGroupBytes, 8 * kGroupBytes,
                                      std::uint64_t{0}, std::uint64_t{1}, kContentBytesMax + 1}) {
    SCOPED_TRACE(claimed);
    // An honest encoding of other bytes of the claimed size, sharing the prefix.
    auto other = make_content(claimed > (1u << 20) ? 0 : claimed);
    const auto prefix = std::min<std::uint64_t>(claimed, size);
    if (claimed <= (1u << 20)) {
      std::copy(stored.content.begin(), stored.content.begin() + static_cast<std::ptrdiff_t>(prefix),
                other.content.begin());
      other.outboard = compute_outboard(other.content);
    }
    auto encoded = encode(other, range);
    for (int i = 0; i < 8; ++i) encoded[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(claimed >> (8 * i));
    EXPECT_FALSE(decode(stored.outboard.root, range, encoded));
  }
}

TEST(RangeProof, WrongRootIsDetected) {
  const auto stored = make_content(50'000);
  const ByteRange range{0, 50'000};
  auto root = stored.outboard.root;
  root[0] ^= 1;
  EXPECT_EQ(decode(root, range, encode(stored, range)).error().code, ProofErrc::hash_mismatch);
}

TEST(RangeProof, GroupsAreNotMovable) {
  // The chunk counter binds a group to its offset: group 0's proof and bytes
  // do not verify as group 1.
  const auto stored = make_content(3 * kGroupBytes);
  const ByteRange first{0, kGroupBytes};
  const ByteRange second{kGroupBytes, kGroupBytes};
  EXPECT_FALSE(decode(stored.outboard.root, second, encode(stored, first)));
  // Swapping the bytes of two groups inside a whole-content encoding fails too.
  const ByteRange all{0, 3 * kGroupBytes};
  auto encoded = encode(stored, all);
  const std::size_t first_group_at = 8 + 2 * kPairBytes;
  std::swap_ranges(encoded.begin() + first_group_at, encoded.begin() + first_group_at + kGroupBytes,
                   encoded.begin() + first_group_at + kGroupBytes);
  EXPECT_FALSE(decode(stored.outboard.root, all, encoded));
}

TEST(RangeProof, UnalignedOffsetIsRefused) {
  const auto stored = make_content(50'000);
  auto view = OutboardView::open(stored.outboard.bytes, 50'000);
  EXPECT_EQ(encode_range(stored.content, *view, {100, 10}).error().code, ProofErrc::bad_range);
  RangeDecoder decoder(stored.outboard.root, {100, 10});
  const auto encoded = encode(stored, {0, 10});
  EXPECT_EQ(decoder.feed(encoded).error().code, ProofErrc::bad_range);
  // Failed decoders stay failed.
  EXPECT_FALSE(decoder.feed({}));
}

}  // namespace
}  // namespace taho::content
