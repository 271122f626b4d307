// How each C++ field type of Config is read from TOML and from text
// (TAHO__ variables, --set), and shown as a Value. Used by schema.cpp to
// build one KeySpec per line; the codecs are the only place that knows the
// mapping between field types and user-visible syntax.
#pragma once

#include <toml++/toml.h>

#include <charconv>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "config/ascii_case.hpp"
#include "config/duration.hpp"
#include "config/host_port.hpp"
#include "config/schema.hpp"

namespace taho::config::codec {

template <class T>
using Parsed = Expected<T, Problem>;

inline Unexpected<Problem> wrong_type(std::string text) {
  return {Problem{Errc::wrong_type, std::move(text), std::nullopt}};
}
inline Unexpected<Problem> bad_value(std::string text) {
  return {Problem{Errc::bad_value, std::move(text), std::nullopt}};
}

inline std::string quote(std::string_view text) { return "\"" + std::string(text) + "\""; }

// "string \"four\"", "integer 4", "array", ... for "expected X, got Y".
std::string describe_node(const toml::node& node);

// A check on a parsed value: `hint` documents it ("≥ 0"), `test` returns
// the problem or nothing.
template <class T>
struct Check {
  std::string hint;
  std::function<std::optional<std::string>(const T&)> test;
};

template <class T>
struct Codec;

template <>
struct Codec<bool> {
  static constexpr std::string_view type = "boolean";
  static Parsed<bool> from_toml(const toml::node& node) {
    if (const auto* value = node.as_boolean()) return value->get();
    return wrong_type("expected true/false, got " + describe_node(node));
  }
  static Parsed<bool> from_text(std::string_view text) {
    const auto lower = ascii_lowercase(text);
    if (lower == "true") return true;
    if (lower == "false") return false;
    return wrong_type("expected true/false, got " + quote(text));
  }
  static Value to_value(bool value) { return value; }
};

template <std::unsigned_integral T>
struct Codec<T> {
  static constexpr std::string_view type = "integer";
  static Parsed<T> in_range(std::int64_t value) {
    if (value < 0) return bad_value("must be at least 0, got " + std::to_string(value));
    if (static_cast<std::uint64_t>(value) > std::numeric_limits<T>::max()) {
      return bad_value("must be at most " + std::to_string(std::numeric_limits<T>::max()) + ", got " +
                       std::to_string(value));
    }
    return static_cast<T>(value);
  }
  static Parsed<T> from_toml(const toml::node& node) {
    if (const auto* value = node.as_integer()) return in_range(value->get());
    return wrong_type("expected an integer, got " + describe_node(node));
  }
  static Parsed<T> from_text(std::string_view text) {
    std::int64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
      return wrong_type("expected an integer, got " + quote(text));
    }
    return in_range(value);
  }
  static Value to_value(T value) { return static_cast<std::int64_t>(value); }
};

template <>
struct Codec<double> {
  static constexpr std::string_view type = "number";
  static Parsed<double> finite(double value, std::string_view shown) {
    if (!std::isfinite(value)) return bad_value("expected a finite number, got " + std::string(shown));
    return value;
  }
  static Parsed<double> from_toml(const toml::node& node) {
    if (const auto* value = node.as_floating_point()) return finite(value->get(), describe_node(node));
    if (const auto* value = node.as_integer()) return static_cast<double>(value->get());
    return wrong_type("expected a number, got " + describe_node(node));
  }
  static Parsed<double> from_text(std::string_view text) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) {
      return wrong_type("expected a number, got " + quote(text));
    }
    return finite(value, quote(text));
  }
  static Value to_value(double value) { return value; }
};

template <>
struct Codec<std::string> {
  static constexpr std::string_view type = "string";
  static Parsed<std::string> from_toml(const toml::node& node) {
    if (const auto* value = node.as_string()) return value->get();
    return wrong_type("expected a string, got " + describe_node(node));
  }
  static Parsed<std::string> from_text(std::string_view text) { return std::string(text); }
  static Value to_value(const std::string& value) { return value; }
};

// Types written as one string with their own syntax.
template <class T>
struct TextCodec {
  static Parsed<T> from_toml(const toml::node& node) {
    if (const auto* value = node.as_string()) return Codec<T>::from_text(value->get());
    return wrong_type("expected " + std::string(Codec<T>::expected) + ", got " + describe_node(node));
  }
};

template <>
struct Codec<std::chrono::milliseconds> : TextCodec<std::chrono::milliseconds> {
  static constexpr std::string_view type = "duration";
  static constexpr std::string_view expected = "a duration string like \"500ms\", \"1s\" or \"2m\"";
  static Parsed<std::chrono::milliseconds> from_text(std::string_view text) {
    auto parsed = parse_duration(text);
    if (!parsed) return bad_value(parsed.error().text);
    return *parsed;
  }
  static Value to_value(std::chrono::milliseconds value) { return format_duration(value); }
};

template <>
struct Codec<HostPort> : TextCodec<HostPort> {
  static constexpr std::string_view type = "host:port";
  static constexpr std::string_view expected = "a \"HOST:PORT\" string";
  static Parsed<HostPort> from_text(std::string_view text) {
    auto parsed = parse_host_port(text);
    if (!parsed) return bad_value(parsed.error().text);
    return *parsed;
  }
  static Value to_value(const HostPort& value) { return value.to_string(); }
};

