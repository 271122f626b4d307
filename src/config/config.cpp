#include "config/config.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cassert>
#include <fstream>
#include <sstream>

#include "config/ascii_case.hpp"
#include "config/config_file.hpp"
#include "config/schema.hpp"

namespace taho::config {
namespace {

constexpr std::string_view kEnvPrefix = "TAHO__";
constexpr std::string_view kEnvSeparator = "__";

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::string did_you_mean(const std::vector<std::string>& candidates) {
  if (candidates.empty()) return "";
  std::string text = " (did you mean ";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == candidates.size() ? " or " : ", ") + candidates[i];
  }
  return text + "?)";
}

// The index of a spec in schema(), to keep per-key state beside the table.
std::size_t index_of(const KeySpec& spec) { return static_cast<std::size_t>(&spec - schema().data()); }

// One load: the layers write into `config`, remembering each key's source,
// and every problem becomes an error with its location.
class Loader {
 public:
  Loader() : sources_(schema().size()) {
    for (const auto& spec : schema()) {
      // The defaults are our own TOML literals; one that does not parse is our bug.
      auto parsed = toml::parse("value = " + std::string(spec.default_toml));
      const auto problem = spec.store_toml(*parsed.get("value"), config_);
      assert(!problem && "a schema default does not pass its own key's checks");
      if (problem) __builtin_trap();
    }
  }

  void apply_file(std::string_view text, const std::string& file_name) {
    toml::table root;
    try {
      root = toml::parse(text, file_name);
    } catch (const toml::parse_error& error) {
      const auto& begin = error.source().begin;
      add(Errc::syntax, file_name + ":" + std::to_string(begin.line) + ":" + std::to_string(begin.column) +
                            ": invalid TOML: " + std::string(error.description()));
      return;
    }
    std::vector<std::pair<std::uint32_t, ConfigError>> file_errors;
    auto located = [&](std::uint32_t line, Errc code, std::string text_after_location) {
      file_errors.emplace_back(line, ConfigError{code, file_name + ":" + std::to_string(line) + ": " +
                                                           std::move(text_after_location)});
    };
    for (const auto& [section_key, section_node] : root) {
      const std::string section(section_key.str());
      const auto line = section_key.source().begin.line;
      const auto* table = section_node.as_table();
      if (table == nullptr) {
        located(line, Errc::unknown_key,
                section + ": keys belong in a section such as [mesh]" + did_you_mean(close_keys(section)));
        continue;
      }
      const auto known = std::ranges::find(section_names(), section) != section_names().end();
      if (!known) {
        located(line, Errc::unknown_section,
                "[" + section + "]: unknown section" + did_you_mean(close_sections(section)));
        continue;
      }
      for (const auto& [name_key, node] : *table) {
        const std::string name(name_key.str());
        const auto key_line = name_key.source().begin.line;
        const auto where = "[" + section + "] " + name;
        const KeySpec* spec = find_key(section, name);
        if (spec == nullptr) {
          located(key_line, Errc::unknown_key,
                  where + ": unknown key" + did_you_mean(close_keys(section + "." + name)));
          continue;
        }
        if (auto problem = spec->store_toml(node, config_)) {
          located(problem->line.value_or(key_line), problem->code, where + ": " + problem->text);
          continue;
        }
        sources_[index_of(*spec)] = {Source::Kind::file, file_name + ":" + std::to_string(key_line)};
      }
    }
    // toml++ iterates keys in sorted order; report in file order.
    std::stable_sort(file_errors.begin(), file_errors.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [line, error] : file_errors) errors_.push_back(std::move(error));
  }

  void apply_env(const Environment& env) {
    // Several variables may name one key (case, the fabric alias): fine when
    // they agree, an error when they do not.
    std::vector<std::optional<std::pair<std::string, std::string>>> chosen(schema().size());
    for (const auto& [variable, value] : env) {
      if (ascii_uppercase(variable.substr(0, std::min(variable.size(), kEnvPrefix.size()))) != kEnvPrefix) continue;
      const std::string_view rest = std::string_view(variable).substr(kEnvPrefix.size());
      const auto separator = rest.find(kEnvSeparator);
      if (separator == std::string_view::npos || separator == 0 || separator + kEnvSeparator.size() >= rest.size()) {
        add(Errc::unknown_key, variable + ": not a config variable; expected TAHO__<SECTION>__<KEY>");
        continue;
      }
      std::string section = ascii_lowercase(rest.substr(0, separator));
      if (section == "fabric") section = "mesh";  // the fabric's old name (DESIGN.md §6)
      const std::string name = ascii_lowercase(rest.substr(separator + kEnvSeparator.size()));
      const KeySpec* spec = find_key(section, name);
      if (spec == nullptr) {
        std::vector<std::string> suggestions;
        for (const auto& key : close_keys(section + "." + name)) suggestions.push_back(find_key(key)->env_name());
        add(Errc::unknown_key, variable + ": unknown config variable" + did_you_mean(suggestions));
        continue;
      }
      auto& slot = chosen[index_of(*spec)];
      if (slot && slot->second != value) {
        add(Errc::bad_value, variable + ": conflicts with " + slot->first + " (both set " + spec->key() + ")");
        continue;
      }
      if (!slot) slot.emplace(variable, value);
    }
    for (const auto& spec : schema()) {
      const auto& slot = chosen[index_of(spec)];
      if (!slot) continue;
      if (auto problem = spec.store_text(slot->second, config_)) {
        add(problem->code, slot->first + ": " + problem->text);
        continue;
      }
      sources_[index_of(spec)] = {Source::Kind::env, slot->first};
    }
  }

