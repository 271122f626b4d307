#include "api/byte_range_header.hpp"

#include <gtest/gtest.h>

namespace taho::api {
namespace {

using Kind = RangeRequest::Kind;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

RangeRequest parsed(std::string_view value) {
  auto range = parse_range_header(value);
  EXPECT_TRUE(range.has_value()) << value << ": " << (range ? "" : range.error().detail);
  EXPECT_TRUE(range && range->has_value()) << value;
  return range && *range ? **range : RangeRequest{};
}

RangeHeaderErrc refused(std::string_view value) {
  auto range = parse_range_header(value);
  EXPECT_FALSE(range.has_value()) << value;
  return range ? RangeHeaderErrc{} : range.error().code;
}

TEST(RangeHeader, ParsesTheThreeForms) {
  EXPECT_EQ(parsed("bytes=0-499"), (RangeRequest{.kind = Kind::from_to, .first = 0, .last = 499}));
  EXPECT_EQ(parsed("bytes=9500-"), (RangeRequest{.kind = Kind::from, .first = 9500}));
  EXPECT_EQ(parsed("bytes=-500"), (RangeRequest{.kind = Kind::suffix, .suffix_length = 500}));
  EXPECT_EQ(parsed("bytes=7-7"), (RangeRequest{.kind = Kind::from_to, .first = 7, .last = 7}));
}

TEST(RangeHeader, UnitIsCaseInsensitiveAndSpacesAroundAreAllowed) {
  EXPECT_EQ(parsed("  Bytes = 1-2 "), (RangeRequest{.kind = Kind::from_to, .first = 1, .last = 2}));
  EXPECT_EQ(parsed("BYTES=\t5-"), (RangeRequest{.kind = Kind::from, .first = 5}));
  // Empty list elements are allowed by the list syntax.
  EXPECT_EQ(parsed("bytes=, 3-4 ,"), (RangeRequest{.kind = Kind::from_to, .first = 3, .last = 4}));
}

TEST(RangeHeader, OtherUnitsAreIgnored) {
  auto range = parse_range_header("items=0-5");
  ASSERT_TRUE(range.has_value());
  EXPECT_FALSE(range->has_value());
}

TEST(RangeHeader, MalformedValuesAreRefused) {
  for (const char* value : {"", "bytes", "bytes=", "bytes=,", "bytes=-", "bytes=abc", "bytes=1", "bytes=1-2-3",
                            "bytes=a-5", "bytes=5-b", "bytes=+1-2", "bytes=1 -2", "bytes=1- 2", "bytes=-x",
                            "bytes=-1-2", "bytes=10-9", "bytes=0x10-"}) {
    EXPECT_EQ(refused(value), RangeHeaderErrc::malformed) << value;
  }
  EXPECT_EQ(refused("bytes=" + std::string(kRangeHeaderCharsMax, '1') + "-"), RangeHeaderErrc::malformed);
}

TEST(RangeHeader, SeveralRangesAreRefused) {
  EXPECT_EQ(refused("bytes=0-1,5-9"), RangeHeaderErrc::multiple_ranges);
  EXPECT_EQ(refused("bytes=0-1, -5"), RangeHeaderErrc::multiple_ranges);
}

TEST(RangeHeader, HugePositionsSaturateInsteadOfOverflowing) {
  EXPECT_EQ(parsed("bytes=0-99999999999999999999999"), (RangeRequest{.kind = Kind::from_to, .first = 0, .last = kMax}));
  EXPECT_EQ(parsed("bytes=18446744073709551616-"), (RangeRequest{.kind = Kind::from, .first = kMax}));
  EXPECT_EQ(parsed("bytes=18446744073709551615-"), (RangeRequest{.kind = Kind::from, .first = kMax}));
  EXPECT_EQ(parsed("bytes=18446744073709551614-"), (RangeRequest{.kind = Kind::from, .first = kMax - 1}));
}

void expect_range(std::optional<content::ByteRange> range, std::uint64_t offset, std::uint64_t length) {
  ASSERT_TRUE(range.has_value());
  EXPECT_EQ(range->offset, offset);
  EXPECT_EQ(range->length, length);
}

TEST(RangeHeader, ResolvesAgainstTheSize) {
  expect_range(resolve_range(parsed("bytes=0-499"), 1000), 0, 500);
  expect_range(resolve_range(parsed("bytes=500-5000"), 1000), 500, 500);  // last clamped to the end
  expect_range(resolve_range(parsed("bytes=999-"), 1000), 999, 1);
  expect_range(resolve_range(parsed("bytes=-1"), 1000), 999, 1);
  expect_range(resolve_range(parsed("bytes=-1000"), 1000), 0, 1000);
  expect_range(resolve_range(parsed("bytes=-5000"), 1000), 0, 1000);  // a longer suffix is the whole
  expect_range(resolve_range(parsed("bytes=0-99999999999999999999"), 10), 0, 10);
}

TEST(RangeHeader, UnsatisfiableRanges) {
  EXPECT_FALSE(resolve_range(parsed("bytes=1000-"), 1000));
  EXPECT_FALSE(resolve_range(parsed("bytes=1000-2000"), 1000));
  EXPECT_FALSE(resolve_range(parsed("bytes=-0"), 1000));
  EXPECT_FALSE(resolve_range(parsed("bytes=18446744073709551615-"), 1000));
  // Empty content has no byte to select.
  EXPECT_FALSE(resolve_range(parsed("bytes=0-"), 0));
  EXPECT_FALSE(resolve_range(parsed("bytes=-5"), 0));
}

TEST(RangeHeader, FetchRangeCoversWholeGroups) {
  constexpr std::uint64_t kGroup = 16 * 1024;
  expect_range(fetch_range_of(parsed("bytes=0-0")), 0, kGroup);
  expect_range(fetch_range_of(parsed("bytes=100-200")), 0, kGroup);
  expect_range(fetch_range_of(parsed("bytes=16383-16384")), 0, 2 * kGroup);
  expect_range(fetch_range_of(parsed("bytes=16384-32767")), kGroup, kGroup);
  expect_range(fetch_range_of(parsed("bytes=40000-")), 2 * kGroup, kMax - 2 * kGroup);
  expect_range(fetch_range_of(parsed("bytes=0-18446744073709551615")), 0, kMax);
  EXPECT_FALSE(fetch_range_of(parsed("bytes=-10")).has_value());
}

TEST(RangeHeader, ContentRangeValues) {
  EXPECT_EQ(content_range_value({0, 500}, 1000), "bytes 0-499/1000");
  EXPECT_EQ(content_range_value({999, 1}, 1000), "bytes 999-999/1000");
  EXPECT_EQ(unsatisfied_range_value(1000), "bytes */1000");
}

}  // namespace
}  // namespace taho::api
