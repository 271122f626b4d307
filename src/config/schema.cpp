#include "config/schema.hpp"

#include <array>
#include <sstream>

#include "config/ascii_case.hpp"
#include "config/field_codec.hpp"

namespace taho::config {
namespace {

using codec::Check;
using std::chrono::milliseconds;

// Binds one schema line to its Config field through the field's codec.
template <class Section, class T>
KeySpec key(Section Config::*section_field, T Section::*field, std::string_view section, std::string_view name,
            std::string_view default_toml, typename codec::CheckFor<T>::type check, std::string_view doc) {
  KeySpec spec;
  spec.section = section;
  spec.name = name;
  spec.type = codec::type_name<T>(check);
  spec.default_toml = default_toml;
  spec.doc = doc;
  spec.store_toml = [=](const toml::node& node, Config& config) -> std::optional<Problem> {
    auto parsed = codec::parse_toml<T>(node, check);
    if (!parsed) return std::move(parsed).error();
    (config.*section_field).*field = std::move(*parsed);
    return std::nullopt;
  };
  spec.store_text = [=](std::string_view text, Config& config) -> std::optional<Problem> {
    auto parsed = codec::parse_text<T>(text, check);
    if (!parsed) return std::move(parsed).error();
    (config.*section_field).*field = std::move(*parsed);
    return std::nullopt;
  };
  spec.read = [=](const Config& config) { return codec::to_value((config.*section_field).*field); };
  return spec;
}

template <class T>
Check<T> no_check() {
  return {};
}

template <std::unsigned_integral T>
Check<T> between(T low, T high) {
  return {"from " + std::to_string(low) + " to " + std::to_string(high),
          [low, high](const T& value) -> std::optional<std::string> {
            if (value >= low && value <= high) return std::nullopt;
            return "must be from " + std::to_string(low) + " to " + std::to_string(high) + ", got " +
                   std::to_string(value);
          }};
}

Check<double> positive() {
  return {"> 0", [](const double& value) -> std::optional<std::string> {
            if (value > 0) return std::nullopt;
            std::ostringstream shown;
            shown << value;
            return "must be greater than 0, got " + shown.str();
          }};
}

Check<milliseconds> duration_between(milliseconds low, milliseconds high) {
  const auto range = format_duration(low) + ".." + format_duration(high);
  return {range, [low, high, range](const milliseconds& value) -> std::optional<std::string> {
            if (value >= low && value <= high) return std::nullopt;
            return "must be within " + range + ", got \"" + format_duration(value) + "\"";
          }};
}

Check<std::string> one_of(std::vector<std::string> allowed) {
  std::string listed;
  for (const auto& item : allowed) listed += (listed.empty() ? "" : ", ") + item;
  return {"one of " + listed, [allowed, listed](const std::string& value) -> std::optional<std::string> {
            for (const auto& item : allowed) {
              if (item == value) return std::nullopt;
            }
            return "must be one of " + listed + ", got \"" + value + "\"";
          }};
}

// libp2p protocol ids: "/name/version", printable, no spaces.
Check<std::string> protocol_id() {
  constexpr std::size_t protocol_id_bytes_max = 128;
  return {"starts with /", [](const std::string& value) -> std::optional<std::string> {
            if (value.empty() || value.front() != '/') {
              return "must be a protocol id starting with '/', got \"" + value + "\"";
            }
            if (value.size() > protocol_id_bytes_max) {
              return "must be at most " + std::to_string(protocol_id_bytes_max) + " bytes long";
            }
            for (const char c : value) {
              if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) {
                return "must not contain spaces or control characters, got \"" + value + "\"";
              }
            }
            return std::nullopt;
          }};
}

// Bootstrap entries are checked by the daemon at start, which skips a bad
// one with a warning rather than refusing the whole configuration
// (node/bootstrap_list.hpp); the hint documents what it accepts.
Check<std::string> bootstrap_entry() {
  return {"each a multiaddr ending in /p2p/<peer id>, or /dnsaddr/<domain>; bad entries are skipped at start", {}};
}

// Rendezvous points are dialled by id: the address must say whom we reach.
Check<Multiaddr> ends_in_peer_id() {
  return {"each ending in /p2p/<peer id>", [](const Multiaddr& address) -> std::optional<std::string> {
            const auto& components = address.components();
            if (!components.empty() && components.back().protocol() == multiaddr::Protocol::p2p) return std::nullopt;
            return "\"" + address.to_string() + "\" must end in /p2p/<peer id>";
          }};
}

// The schema: one line per key. Keep this order: it is the order of the
// default file, of `taho config` and of the docs.
std::vector<KeySpec> build_schema() {
  using Mesh = Config::Mesh;
  using Content = Config::Content;
  using Api = Config::Api;
  using Services = Config::Services;
  using Log = Config::Log;
  return {
      key(&Config::mesh, &Mesh::bootstrap, "mesh", "bootstrap", "[]", bootstrap_entry(),
          "Peers to dial at start, e.g. \"/dns4/boot.example.org/tcp/4001/p2p/12D3KooW...\" or "
          "\"/dnsaddr/bootstrap.example.org\"."),
      key(&Config::mesh, &Mesh::listen, "mesh", "listen",
          R"(["/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1", "/ip4/0.0.0.0/tcp/4002/ws"])",
          no_check<Multiaddr>(), "Addresses to listen on (TCP, QUIC, WebSocket)."),
      key(&Config::mesh, &Mesh::mdns, "mesh", "mdns", "true", no_check<bool>(),
          "Discover peers on the local network with mDNS."),
      key(&Config::mesh, &Mesh::mdns_loopback, "mesh", "mdns_loopback", "false", no_check<bool>(),
          "Also run mDNS on loopback; for tests on one machine."),
      key(&Config::mesh, &Mesh::rendezvous, "mesh", "rendezvous", "[]", ends_in_peer_id(),
          "Rendezvous points to register with and discover peers through."),
      key(&Config::mesh, &Mesh::rendezvous_server, "mesh", "rendezvous_server", "\"auto\"", no_check<ServiceMode>(),
          "Serve as a rendezvous point for other peers: true, false, or \"auto\" = only while AutoNAT finds "
          "this node publicly reachable."),
      key(&Config::mesh, &Mesh::dht_protocol, "mesh", "dht_protocol", "\"/taho/kad/1.0.0\"", protocol_id(),
          "Kademlia DHT protocol id; \"/ipfs/kad/1.0.0\" joins the public IPFS DHT."),
      key(&Config::mesh, &Mesh::dht_server, "mesh", "dht_server", "\"auto\"", no_check<ServiceMode>(),
          "Answer DHT queries (server mode); false = client mode: query only, not announced in identify; "
          "\"auto\" = server only while AutoNAT finds this node publicly reachable."),
      key(&Config::mesh, &Mesh::min_peers, "mesh", "min_peers", "4", between<std::uint32_t>(0, 10'000),
          "Dial more peers while connected to fewer than this."),
      key(&Config::mesh, &Mesh::max_peers, "mesh", "max_peers", "64", between<std::uint32_t>(1, 10'000),
          "Close the least useful connections above this many peers (>= min_peers)."),
      key(&Config::mesh, &Mesh::heartbeat, "mesh", "heartbeat", "\"1s\"",
          duration_between(milliseconds{10}, milliseconds{600'000}),
          "Interval of the connection manager and gossip heartbeat."),
      key(&Config::mesh, &Mesh::max_event_bytes, "mesh", "max_event_bytes", "1048576",
          between<std::uint32_t>(1024, 4'000'000), "Largest event (gossip message) published or accepted, in bytes."),
      key(&Config::mesh, &Mesh::event_rate_per_peer, "mesh", "event_rate_per_peer", "1000",
          between<std::uint32_t>(1, 1'000'000),
          "Events per second accepted from one peer; beyond it they are dropped and the peer's score falls."),
      key(&Config::content, &Content::cache_mb, "content", "cache_mb", "100", no_check<std::uint64_t>(),
          "Memory for recently used content, in MiB."),
      key(&Config::content, &Content::max_store_gb, "content", "max_store_gb", "50.0", positive(),
          "Disk space the content store may use, in GiB."),
      key(&Config::content, &Content::find_timeout, "content", "find_timeout", "\"15s\"",
          duration_between(milliseconds{100}, milliseconds{3'600'000}),
          "How long a fetch looks for a holder of content before it fails as not found."),
      key(&Config::content, &Content::serve_mbps_per_peer, "content", "serve_mbps_per_peer", "0",
          no_check<std::uint32_t>(), "Upload bandwidth one peer may use fetching from us, in Mbit/s; 0: unlimited."),
      key(&Config::api, &Api::listen, "api", "listen", "\"127.0.0.1:9481\"", no_check<HostPort>(),
          "Local HTTP API address; port 0 picks a free port."),
      key(&Config::services, &Services::trusted_deployers, "services", "trusted_deployers", "[]",
          no_check<PeerId>(), "Peer ids allowed to deploy components here; empty: only this node."),
      key(&Config::services, &Services::memory_mb, "services", "memory_mb", "256",
          between<std::uint32_t>(1, 4096), "Memory limit of each component, in MiB (wasm32 allows 4096)."),
      key(&Config::services, &Services::invoke_timeout, "services", "invoke_timeout", "\"5s\"",
          duration_between(milliseconds{10}, milliseconds{3'600'000}),
          "How long a port invocation may take before it fails."),
      key(&Config::log, &Log::level, "log", "level", "\"info\"",
          one_of({"trace", "debug", "info", "warn", "error", "off"}), "Log level of the daemon."),
  };
}

}  // namespace

std::string KeySpec::key() const { return std::string(section) + "." + std::string(name); }

std::string KeySpec::env_name() const {
  return ascii_uppercase("TAHO__" + std::string(section) + "__" + std::string(name));
}

std::span<const KeySpec> schema() {
  static const std::vector<KeySpec> table = build_schema();
  return table;
}

std::span<const KeyRelation> key_relations() {
  static const std::vector<KeyRelation> relations = {
      {"mesh.max_peers", "mesh.min_peers",
       [](const Config& config) -> std::optional<std::string> {
         if (config.mesh.max_peers >= config.mesh.min_peers) return std::nullopt;
         return "max_peers (" + std::to_string(config.mesh.max_peers) + ") must be at least min_peers (" +
                std::to_string(config.mesh.min_peers) + ")";
       }},
  };
  return relations;
}

std::span<const std::string_view> section_names() {
  static const std::array<std::string_view, 5> names = {"mesh", "content", "api", "services", "log"};
  return names;
}

const KeySpec* find_key(std::string_view section, std::string_view name) {
  for (const auto& spec : schema()) {
    if (spec.section == section && spec.name == name) return &spec;
  }
  return nullptr;
}

const KeySpec* find_key(std::string_view dotted_key) {
  const auto dot = dotted_key.find('.');
  if (dot == std::string_view::npos) return nullptr;
  return find_key(dotted_key.substr(0, dot), dotted_key.substr(dot + 1));
}

}  // namespace taho::config
