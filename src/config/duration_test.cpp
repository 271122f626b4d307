#include "config/duration.hpp"

#include <gtest/gtest.h>

namespace taho::config {
namespace {

using std::chrono::milliseconds;

TEST(Duration, ParsesEachUnit) {
  EXPECT_EQ(*parse_duration("500ms"), milliseconds{500});
  EXPECT_EQ(*parse_duration("1s"), milliseconds{1000});
  EXPECT_EQ(*parse_duration("2m"), milliseconds{120'000});
  EXPECT_EQ(*parse_duration("1h"), milliseconds{3'600'000});
  EXPECT_EQ(*parse_duration("0s"), milliseconds{0});
}

TEST(Duration, ParsesSums) {
  EXPECT_EQ(*parse_duration("1m30s"), milliseconds{90'000});
  EXPECT_EQ(*parse_duration("1s500ms"), milliseconds{1500});
}

TEST(Duration, RejectsMalformedText) {
  for (const char* text : {"", "1", "s", "1 s", "1.5s", "-1s", "1d", "1sec", "ms", "1s ", " 1s", "1S"}) {
    const auto parsed = parse_duration(text);
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_NE(parsed.error().text.find("expected a duration"), std::string::npos) << parsed.error().text;
  }
}

TEST(Duration, RejectsOverflow) {
  EXPECT_FALSE(parse_duration("99999999999999999999s").has_value());
  EXPECT_FALSE(parse_duration("999999999999h").has_value());
}

TEST(Duration, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration(milliseconds{0}), "0s");
  EXPECT_EQ(format_duration(milliseconds{10}), "10ms");
  EXPECT_EQ(format_duration(milliseconds{1500}), "1500ms");
  EXPECT_EQ(format_duration(milliseconds{1000}), "1s");
  EXPECT_EQ(format_duration(milliseconds{90'000}), "90s");
  EXPECT_EQ(format_duration(milliseconds{120'000}), "2m");
  EXPECT_EQ(format_duration(milliseconds{7'200'000}), "2h");
}

TEST(Duration, FormatParsesBack) {
  for (const long long ms : {1LL, 999LL, 1000LL, 61'000LL, 3'600'000LL, 3'601'000LL}) {
    EXPECT_EQ(*parse_duration(format_duration(milliseconds{ms})), milliseconds{ms});
  }
}

}  // namespace
}  // namespace taho::config
