#include "config/value.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

namespace taho::config {
namespace {

TEST(Value, TomlLiterals) {
  EXPECT_EQ(to_toml(Value{true}), "true");
  EXPECT_EQ(to_toml(Value{std::int64_t{-4}}), "-4");
  EXPECT_EQ(to_toml(Value{50.0}), "50.0");
  EXPECT_EQ(to_toml(Value{0.25}), "0.25");
  EXPECT_EQ(to_toml(Value{std::string("a\"b\\c\n")}), "\"a\\\"b\\\\c\\n\"");
  EXPECT_EQ(to_toml(Value{std::vector<std::string>{}}), "[]");
  EXPECT_EQ(to_toml(Value{std::vector<std::string>{"x", "y"}}), "[\"x\", \"y\"]");
}

TEST(Value, PlainText) {
  EXPECT_EQ(to_text(Value{false}), "false");
  EXPECT_EQ(to_text(Value{std::string("1s")}), "1s");
  EXPECT_EQ(to_text(Value{std::vector<std::string>{"x", "y"}}), "x,y");
  EXPECT_EQ(to_text(Value{1e20}), "1e+20");
}

TEST(Value, TomlLiteralsParseBack) {
  const Value values[] = {Value{std::int64_t{7}}, Value{3.5}, Value{1e20},
                          Value{std::string("tab\there \x01 \"q\"")}, Value{std::vector<std::string>{"a,b", "\\"}}};
  for (const auto& value : values) {
    const auto literal = to_toml(value);
    auto table = toml::parse("v = " + literal);
    const auto* node = table.get("v");
    ASSERT_NE(node, nullptr) << literal;
    if (const auto* text = std::get_if<std::string>(&value)) EXPECT_EQ(node->as_string()->get(), *text);
    if (const auto* number = std::get_if<double>(&value)) EXPECT_EQ(node->as_floating_point()->get(), *number);
    if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
      ASSERT_EQ(node->as_array()->size(), list->size());
      for (std::size_t i = 0; i < list->size(); ++i) EXPECT_EQ(node->as_array()->at(i).as_string()->get(), (*list)[i]);
    }
  }
}

}  // namespace
}  // namespace taho::config