  void apply_overrides(std::span<const Override> overrides) {
    for (const auto& override_value : overrides) {
      const KeySpec* spec = find_key(override_value.key);
      if (spec == nullptr) {
        add(Errc::unknown_key, override_value.origin + ": " + unknown_key_message(override_value.key));
        continue;
      }
      if (auto problem = spec->store_text(override_value.value, config_)) {
        add(problem->code, override_value.origin + ": " + problem->text);
        continue;
      }
      sources_[index_of(*spec)] = {Source::Kind::flag, override_value.origin};
    }
  }

  Expected<Config, ConfigErrors> finish() {
    for (const auto& relation : key_relations()) {
      const auto problem = relation.check(config_);
      if (!problem) continue;
      const auto& key_source = sources_[index_of(*find_key(relation.key))];
      const auto& other_source = sources_[index_of(*find_key(relation.other))];
      const auto& blamed = other_source.kind > key_source.kind ? other_source : key_source;
      add(Errc::bad_value, blamed.where + ": " + *problem);
    }
    if (!errors_.empty()) return unexpected(std::move(errors_));
    for (const auto& spec : schema()) {
      config_.entries.push_back({spec.key(), spec.read(config_), sources_[index_of(spec)]});
    }
    return std::move(config_);
  }

 private:
  static std::vector<std::string> close_sections(std::string_view section) {
    std::vector<std::string> close;
    for (const auto& name : section_names()) {
      if (edit_distance(section, name) <= 2) close.push_back("[" + std::string(name) + "]");
    }
    return close;
  }

  void add(Errc code, std::string detail) { errors_.push_back(ConfigError{code, std::move(detail)}); }

  Config config_;
  std::vector<Source> sources_;
  ConfigErrors errors_;
};

}  // namespace

std::string_view to_string(Source::Kind kind) {
  switch (kind) {
    case Source::Kind::default_value: return "default";
    case Source::Kind::file: return "file";
    case Source::Kind::env: return "env";
    case Source::Kind::flag: return "flag";
  }
  return "default";
}

const Entry* Config::find(std::string_view key) const {
  for (const auto& entry : entries) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

std::string describe(const ConfigErrors& errors) {
  std::string text;
  for (const auto& error : errors) text += error.detail + "\n";
  return text;
}

Config defaults() {
  auto config = Loader().finish();
  assert(config.has_value());
  return std::move(config).value();
}

Expected<Config, ConfigErrors> load_text(std::string_view file_text, const std::string& file_name,
                                         const Environment& env, std::span<const Override> overrides) {
  Loader loader;
  loader.apply_file(file_text, file_name);
  loader.apply_env(env);
  loader.apply_overrides(overrides);
  return loader.finish();
}

Expected<Config, ConfigErrors> load(const Paths& paths, const Environment& env,
                                    std::span<const Override> overrides) {
  auto text = read_config_file(paths.config_file);
  if (!text) return unexpected(ConfigErrors{ConfigError{Errc::io, text.error().text}});
  Loader loader;
  if (*text) loader.apply_file(**text, paths.config_file.string());
  loader.apply_env(env);
  loader.apply_overrides(overrides);
  return loader.finish();
}

Expected<std::vector<Override>, ConfigErrors> parse_set_flags(std::span<const std::string> arguments) {
  std::vector<Override> overrides;
  ConfigErrors errors;
  for (const auto& argument : arguments) {
    const auto equals = argument.find('=');
    if (equals == std::string::npos || equals == 0) {
      errors.push_back({Errc::unknown_key, "--set " + argument + ": expected SECTION.KEY=VALUE"});
      continue;
    }
    overrides.push_back(
        {ascii_lowercase(argument.substr(0, equals)), argument.substr(equals + 1), "--set " + argument});
  }
  if (!errors.empty()) return unexpected(std::move(errors));
  return overrides;
}

std::string unknown_key_message(std::string_view key) {
  return "unknown key \"" + std::string(key) + "\"" + did_you_mean(close_keys(key));
}

Result<std::string> get(const Config& config, std::string_view key) {
  if (const auto* entry = config.find(key)) return to_text(entry->value);
  return fail(unknown_key_message(key));
}

std::vector<std::string> close_keys(std::string_view key) {
  const std::string wanted = ascii_lowercase(key);
  const auto dot = wanted.find('.');
  const std::string_view bare =
      dot == std::string::npos ? std::string_view(wanted) : std::string_view(wanted).substr(dot + 1);
  std::vector<std::pair<std::size_t, std::string>> ranked;
  for (const auto& spec : schema()) {
    const auto full = spec.key();
    // A missing or wrong section counts as close when the name matches; a
    // cut-off name ("content.cache") is close to the whole one.
    std::size_t distance = std::min(edit_distance(wanted, full), edit_distance(bare, spec.name) + 1);
    if (bare.size() >= 3 && spec.name.starts_with(bare)) distance = std::min<std::size_t>(distance, 1);
    const std::size_t allowed = std::max<std::size_t>(2, spec.name.size() / 3);
    if (distance <= allowed) ranked.emplace_back(distance, full);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  // Only the closest: "min_peer" suggests min_peers, not also max_peers.
  std::vector<std::string> keys;
  constexpr std::size_t suggestions_max = 3;
  for (const auto& [distance, full] : ranked) {
    if (keys.size() == suggestions_max || distance > ranked.front().first) break;
    keys.push_back(full);
  }
  return keys;
}

}  // namespace taho::config
