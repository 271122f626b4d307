#include "config/paths.hpp"

#include <gtest/gtest.h>

namespace taho::config {
namespace {

TEST(Paths, TahoHomeHoldsEverything) {
  const auto paths = resolve_paths({{"TAHO_HOME", "/srv/taho"}, {"HOME", "/home/me"}}, std::nullopt);
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->config_file, "/srv/taho/config.toml");
  EXPECT_EQ(paths->data_dir, "/srv/taho");
}

TEST(Paths, HomeFlagBeatsTahoHome) {
  const auto paths = resolve_paths({{"TAHO_HOME", "/srv/taho"}}, std::string("/tmp/other"));
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->config_file, "/tmp/other/config.toml");
  EXPECT_EQ(paths->data_dir, "/tmp/other");
}

TEST(Paths, RelativeHomeBecomesAbsolute) {
  const auto paths = resolve_paths({}, std::string("relative/home"));
  ASSERT_TRUE(paths.has_value());
  EXPECT_TRUE(paths->data_dir.is_absolute());
  EXPECT_EQ(paths->data_dir, (std::filesystem::current_path() / "relative/home").lexically_normal());
}

TEST(Paths, EmptyHomeFlagIsAnError) { EXPECT_FALSE(resolve_paths({}, std::string("")).has_value()); }

TEST(Paths, DefaultsUnderHome) {
  const auto paths = resolve_paths({{"HOME", "/home/me"}}, std::nullopt);
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->config_file, "/home/me/.config/taho/config.toml");
  EXPECT_EQ(paths->data_dir, "/home/me/.local/share/taho");
}

TEST(Paths, XdgDirectoriesWin) {
  const auto paths = resolve_paths(
      {{"HOME", "/home/me"}, {"XDG_CONFIG_HOME", "/cfg"}, {"XDG_DATA_HOME", "/data"}}, std::nullopt);
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->config_file, "/cfg/taho/config.toml");
  EXPECT_EQ(paths->data_dir, "/data/taho");
}

TEST(Paths, EmptyOrRelativeXdgValuesAreIgnored) {
  const auto paths = resolve_paths(
      {{"HOME", "/home/me"}, {"XDG_CONFIG_HOME", "relative"}, {"XDG_DATA_HOME", ""}, {"TAHO_HOME", ""}},
      std::nullopt);
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->config_file, "/home/me/.config/taho/config.toml");
  EXPECT_EQ(paths->data_dir, "/home/me/.local/share/taho");
}

TEST(Paths, NoHomeAtAllIsAnError) {
  const auto paths = resolve_paths({}, std::nullopt);
  ASSERT_FALSE(paths.has_value());
  EXPECT_NE(paths.error().text.find("TAHO_HOME"), std::string::npos);
}

TEST(Paths, XdgAloneIsEnoughWithoutHome) {
  const auto paths = resolve_paths({{"XDG_CONFIG_HOME", "/cfg"}, {"XDG_DATA_HOME", "/data"}}, std::nullopt);
  ASSERT_TRUE(paths.has_value());
  EXPECT_EQ(paths->data_dir, "/data/taho");
}

}  // namespace
}  // namespace taho::config
