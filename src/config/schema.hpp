// The table of every configuration key. Adding a key is one line in
// schema.cpp (plus its field in Config): its name, type, default, validator
// and the one-line doc that the default file and `taho config keys` show.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace taho::config {

// Why a value was refused, and where inside it (a list item on its own line).
struct Problem {
  Errc code = Errc::bad_value;
  std::string text;
  std::optional<std::uint32_t> line;  // overrides the key's line in file messages
};

struct KeySpec {
  std::string_view section;       // "mesh"
  std::string_view name;          // "min_peers"
  std::string type;               // "integer, from 0 to 10000", for docs
  std::string_view default_toml;  // the default as a TOML literal: "4", "\"1s\"", "[]"
  std::string_view doc;           // one line

  // Each parses, validates and stores into `config`; nullopt means accepted.
  std::function<std::optional<Problem>(const toml::node&, Config&)> store_toml;
  std::function<std::optional<Problem>(std::string_view, Config&)> store_text;
  // The field's current value in display form.
  std::function<Value(const Config&)> read;

  std::string key() const;       // "mesh.min_peers"
  std::string env_name() const;  // "TAHO__MESH__MIN_PEERS"
};

// A rule across keys, checked after every layer is applied.
struct KeyRelation {
  std::string_view key;      // reported against this key's source...
  std::string_view other;    // ...or this one's when it was set by a later layer
  std::function<std::optional<std::string>(const Config&)> check;
};

std::span<const KeySpec> schema();
std::span<const KeyRelation> key_relations();
std::span<const std::string_view> section_names();

const KeySpec* find_key(std::string_view section, std::string_view name);
const KeySpec* find_key(std::string_view dotted_key);

}  // namespace taho::config
