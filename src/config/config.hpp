// The node's configuration: defaults < config file < TAHO__ environment <
// command-line flags (DESIGN.md §6). Every key is declared once in the
// schema (schema.cpp); `load` reads each layer, validates every value and
// reports all problems with where they came from.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "config/environment.hpp"
#include "config/host_port.hpp"
#include "config/paths.hpp"
#include "config/service_mode.hpp"
#include "config/value.hpp"

namespace taho::config {

// Where an effective value came from.
struct Source {
  enum class Kind { default_value, file, env, flag };
  Kind kind = Kind::default_value;
  // "default", "/home/me/.config/taho/config.toml:12", "TAHO__MESH__MDNS",
  // "--set mesh.mdns=false" or "--api-listen".
  std::string where = "default";
};

// "default", "file", "env" or "flag".
std::string_view to_string(Source::Kind kind);

// One key's effective value, for `taho config` and the API.
struct Entry {
  std::string key;  // "mesh.min_peers"
  Value value;
  Source source;
};

// The effective configuration. The member initializers are placeholders:
// the defaults live in the schema, so start from defaults() or load().
struct Config {
  struct Mesh {
    // Multiaddrs ending in /p2p/<peer id>, or /dnsaddr/<domain>[/p2p/<id>];
    // kept as text: the daemon skips bad entries (node/bootstrap_list.hpp).
    std::vector<std::string> bootstrap;
    std::vector<Multiaddr> listen;
    bool mdns = false;
    bool mdns_loopback = false;         // also run mDNS on loopback (tests on one machine)
    std::vector<Multiaddr> rendezvous;
    ServiceMode rendezvous_server = ServiceMode::automatic;
    std::string dht_protocol;
    ServiceMode dht_server = ServiceMode::automatic;
    std::uint32_t min_peers = 0;
    std::uint32_t max_peers = 0;        // >= min_peers
    std::chrono::milliseconds heartbeat{0};
    std::uint32_t max_event_bytes = 0;
    std::uint32_t event_rate_per_peer = 0;  // messages/s
  } mesh;
  struct Content {
    std::uint64_t cache_mb = 0;
    double max_store_gb = 0;
    std::chrono::milliseconds find_timeout{0};
    std::uint32_t serve_mbps_per_peer = 0;
  } content;
  struct Api {
    HostPort listen;
  } api;
  struct Services {
    std::vector<PeerId> trusted_deployers;  // empty: only ourselves
    std::uint32_t memory_mb = 0;
    std::chrono::milliseconds invoke_timeout{0};
  } services;
  struct Log {
    std::string level;  // trace, debug, info, warn, error or off (spdlog names)
  } log;

  // Every key in schema order with its effective value and source.
  std::vector<Entry> entries;

  const Entry* find(std::string_view key) const;
};

// A value given on the command line: `--set mesh.min_peers=8` or a dedicated
// flag such as `--api-listen`. Values use the environment syntax (lists
// comma-separated). `origin` names the flag in errors and in Source::where.
struct Override {
  std::string key;     // "mesh.min_peers"
  std::string value;   // "8"
  std::string origin;  // "--set mesh.min_peers=8", "--api-listen"
};

enum class Errc {
  syntax,           // the file is not valid TOML
  io,               // the file exists but cannot be read or written
  unknown_section,  // [foo] in the file
  unknown_key,      // a key no schema line declares (file, env, flag)
  wrong_type,       // e.g. a string where an integer belongs
  bad_value,        // right type, rejected by the key's validator
};

// One problem; `detail` is the whole message, starting with where it is:
// "/x/config.toml:12: [mesh] min_peers: expected an integer, got string \"four\"".
using ConfigError = Error<Errc>;
using ConfigErrors = std::vector<ConfigError>;

// All messages, one per line.
std::string describe(const ConfigErrors& errors);

// The defaults alone (what `load` returns for no file, no env, no flags).
Config defaults();

// Reads the file (a missing file is fine), the TAHO__ variables of `env`
// and `overrides` (later ones win), validates, and reports every problem.
Expected<Config, ConfigErrors> load(const Paths& paths, const Environment& env,
                                    std::span<const Override> overrides);

// The same from file text already in memory; `file_name` is used in messages.
Expected<Config, ConfigErrors> load_text(std::string_view file_text, const std::string& file_name,
                                         const Environment& env, std::span<const Override> overrides);

// Turns repeated `--set KEY=VALUE` arguments into overrides.
Expected<std::vector<Override>, ConfigErrors> parse_set_flags(std::span<const std::string> arguments);

// The effective value of "section.key" as plain text (lists comma-separated).
// An unknown key fails with a message naming close matches.
Result<std::string> get(const Config& config, std::string_view key);

// "unknown key \"mesh.min_peer\" (did you mean mesh.min_peers?)"
std::string unknown_key_message(std::string_view key);

// Known keys that look like `key` (typos, missing section), best first.
std::vector<std::string> close_keys(std::string_view key);

}  // namespace taho::config