template <>
struct Codec<Multiaddr> : TextCodec<Multiaddr> {
  static constexpr std::string_view type = "multiaddr";
  static constexpr std::string_view expected = "a multiaddr string";
  static Parsed<Multiaddr> from_text(std::string_view text);
  static Value to_value(const Multiaddr& value);
};

// true, false or "auto"; in TAHO__ variables and --set: true, false, auto.
template <>
struct Codec<ServiceMode> {
  static constexpr std::string_view type = "true/false/\"auto\"";
  static Parsed<ServiceMode> from_toml(const toml::node& node) {
    if (const auto* value = node.as_boolean()) return value->get() ? ServiceMode::on : ServiceMode::off;
    if (const auto* value = node.as_string()) return from_text(value->get());
    return wrong_type("expected true, false or \"auto\", got " + describe_node(node));
  }
  static Parsed<ServiceMode> from_text(std::string_view text) {
    const auto lower = ascii_lowercase(text);
    if (lower == "auto") return ServiceMode::automatic;
    if (lower == "true") return ServiceMode::on;
    if (lower == "false") return ServiceMode::off;
    return wrong_type("expected true, false or \"auto\", got " + quote(text));
  }
  static Value to_value(ServiceMode value) {
    if (value == ServiceMode::automatic) return std::string("auto");
    return value == ServiceMode::on;
  }
};

template <>
struct Codec<PeerId> : TextCodec<PeerId> {
  static constexpr std::string_view type = "peer id";
  static constexpr std::string_view expected = "a peer id string";
  static Parsed<PeerId> from_text(std::string_view text);
  static Value to_value(const PeerId& value);
};

// Lists: a TOML array of strings, or comma-separated text. Each item is
// parsed and checked on its own so a bad one is named with its own line.
template <class Item>
struct ListCodec {
  static Parsed<Item> checked(Parsed<Item> item, const Check<Item>& check) {
    if (item && check.test) {
      if (auto problem = check.test(*item)) return bad_value(std::move(*problem));
    }
    return item;
  }
  static Parsed<std::vector<Item>> from_toml(const toml::node& node, const Check<Item>& check) {
    const auto* array = node.as_array();
    if (array == nullptr) return wrong_type("expected an array of strings, got " + describe_node(node));
    std::vector<Item> items;
    for (const auto& element : *array) {
      auto item = checked(Codec<Item>::from_toml(element), check);
      if (!item) {
        Problem problem = std::move(item).error();
        problem.line = element.source().begin.line;
        return Unexpected<Problem>{std::move(problem)};
      }
      items.push_back(std::move(*item));
    }
    return items;
  }
  static Parsed<std::vector<Item>> from_text(std::string_view text, const Check<Item>& check) {
    std::vector<Item> items;
    while (!text.empty()) {
      const auto comma = text.find(',');
      std::string_view part = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
      while (!part.empty() && std::isspace(static_cast<unsigned char>(part.front()))) part.remove_prefix(1);
      while (!part.empty() && std::isspace(static_cast<unsigned char>(part.back()))) part.remove_suffix(1);
      if (part.empty()) continue;  // "a,,b" and a trailing comma are harmless
      auto item = checked(Codec<Item>::from_text(part), check);
      if (!item) return Unexpected<Problem>{std::move(item).error()};
      items.push_back(std::move(*item));
    }
    return items;
  }
  static Value to_value(const std::vector<Item>& items) {
    std::vector<std::string> texts;
    for (const auto& item : items) texts.push_back(std::get<std::string>(Codec<Item>::to_value(item)));
    return texts;
  }
};

template <class T>
struct IsList : std::false_type {};
template <class Item>
struct IsList<std::vector<Item>> : std::true_type {
  using item = Item;
};

// What a schema line checks: the whole value, or each item of a list.
template <class T>
struct CheckFor {
  using type = Check<T>;
};
template <class Item>
struct CheckFor<std::vector<Item>> {
  using type = Check<Item>;
};

template <class T>
std::string type_name(const typename CheckFor<T>::type& check) {
  std::string name;
  if constexpr (IsList<T>::value) {
    name = "list of " + std::string(Codec<typename IsList<T>::item>::type) + "s";
  } else {
    name = std::string(Codec<T>::type);
  }
  return check.hint.empty() ? name : name + ", " + check.hint;
}

template <class T>
Parsed<T> parse_toml(const toml::node& node, const typename CheckFor<T>::type& check) {
  if constexpr (IsList<T>::value) {
    return ListCodec<typename IsList<T>::item>::from_toml(node, check);
  } else {
    auto value = Codec<T>::from_toml(node);
    if (value && check.test) {
      if (auto problem = check.test(*value)) return bad_value(std::move(*problem));
    }
    return value;
  }
}

template <class T>
Parsed<T> parse_text(std::string_view text, const typename CheckFor<T>::type& check) {
  if constexpr (IsList<T>::value) {
    return ListCodec<typename IsList<T>::item>::from_text(text, check);
  } else {
    auto value = Codec<T>::from_text(text);
    if (value && check.test) {
      if (auto problem = check.test(*value)) return bad_value(std::move(*problem));
    }
    return value;
  }
}

template <class T>
Value to_value(const T& value) {
  if constexpr (IsList<T>::value) {
    return ListCodec<typename IsList<T>::item>::to_value(value);
  } else {
    return Codec<T>::to_value(value);
  }
}

}  // namespace taho::config::codec
