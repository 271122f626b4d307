// `taho config`: where the config file is and the effective value of every
// key with its source; `get KEY`, `set KEY VALUE` and `keys` (the schema).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iostream>
#include <memory>

#include "cli/command.hpp"
#include "config/ascii_case.hpp"
#include "config/config.hpp"
#include "config/config_file.hpp"
#include "config/schema.hpp"

namespace taho::cli {
namespace {

struct ConfigFlags {
  std::string key;
  std::vector<std::string> values;  // several are joined into one comma-separated list
};

struct Loaded {
  config::Paths paths;
  config::Config config;
};

nlohmann::ordered_json to_json(const config::Value& value) {
  return std::visit([](const auto& held) { return nlohmann::ordered_json(held); }, value);
}

// "(default)", "(/x/config.toml:3)", "(env TAHO__MESH__MDNS)", "(flag --no-mdns)".
std::string describe_source(const config::Source& source) {
  switch (source.kind) {
    case config::Source::Kind::default_value: return "(default)";
    case config::Source::Kind::file: return "(" + source.where + ")";
    case config::Source::Kind::env: return "(env " + source.where + ")";
    case config::Source::Kind::flag: return "(flag " + source.where + ")";
  }
  return "";
}

Result<config::Paths> paths_of(const Context& context, const config::Environment& env) {
  return config::resolve_paths(env, context.global.home);
}

// The effective configuration, or the problems on stderr and nothing.
std::optional<Loaded> load_effective(const Context& context, std::string_view command) {
  const auto env = config::process_environment();
  auto paths = paths_of(context, env);
  if (!paths) {
    std::cerr << command << ": " << paths.error().text << "\n";
    return std::nullopt;
  }
  auto overrides = config::parse_set_flags(context.global.config_sets);
  if (!overrides) {
    std::cerr << config::describe(overrides.error());
    return std::nullopt;
  }
  auto loaded = config::load(*paths, env, *overrides);
  if (!loaded) {
    std::cerr << config::describe(loaded.error());
    std::cerr << command << ": the configuration has errors (config file: " << paths->config_file.string() << ")\n";
    return std::nullopt;
  }
  return Loaded{*paths, std::move(*loaded)};
}

int run_show(const Context& context) {
  const auto loaded = load_effective(context, "taho config");
  if (!loaded) return kExitUsage;
  const auto& [paths, config] = *loaded;
  std::error_code ignored;
  const bool file_exists = std::filesystem::exists(paths.config_file, ignored);

  if (context.global.json) {
    // Schema order, as in the text output and the default file.
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const auto& entry : config.entries) {
      values[entry.key] = {{"value", to_json(entry.value)},
                           {"source", std::string(config::to_string(entry.source.kind))},
                           {"where", entry.source.where}};
    }
    const nlohmann::ordered_json answer = {{"config_file", paths.config_file.string()},
                                   {"config_file_exists", file_exists},
                                   {"data_dir", paths.data_dir.string()},
                                   {"values", values}};
    std::cout << answer.dump(2) << "\n";
    return kExitOk;
  }

