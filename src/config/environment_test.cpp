#include "config/environment.hpp"

#include <gtest/gtest.h>

namespace taho::config {
namespace {

TEST(Environment, SplitsAtTheFirstEquals) {
  const char* entries[] = {"A=1", "B=x=y", "EMPTY=", "NOEQUALS", "=nameless", nullptr};
  const auto env = environment_from(entries);
  EXPECT_EQ(env.size(), 3u);
  EXPECT_EQ(env.at("A"), "1");
  EXPECT_EQ(env.at("B"), "x=y");
  EXPECT_EQ(env.at("EMPTY"), "");
}

TEST(Environment, NullIsEmpty) { EXPECT_TRUE(environment_from(nullptr).empty()); }

TEST(Environment, LookupTreatsEmptyAsUnset) {
  const Environment env{{"SET", "v"}, {"EMPTY", ""}};
  EXPECT_EQ(lookup(env, "SET"), "v");
  EXPECT_EQ(lookup(env, "EMPTY"), std::nullopt);
  EXPECT_EQ(lookup(env, "MISSING"), std::nullopt);
}

}  // namespace
}  // namespace taho::config
