#include "config/field_codec.hpp"

#include <sstream>

namespace taho::config::codec {

std::string describe_node(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "string " + quote(node.as_string()->get());
    case toml::node_type::integer: return "integer " + std::to_string(node.as_integer()->get());
    case toml::node_type::floating_point: {
      std::ostringstream shown;
      shown << node.as_floating_point()->get();
      return "number " + shown.str();
    }
    case toml::node_type::boolean: return node.as_boolean()->get() ? "boolean true" : "boolean false";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time: return "a date/time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

Parsed<Multiaddr> Codec<Multiaddr>::from_text(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  if (!parsed) return bad_value(quote(text) + " is not a valid multiaddr: " + parsed.error().detail);
  return std::move(*parsed);
}

Value Codec<Multiaddr>::to_value(const Multiaddr& value) { return value.to_string(); }

Parsed<PeerId> Codec<PeerId>::from_text(std::string_view text) {
  auto parsed = PeerId::parse(text);
  if (!parsed) return bad_value(quote(text) + " is not a valid peer id: " + parsed.error().detail);
  return std::move(*parsed);
}

Value Codec<PeerId>::to_value(const PeerId& value) { return value.to_string(); }

}  // namespace taho::config::codec