  std::cout << "config file: " << paths.config_file.string() << (file_exists ? "" : " (not created yet)") << "\n";
  std::cout << "data dir:    " << paths.data_dir.string() << "\n\n";
  std::size_t key_width = 0;
  for (const auto& entry : config.entries) key_width = std::max(key_width, entry.key.size());
  for (const auto& entry : config.entries) {
    const auto key = entry.key + std::string(key_width - entry.key.size(), ' ');
    std::cout << key << " = " << config::to_toml(entry.value) << "   " << describe_source(entry.source) << "\n";
  }
  return kExitOk;
}

int run_get(const Context& context, const ConfigFlags& flags) {
  const auto loaded = load_effective(context, "taho config get");
  if (!loaded) return kExitUsage;
  const auto key = config::ascii_lowercase(flags.key);
  const auto* entry = loaded->config.find(key);
  if (entry == nullptr) {
    std::cerr << "taho config get: " << config::unknown_key_message(key) << "\n";
    return kExitUsage;
  }
  if (context.global.json) {
    std::cout << to_json(entry->value).dump() << "\n";
  } else {
    std::cout << config::to_text(entry->value) << "\n";
  }
  return kExitOk;
}

int run_set(const Context& context, const ConfigFlags& flags) {
  const auto env = config::process_environment();
  auto paths = paths_of(context, env);
  if (!paths) {
    std::cerr << "taho config set: " << paths.error().text << "\n";
    return kExitUsage;
  }
  std::string value;
  for (const auto& part : flags.values) value += (value.empty() ? "" : ",") + part;
  auto change = config::set_in_file(*paths, flags.key, value);
  if (!change) {
    std::cerr << "taho config set: " << change.error().text << (change.error().text.ends_with('\n') ? "" : "\n");
    return kExitUsage;
  }
  const auto* spec = config::find_key(change->key);
  const std::string before = change->before.value_or(std::string(spec->default_toml));

  if (context.global.json) {
    std::cout << nlohmann::ordered_json{{"config_file", paths->config_file.string()},
                                {"key", change->key},
                                {"before", before},
                                {"before_was_default", !change->before.has_value()},
                                {"after", change->after}}
                     .dump()
              << "\n";
  } else {
    std::cout << change->key << ": " << before << (change->before ? "" : " (default)") << " -> " << change->after
              << "   (" << paths->config_file.string() << ")\n";
  }
  // The file changed, but a variable or flag may still decide the value.
  auto overrides = config::parse_set_flags(context.global.config_sets);
  if (overrides) {
    if (auto effective = config::load(*paths, env, *overrides)) {
      const auto* entry = effective->find(change->key);
      if (entry->source.kind == config::Source::Kind::env || entry->source.kind == config::Source::Kind::flag) {
        std::cerr << "note: " << entry->source.where << " overrides the file; effective value is "
                  << config::to_toml(entry->value) << "\n";
      }
    }
  }
  return kExitOk;
}

int run_keys(const Context& context) {
  const auto defaults = config::defaults();
  nlohmann::ordered_json keys = nlohmann::ordered_json::array();
  for (const auto& spec : config::schema()) {
    const auto key = spec.key();
    const auto env = spec.env_name();
    const auto& default_value = defaults.find(key)->value;
    if (context.global.json) {
      keys.push_back({{"key", key}, {"type", spec.type}, {"default", to_json(default_value)}, {"env", env},
                      {"doc", spec.doc}});
    } else {
      std::cout << key << " = " << config::to_toml(default_value) << "\n"
                << "    " << spec.doc << "\n"
                << "    " << spec.type << "; env " << env << "\n";
    }
  }
  if (context.global.json) std::cout << keys.dump(2) << "\n";
  return kExitOk;
}

}  // namespace

void register_config_command(CLI::App& app, Context& context) {
  auto flags = std::make_shared<ConfigFlags>();
  auto* command = app.add_subcommand(
      "config", "Show the config file's path and every effective value with its source (file, env, flag)");
  command->require_subcommand(0, 1);

  auto* get = command->add_subcommand("get", "Print one effective value, e.g. `taho config get mesh.min_peers`");
  get->add_option("key", flags->key, "SECTION.KEY")->required();
  get->callback([&context, flags] { context.action = [&context, flags] { return run_get(context, *flags); }; });

  auto* set = command->add_subcommand(
      "set", "Validate a value and write it to the config file, keeping its comments");
  set->add_option("key", flags->key, "SECTION.KEY")->required();
  set->add_option("value", flags->values, "The value; lists comma-separated or as several arguments")
      ->required()
      ->expected(1, -1);
  set->callback([&context, flags] { context.action = [&context, flags] { return run_set(context, *flags); }; });

  auto* keys = command->add_subcommand("keys", "List every config key with its type, default and doc");
  keys->callback([&context] { context.action = [&context] { return run_keys(context); }; });

  command->callback([&context, command] {
    if (command->get_subcommands().empty()) context.action = [&context] { return run_show(context); };
  });
}

}  // namespace taho::cli
