#include "config/schema.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace taho::config {
namespace {

TEST(Schema, KeysAreUniqueAndInKnownSections) {
  std::set<std::string> keys;
  std::set<std::string> env_names;
  for (const auto& spec : schema()) {
    EXPECT_TRUE(keys.insert(spec.key()).second) << spec.key();
    EXPECT_TRUE(env_names.insert(spec.env_name()).second) << spec.env_name();
    EXPECT_NE(std::ranges::find(section_names(), spec.section), section_names().end()) << spec.key();
    EXPECT_EQ(spec.name.find("__"), std::string_view::npos) << "would break TAHO__SECTION__KEY: " << spec.key();
    EXPECT_FALSE(spec.doc.empty()) << spec.key();
    EXPECT_FALSE(spec.type.empty()) << spec.key();
  }
  EXPECT_EQ(find_key("mesh.min_peers")->env_name(), "TAHO__MESH__MIN_PEERS");
}

TEST(Schema, SectionsAreContiguous) {
  // The default file opens each section once.
  std::vector<std::string_view> order;
  for (const auto& spec : schema()) {
    if (order.empty() || order.back() != spec.section) order.push_back(spec.section);
  }
  EXPECT_EQ(order, std::vector<std::string_view>(section_names().begin(), section_names().end()));
}

TEST(Schema, DefaultsPassTheirOwnChecksAsTextToo) {
  const Config defaults_config = defaults();
  for (const auto& spec : schema()) {
    Config scratch = defaults_config;
    const auto text = to_text(spec.read(defaults_config));
    EXPECT_EQ(spec.store_text(text, scratch), std::nullopt) << spec.key() << " = " << text;
    EXPECT_EQ(spec.read(scratch), spec.read(defaults_config)) << spec.key();
  }
}

TEST(Schema, FindKey) {
  EXPECT_EQ(find_key("mesh", "mdns")->key(), "mesh.mdns");
  EXPECT_EQ(find_key("mesh.mdns"), find_key("mesh", "mdns"));
  EXPECT_EQ(find_key("mesh"), nullptr);
  EXPECT_EQ(find_key("fabric.mdns"), nullptr);
  EXPECT_EQ(find_key(".mdns"), nullptr);
}

TEST(Schema, EveryKeyIsDocumented) {
  std::ifstream file(std::string(TAHO_SOURCE_DIR) + "/docs/configuration.md");
  ASSERT_TRUE(file) << "docs/configuration.md";
  std::ostringstream text;
  text << file.rdbuf();
  for (const auto& spec : schema()) {
    EXPECT_THAT(text.str(), ::testing::HasSubstr("| `" + spec.key() + "` |")) << "add it to docs/configuration.md";
  }
}

}  // namespace
}  // namespace taho::config
