#include "config/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <fstream>

#include "config/schema.hpp"

namespace taho::config {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kFile = "/cfg/config.toml";

std::string peer(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key).to_string();
}

Expected<Config, ConfigErrors> from(std::string_view text, const Environment& env = {},
                                    std::vector<Override> overrides = {}) {
  return load_text(text, kFile, env, overrides);
}

Config loaded(std::string_view text, const Environment& env = {}, std::vector<Override> overrides = {}) {
  auto config = from(text, env, std::move(overrides));
  if (!config) ADD_FAILURE() << describe(config.error());
  return config ? std::move(config).value() : defaults();
}

std::vector<std::string> messages(std::string_view text, const Environment& env = {},
                                  std::vector<Override> overrides = {}) {
  auto config = from(text, env, std::move(overrides));
  if (config) {
    ADD_FAILURE() << "expected errors";
    return {};
  }
  std::vector<std::string> details;
  for (const auto& error : config.error()) details.push_back(error.detail);
  return details;
}

std::vector<std::string> texts(const std::vector<Multiaddr>& addresses) {
  std::vector<std::string> result;
  for (const auto& address : addresses) result.push_back(address.to_string());
  return result;
}

TEST(ConfigDefaults, MatchTheSpec) {
  const Config config = defaults();
  EXPECT_TRUE(config.mesh.bootstrap.empty());
  EXPECT_THAT(texts(config.mesh.listen), ElementsAre("/ip4/0.0.0.0/tcp/4001", "/ip4/0.0.0.0/udp/4001/quic-v1",
                                                     "/ip4/0.0.0.0/tcp/4002/ws"));
  EXPECT_TRUE(config.mesh.mdns);
  EXPECT_TRUE(config.mesh.rendezvous.empty());
  EXPECT_EQ(config.mesh.rendezvous_server, ServiceMode::automatic);
  EXPECT_EQ(config.mesh.dht_protocol, "/taho/kad/1.0.0");
  EXPECT_EQ(config.mesh.dht_server, ServiceMode::automatic);
  EXPECT_EQ(config.mesh.min_peers, 4u);
  EXPECT_EQ(config.mesh.max_peers, 64u);
  EXPECT_EQ(config.mesh.heartbeat, milliseconds{1000});
  EXPECT_EQ(config.content.cache_mb, 100u);
  EXPECT_EQ(config.content.max_store_gb, 50.0);
  EXPECT_EQ(config.api.listen, (HostPort{"127.0.0.1", 9481}));
  EXPECT_TRUE(config.services.trusted_deployers.empty());
  EXPECT_EQ(config.services.memory_mb, 256u);
  EXPECT_EQ(config.services.invoke_timeout, milliseconds{5000});
  EXPECT_EQ(config.log.level, "info");
}

TEST(ConfigDefaults, EveryKeyIsListedInSchemaOrderFromDefaults) {
  const Config config = defaults();
  ASSERT_EQ(config.entries.size(), schema().size());
  for (std::size_t i = 0; i < schema().size(); ++i) {
    EXPECT_EQ(config.entries[i].key, schema()[i].key());
    EXPECT_EQ(config.entries[i].source.kind, Source::Kind::default_value);
    EXPECT_EQ(config.entries[i].source.where, "default");
  }
  EXPECT_EQ(std::get<std::int64_t>(config.find("mesh.min_peers")->value), 4);
  EXPECT_EQ(std::get<std::string>(config.find("mesh.heartbeat")->value), "1s");
  EXPECT_EQ(std::get<double>(config.find("content.max_store_gb")->value), 50.0);
  EXPECT_EQ(config.find("mesh.nope"), nullptr);
}

TEST(ConfigDefaults, EmptyFileGivesDefaults) {
  const Config config = loaded("");
  EXPECT_EQ(config.mesh.min_peers, 4u);
  EXPECT_EQ(config.entries.size(), schema().size());
}

TEST(ConfigFile, ReadsEveryType) {
  const auto boot = "/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1);
  const Config config = loaded(
      "[mesh]\n"
      "bootstrap = [\"" + boot + "\"]\n"
      "listen = [\"/ip4/127.0.0.1/tcp/0\"]\n"
      "mdns = false\n"
      "rendezvous_server = false\n"
      "dht_protocol = \"/ipfs/kad/1.0.0\"\n"
      "min_peers = 2\n"
      "max_peers = 3\n"
      "heartbeat = \"250ms\"\n"
      "[content]\n"
      "cache_mb = 0\n"
      "max_store_gb = 7\n"
      "[api]\n"
      "listen = \"[::1]:0\"\n"
      "[services]\n"
      "trusted_deployers = [\"" + peer(2) + "\"]\n"
      "memory_mb = 64\n"
      "invoke_timeout = \"1m30s\"\n"
      "[log]\n"
      "level = \"debug\"\n");
  EXPECT_THAT(config.mesh.bootstrap, ElementsAre(boot));
  EXPECT_THAT(texts(config.mesh.listen), ElementsAre("/ip4/127.0.0.1/tcp/0"));
  EXPECT_FALSE(config.mesh.mdns);
  EXPECT_EQ(config.mesh.rendezvous_server, ServiceMode::off);
  EXPECT_EQ(config.mesh.dht_protocol, "/ipfs/kad/1.0.0");
  EXPECT_EQ(config.mesh.min_peers, 2u);
  EXPECT_EQ(config.mesh.max_peers, 3u);
  EXPECT_EQ(config.mesh.heartbeat, milliseconds{250});
  EXPECT_EQ(config.content.cache_mb, 0u);
  EXPECT_EQ(config.content.max_store_gb, 7.0);  // an integer is a fine number
  EXPECT_EQ(config.api.listen, (HostPort{"::1", 0}));
  ASSERT_EQ(config.services.trusted_deployers.size(), 1u);
  EXPECT_EQ(config.services.trusted_deployers[0].to_string(), peer(2));
  EXPECT_EQ(config.services.memory_mb, 64u);
  EXPECT_EQ(config.services.invoke_timeout, milliseconds{90'000});
  EXPECT_EQ(config.log.level, "debug");

  const auto* min_peers = config.find("mesh.min_peers");
  EXPECT_EQ(min_peers->source.kind, Source::Kind::file);
  EXPECT_EQ(min_peers->source.where, kFile + ":7");
  EXPECT_EQ(std::get<std::string>(config.find("services.invoke_timeout")->value), "90s");
  EXPECT_EQ(config.find("mesh.rendezvous")->source.kind, Source::Kind::default_value);
}

TEST(ConfigFile, WrongTypesNameFileLineAndKey) {
  EXPECT_THAT(messages("[mesh]\nmin_peers = \"four\"\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: expected an integer, got string \"four\""));
  EXPECT_THAT(messages("[mesh]\n\nmdns = \"yes\"\n"),
              ElementsAre(kFile + ":3: [mesh] mdns: expected true/false, got string \"yes\""));
  EXPECT_THAT(messages("[content]\nmax_store_gb = \"lots\"\n"),
              ElementsAre(kFile + ":2: [content] max_store_gb: expected a number, got string \"lots\""));
  EXPECT_THAT(messages("[mesh]\ndht_protocol = 5\n"),
              ElementsAre(kFile + ":2: [mesh] dht_protocol: expected a string, got integer 5"));
  EXPECT_THAT(messages("[mesh]\nlisten = \"/ip4/1.2.3.4/tcp/1\"\n"),
              ElementsAre(kFile + ":2: [mesh] listen: expected an array of strings, got string "
                                  "\"/ip4/1.2.3.4/tcp/1\""));
  EXPECT_THAT(messages("[mesh]\nlisten = [1]\n"),
              ElementsAre(kFile + ":2: [mesh] listen: expected a multiaddr string, got integer 1"));
  EXPECT_THAT(messages("[mesh]\nheartbeat = 1000\n"),
              ElementsAre(kFile + ":2: [mesh] heartbeat: expected a duration string like \"500ms\", \"1s\" or "
                                  "\"2m\", got integer 1000"));
  EXPECT_THAT(messages("[api]\nlisten = 9481\n"),
              ElementsAre(kFile + ":2: [api] listen: expected a \"HOST:PORT\" string, got integer 9481"));
  EXPECT_THAT(messages("[mesh]\nmin_peers = 1.5\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: expected an integer, got number 1.5"));
  EXPECT_THAT(messages("[mesh]\nmin_peers = [1]\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: expected an integer, got an array"));
}

TEST(ConfigFile, WrongTypeErrorsHaveTheirCode) {
  auto config = from("[mesh]\nmin_peers = \"four\"\nmax_peers = 0\n");
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 2u);
  EXPECT_EQ(config.error()[0].code, Errc::wrong_type);
  EXPECT_EQ(config.error()[1].code, Errc::bad_value);
}

TEST(ConfigFile, ValidatorsRejectBadValues) {
  EXPECT_THAT(messages("[mesh]\nmin_peers = -1\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: must be at least 0, got -1"));
  EXPECT_THAT(messages("[mesh]\nmin_peers = 10001\nmax_peers = 10001\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: must be from 0 to 10000, got 10001",
                          kFile + ":3: [mesh] max_peers: must be from 1 to 10000, got 10001"));
  EXPECT_THAT(messages("[mesh]\nmin_peers = 99999999999\n"),
              ElementsAre(kFile + ":2: [mesh] min_peers: must be at most 4294967295, got 99999999999"));
  EXPECT_THAT(messages("[mesh]\nheartbeat = \"5ms\"\n"),
              ElementsAre(kFile + ":2: [mesh] heartbeat: must be within 10ms..10m, got \"5ms\""));
  EXPECT_THAT(messages("[mesh]\nheartbeat = \"11m\"\n"),
              ElementsAre(kFile + ":2: [mesh] heartbeat: must be within 10ms..10m, got \"11m\""));
  EXPECT_THAT(messages("[mesh]\nheartbeat = \"soon\"\n"),
              ElementsAre(kFile + ":2: [mesh] heartbeat: expected a duration like \"500ms\", \"1s\", \"2m\" or "
                                  "\"1h\", got \"soon\""));
  EXPECT_THAT(messages("[mesh]\ndht_protocol = \"taho/kad\"\n"),
              ElementsAre(kFile + ":2: [mesh] dht_protocol: must be a protocol id starting with '/', got "
                                  "\"taho/kad\""));
  EXPECT_THAT(messages("[mesh]\ndht_protocol = \"/taho kad\"\n"),
              ElementsAre(HasSubstr("must not contain spaces")));
  EXPECT_THAT(messages("[content]\nmax_store_gb = 0\n"),
              ElementsAre(kFile + ":2: [content] max_store_gb: must be greater than 0, got 0"));
  EXPECT_THAT(messages("[content]\nmax_store_gb = -2.5\n"), ElementsAre(HasSubstr("must be greater than 0")));
  EXPECT_THAT(messages("[content]\nmax_store_gb = inf\n"), ElementsAre(HasSubstr("expected a finite number")));
  EXPECT_THAT(messages("[content]\ncache_mb = -1\n"), ElementsAre(HasSubstr("must be at least 0, got -1")));
  EXPECT_THAT(messages("[services]\nmemory_mb = 0\n"),
              ElementsAre(kFile + ":2: [services] memory_mb: must be from 1 to 4096, got 0"));
  EXPECT_THAT(messages("[services]\ninvoke_timeout = \"2h\"\n"), ElementsAre(HasSubstr("must be within 10ms..1h")));
  EXPECT_THAT(messages("[log]\nlevel = \"loud\"\n"),
              ElementsAre(kFile + ":2: [log] level: must be one of trace, debug, info, warn, error, off, got "
                                  "\"loud\""));
  EXPECT_THAT(messages("[api]\nlisten = \"example.com:80\"\n"),
              ElementsAre(kFile + ":2: [api] listen: host must be an IP address or \"localhost\", got "
                                  "\"example.com:80\""));
  EXPECT_THAT(messages("[api]\nlisten = \"127.0.0.1:70000\"\n"), ElementsAre(HasSubstr("port must be")));
  EXPECT_THAT(messages("[services]\ntrusted_deployers = [\"not-a-peer\"]\n"),
              ElementsAre(HasSubstr(kFile +
                                    ":2: [services] trusted_deployers: \"not-a-peer\" is not a valid peer id")));
}

TEST(ConfigFile, MaxPeersBelowMinPeersIsAnError) {
  EXPECT_THAT(messages("[mesh]\nmin_peers = 10\nmax_peers = 5\n"),
              ElementsAre(kFile + ":3: max_peers (5) must be at least min_peers (10)"));
  EXPECT_TRUE(from("[mesh]\nmin_peers = 7\nmax_peers = 7\n").has_value());
}

TEST(ConfigFile, BadMultiaddrsNameTheirOwnLine) {
  const auto errors = messages(
      "[mesh]\n"
      "listen = [\n"
      "  \"/ip4/0.0.0.0/tcp/4001\",\n"
      "  \"/ip4/300.0.0.0/tcp/4001\",\n"
      "]\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0],
              HasSubstr(kFile + ":4: [mesh] listen: \"/ip4/300.0.0.0/tcp/4001\" is not a valid multiaddr: "));
  EXPECT_THAT(messages("[mesh]\nlisten = [\"/ip4/1.2.3.4/tcp/1\", \"/bogus/1\"]\n"),
              ElementsAre(HasSubstr(kFile + ":2: [mesh] listen: \"/bogus/1\" is not a valid multiaddr")));
}

TEST(ConfigFile, RendezvousNeedsAPeerId) {
  EXPECT_THAT(messages("[mesh]\nrendezvous = [\"/dns4/rv.example.org/tcp/4001\"]\n"),
              ElementsAre(HasSubstr("[mesh] rendezvous: \"/dns4/rv.example.org/tcp/4001\" must end in /p2p/")));
  EXPECT_THAT(messages("[mesh]\nrendezvous = [\"/p2p/" + peer(3) + "/tcp/4001\"]\n"),
              ElementsAre(HasSubstr("must end in /p2p/<peer id>")));
  const Config config = loaded("[mesh]\nrendezvous = [\"/dns4/rv.example.org/tcp/4001/p2p/" + peer(3) + "\"]\n");
  ASSERT_EQ(config.mesh.rendezvous.size(), 1u);
  EXPECT_EQ(config.mesh.rendezvous[0].peer_id()->to_string(), peer(3));
}

// Bad bootstrap entries are the daemon's to report and skip
// (node/bootstrap_list.hpp): the file keeps them as written.
TEST(ConfigFile, BootstrapKeepsEveryEntryAsText) {
  const Config config = loaded("[mesh]\nbootstrap = [\"/ip4/1.2.3.4/tcp/4001\", \"nonsense\", \"/dnsaddr/boot.example.org\"]\n");
  EXPECT_THAT(config.mesh.bootstrap, ElementsAre("/ip4/1.2.3.4/tcp/4001", "nonsense", "/dnsaddr/boot.example.org"));
  EXPECT_THAT(messages("[mesh]\nbootstrap = [\"/ip4/1.2.3.4/tcp/4001\", 7]\n"),
              ElementsAre(HasSubstr(":2: [mesh] bootstrap: expected a string, got integer 7")));
  const Config from_env = loaded("", {{"TAHO__MESH__BOOTSTRAP", " /dnsaddr/a.example.org , bad "}});
  EXPECT_THAT(from_env.mesh.bootstrap, ElementsAre("/dnsaddr/a.example.org", "bad"));
}

TEST(ConfigFile, UnknownKeysAndSectionsNameFileAndLine) {
  EXPECT_THAT(messages("[mesh]\nmin_peer = 3\n"),
              ElementsAre(kFile + ":2: [mesh] min_peer: unknown key (did you mean mesh.min_peers?)"));
  EXPECT_THAT(messages("\n[meshh]\nmin_peers = 3\n"),
              ElementsAre(kFile + ":2: [meshh]: unknown section (did you mean [mesh]?)"));
  EXPECT_THAT(messages("[fabric]\nmdns = true\n"), ElementsAre(kFile + ":1: [fabric]: unknown section"));
  EXPECT_THAT(messages("mdns = true\n"),
              ElementsAre(kFile + ":1: mdns: keys belong in a section such as [mesh] (did you mean mesh.mdns or "
                          "mesh.mdns_loopback?)"));
  EXPECT_THAT(messages("[mesh.extra]\nx = 1\n"), ElementsAre(HasSubstr(kFile + ":1: [mesh] extra: unknown key")));
  auto config = from("[nope]\n");
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error()[0].code, Errc::unknown_section);
}

TEST(ConfigFile, ReportsEveryErrorInFileOrder) {
  const auto errors = messages(
      "[mesh]\n"
      "zzz = 1\n"
      "mdns = \"maybe\"\n"
      "aaa = 2\n"
      "[log]\n"
      "level = \"loud\"\n"
      "[bogus]\n");
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_THAT(errors[0], HasSubstr(":2: [mesh] zzz"));
  EXPECT_THAT(errors[1], HasSubstr(":3: [mesh] mdns"));
  EXPECT_THAT(errors[2], HasSubstr(":4: [mesh] aaa"));
  EXPECT_THAT(errors[3], HasSubstr(":6: [log] level"));
  EXPECT_THAT(errors[4], HasSubstr(":7: [bogus]"));
}

TEST(ConfigFile, SyntaxErrorsNameLineAndColumn) {
  auto config = from("[mesh]\nmdns = true\nmin_peers = = 3\n");
  ASSERT_FALSE(config.has_value());
  ASSERT_EQ(config.error().size(), 1u);
  EXPECT_EQ(config.error()[0].code, Errc::syntax);
  EXPECT_THAT(config.error()[0].detail, HasSubstr(kFile + ":3:13: invalid TOML: "));
  EXPECT_THAT(messages("[mesh\n"), ElementsAre(HasSubstr(kFile + ":1:")));
  EXPECT_THAT(messages("[mesh]\nmdns = true\nmdns = false\n"), ElementsAre(HasSubstr(kFile + ":3:")));
}

TEST(ConfigEnv, SetsValuesWithTheVariableAsSource) {
  const Config config = loaded("", {{"TAHO__MESH__MIN_PEERS", "7"}, {"TAHO__MESH__MDNS", "false"},
                                    {"TAHO__SERVICES__INVOKE_TIMEOUT", "2s"}, {"TAHO__API__LISTEN", "localhost:0"}});
  EXPECT_EQ(config.mesh.min_peers, 7u);
  EXPECT_FALSE(config.mesh.mdns);
  EXPECT_EQ(config.services.invoke_timeout, milliseconds{2000});
  EXPECT_EQ(config.api.listen, (HostPort{"localhost", 0}));
  const auto* entry = config.find("mesh.min_peers");
  EXPECT_EQ(entry->source.kind, Source::Kind::env);
  EXPECT_EQ(entry->source.where, "TAHO__MESH__MIN_PEERS");
}

TEST(ConfigEnv, NamesAndBooleansAreCaseInsensitive) {
  const Config config =
      loaded("", {{"taho__mesh__min_peers", "5"}, {"Taho__Mesh__Mdns", "FALSE"}, {"TAHO__log__LEVEL", "warn"}});
  EXPECT_EQ(config.mesh.min_peers, 5u);
  EXPECT_FALSE(config.mesh.mdns);
  EXPECT_EQ(config.log.level, "warn");
  EXPECT_EQ(config.find("mesh.mdns")->source.where, "Taho__Mesh__Mdns");
}

TEST(ConfigEnv, FabricIsTheMeshSection) {
  const auto a = "/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1);
  const auto b = "/dns4/boot.example.org/tcp/4001/p2p/" + peer(2);
  const Config config = loaded("", {{"TAHO__FABRIC__BOOTSTRAP", a + "," + b}});
  EXPECT_THAT(config.mesh.bootstrap, ElementsAre(a, b));
  EXPECT_EQ(config.find("mesh.bootstrap")->source.where, "TAHO__FABRIC__BOOTSTRAP");
}

TEST(ConfigEnv, ListsAreCommaSeparated) {
  const Config config =
      loaded("", {{"TAHO__MESH__LISTEN", " /ip4/0.0.0.0/tcp/1 , /ip6/::/tcp/2,,/ip4/0.0.0.0/udp/3/quic-v1, "}});
  EXPECT_THAT(texts(config.mesh.listen),
              ElementsAre("/ip4/0.0.0.0/tcp/1", "/ip6/::/tcp/2", "/ip4/0.0.0.0/udp/3/quic-v1"));
  const Config cleared = loaded("[mesh]\nlisten = [\"/ip4/0.0.0.0/tcp/1\"]\n", {{"TAHO__MESH__LISTEN", ","}});
  EXPECT_TRUE(cleared.mesh.listen.empty());
  const Config trusted = loaded("", {{"TAHO__SERVICES__TRUSTED_DEPLOYERS", peer(4) + "," + peer(5)}});
  EXPECT_EQ(trusted.services.trusted_deployers.size(), 2u);
}

TEST(ConfigEnv, BadValuesNameTheVariable) {
  EXPECT_THAT(messages("", {{"TAHO__MESH__MDNS", "maybe"}}),
              ElementsAre("TAHO__MESH__MDNS: expected true/false, got \"maybe\""));
  EXPECT_THAT(messages("", {{"TAHO__MESH__MIN_PEERS", "four"}}),
              ElementsAre("TAHO__MESH__MIN_PEERS: expected an integer, got \"four\""));
  EXPECT_THAT(messages("", {{"TAHO__CONTENT__MAX_STORE_GB", "1e"}}),
              ElementsAre("TAHO__CONTENT__MAX_STORE_GB: expected a number, got \"1e\""));
  EXPECT_THAT(messages("", {{"TAHO__FABRIC__RENDEZVOUS", "/ip4/1.2.3.4/tcp/1"}}),
              ElementsAre("TAHO__FABRIC__RENDEZVOUS: \"/ip4/1.2.3.4/tcp/1\" must end in /p2p/<peer id>"));
  EXPECT_THAT(messages("", {{"TAHO__MESH__LISTEN", "/ip4/1.2.3.4/tcp/1,/nope"}}),
              ElementsAre(HasSubstr("TAHO__MESH__LISTEN: \"/nope\" is not a valid multiaddr")));
}

TEST(ConfigEnv, UnknownVariablesAreErrors) {
  EXPECT_THAT(messages("", {{"TAHO__MESH__MIN_PEER", "3"}}),
              ElementsAre("TAHO__MESH__MIN_PEER: unknown config variable (did you mean TAHO__MESH__MIN_PEERS?)"));
  EXPECT_THAT(messages("", {{"TAHO__NOPE__X", "1"}}), ElementsAre("TAHO__NOPE__X: unknown config variable"));
  EXPECT_THAT(messages("", {{"TAHO__HOME", "/x"}}),
              ElementsAre("TAHO__HOME: not a config variable; expected TAHO__<SECTION>__<KEY>"));
  EXPECT_THAT(messages("", {{"TAHO__MESH__", "1"}}), ElementsAre(HasSubstr("TAHO__MESH__: not a config variable")));
  auto config = from("", {{"TAHO__X__Y", "1"}});
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error()[0].code, Errc::unknown_key);
}

TEST(ConfigEnv, OtherVariablesAreIgnored) {
  const Config config = loaded("", {{"TAHO_HOME", "/x"}, {"TAHO_FOO", "1"}, {"HOME", "/home/me"}, {"TAHO", "1"}});
  EXPECT_EQ(config.mesh.min_peers, 4u);
}

TEST(ConfigEnv, ConflictingSpellingsOfOneKeyAreAnError) {
  const auto a = "/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1);
  const auto b = "/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2);
  EXPECT_THAT(messages("", {{"TAHO__FABRIC__BOOTSTRAP", a}, {"TAHO__MESH__BOOTSTRAP", b}}),
              ElementsAre("TAHO__MESH__BOOTSTRAP: conflicts with TAHO__FABRIC__BOOTSTRAP (both set mesh.bootstrap)"));
  EXPECT_TRUE(from("", {{"TAHO__FABRIC__BOOTSTRAP", a}, {"TAHO__MESH__BOOTSTRAP", a}}).has_value());
}

TEST(ConfigPrecedence, EachLayerOverridesTheOneBelow) {
  const std::string file = "[mesh]\nmin_peers = 5\nmax_peers = 50\nmdns = false\n[log]\nlevel = \"warn\"\n";
  const Environment env{{"TAHO__MESH__MIN_PEERS", "6"}, {"TAHO__MESH__MAX_PEERS", "60"}};
  const std::vector<Override> flags{{"mesh.min_peers", "7", "--set mesh.min_peers=7"}};
  const Config config = loaded(file, env, flags);

  EXPECT_EQ(config.mesh.min_peers, 7u);  // flag > env > file
  EXPECT_EQ(config.find("mesh.min_peers")->source.kind, Source::Kind::flag);
  EXPECT_EQ(config.find("mesh.min_peers")->source.where, "--set mesh.min_peers=7");
  EXPECT_EQ(config.mesh.max_peers, 60u);  // env > file
  EXPECT_EQ(config.find("mesh.max_peers")->source.kind, Source::Kind::env);
  EXPECT_FALSE(config.mesh.mdns);  // file > default
  EXPECT_EQ(config.find("mesh.mdns")->source.where, kFile + ":4");
  EXPECT_EQ(config.log.level, "warn");
  EXPECT_EQ(config.find("log.level")->source.kind, Source::Kind::file);
  EXPECT_EQ(config.mesh.heartbeat, milliseconds{1000});  // default
  EXPECT_EQ(config.find("mesh.heartbeat")->source.kind, Source::Kind::default_value);
}

TEST(ConfigPrecedence, LaterFlagsWin) {
  const Config config = loaded("", {}, {{"api.listen", "127.0.0.1:1", "--set api.listen=127.0.0.1:1"},
                                        {"api.listen", "127.0.0.1:2", "--api-listen"}});
  EXPECT_EQ(config.api.listen.port, 2);
  EXPECT_EQ(config.find("api.listen")->source.where, "--api-listen");
}

TEST(ConfigPrecedence, CrossKeyErrorsBlameTheLaterLayer) {
  EXPECT_THAT(messages("[mesh]\nmin_peers = 10\n", {{"TAHO__MESH__MAX_PEERS", "5"}}),
              ElementsAre("TAHO__MESH__MAX_PEERS: max_peers (5) must be at least min_peers (10)"));
  EXPECT_THAT(messages("", {}, {{"mesh.min_peers", "100", "--set mesh.min_peers=100"}}),
              ElementsAre("--set mesh.min_peers=100: max_peers (64) must be at least min_peers (100)"));
  // A valid overall result is fine even when a lower layer alone would not be.
  EXPECT_TRUE(from("[mesh]\nmin_peers = 100\n", {{"TAHO__MESH__MAX_PEERS", "200"}}).has_value());
}

TEST(ConfigFlags, BadOrUnknownOverridesNameTheFlag) {
  EXPECT_THAT(messages("", {}, {{"mesh.mdns", "maybe", "--set mesh.mdns=maybe"}}),
              ElementsAre("--set mesh.mdns=maybe: expected true/false, got \"maybe\""));
  EXPECT_THAT(messages("", {}, {{"mesh.listen", "tcp://x", "--listen"}}),
              ElementsAre(HasSubstr("--listen: \"tcp://x\" is not a valid multiaddr")));
  EXPECT_THAT(messages("", {}, {{"mesh.mnds", "true", "--set mesh.mnds=true"}}),
              ElementsAre("--set mesh.mnds=true: unknown key \"mesh.mnds\" (did you mean mesh.mdns?)"));
}

TEST(ConfigFlags, ParseSetFlags) {
  const std::vector<std::string> arguments{"mesh.min_peers=8", "Mesh.Listen=/ip4/0.0.0.0/tcp/1,/ip4/0.0.0.0/tcp/2",
                                           "log.level="};
  auto overrides = parse_set_flags(arguments);
  ASSERT_TRUE(overrides.has_value());
  ASSERT_EQ(overrides->size(), 3u);
  EXPECT_EQ((*overrides)[0].key, "mesh.min_peers");
  EXPECT_EQ((*overrides)[0].value, "8");
  EXPECT_EQ((*overrides)[0].origin, "--set mesh.min_peers=8");
  EXPECT_EQ((*overrides)[1].key, "mesh.listen");
  EXPECT_EQ((*overrides)[2].value, "");

  const std::vector<std::string> bad{"mesh.min_peers", "=3", "log.level=info"};
  auto failed = parse_set_flags(bad);
  ASSERT_FALSE(failed.has_value());
  ASSERT_EQ(failed.error().size(), 2u);
  EXPECT_EQ(failed.error()[0].detail, "--set mesh.min_peers: expected SECTION.KEY=VALUE");
}

TEST(ConfigGet, PrintsPlainText) {
  const Config config = loaded("[mesh]\nlisten = [\"/ip4/0.0.0.0/tcp/1\", \"/ip4/0.0.0.0/tcp/2\"]\n");
  EXPECT_EQ(*get(config, "mesh.min_peers"), "4");
  EXPECT_EQ(*get(config, "mesh.mdns"), "true");
  EXPECT_EQ(*get(config, "mesh.heartbeat"), "1s");
  EXPECT_EQ(*get(config, "mesh.listen"), "/ip4/0.0.0.0/tcp/1,/ip4/0.0.0.0/tcp/2");
  EXPECT_EQ(*get(config, "mesh.bootstrap"), "");
  EXPECT_EQ(*get(config, "content.max_store_gb"), "50.0");
  EXPECT_EQ(*get(config, "api.listen"), "127.0.0.1:9481");
}

TEST(ConfigGet, UnknownKeysSuggestCloseOnes) {
  const Config config = defaults();
  auto missing = get(config, "mesh.min_peer");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().text, "unknown key \"mesh.min_peer\" (did you mean mesh.min_peers?)");
  EXPECT_EQ(get(config, "zzzzzz").error().text, "unknown key \"zzzzzz\"");
}

TEST(ConfigGet, CloseKeys) {
  EXPECT_THAT(close_keys("min_peers"), ElementsAre("mesh.min_peers"));
  EXPECT_THAT(close_keys("content.cache"), ElementsAre("content.cache_mb"));
  EXPECT_THAT(close_keys("api.listn"), ElementsAre("api.listen"));
  EXPECT_THAT(close_keys("services.memory_mb"), ElementsAre("services.memory_mb"));
  EXPECT_TRUE(close_keys("completely.different").empty());
}

TEST(ConfigLoad, MissingFileMeansDefaults) {
  const Paths paths{"/nonexistent/taho/config.toml", "/nonexistent/taho"};
  auto config = load(paths, {{"TAHO__MESH__MIN_PEERS", "9"}}, {});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->mesh.min_peers, 9u);
}

TEST(ConfigLoad, ReadsTheFileAndNamesItsPath) {
  const auto dir = std::filesystem::temp_directory_path() / ("taho-config-load-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const Paths paths{dir / "config.toml", dir};
  std::ofstream(paths.config_file) << "[mesh]\nmdns = false\nmin_peers = \"x\"\n";
  auto config = load(paths, {}, {});
  ASSERT_FALSE(config.has_value());
  EXPECT_THAT(describe(config.error()),
              HasSubstr(paths.config_file.string() + ":3: [mesh] min_peers: expected an integer, got string \"x\"\n"));
  std::ofstream(paths.config_file) << "[mesh]\nmdns = false\n";
  auto good = load(paths, {}, {});
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(good->find("mesh.mdns")->source.where, paths.config_file.string() + ":2");
  std::filesystem::remove_all(dir);
}

TEST(ConfigLoad, ADirectoryIsNotAConfigFile) {
  const Paths paths{std::filesystem::temp_directory_path(), "/tmp"};
  auto config = load(paths, {}, {});
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error()[0].code, Errc::io);
}

}  // namespace
}  // namespace taho::config

namespace taho::config {
namespace {

TEST(ServiceModes, AcceptAutoAndTheOldBooleans) {
  const Config config = loaded("[mesh]\ndht_server = true\nrendezvous_server = \"AUTO\"\n");
  EXPECT_EQ(config.mesh.dht_server, ServiceMode::on);
  EXPECT_EQ(config.mesh.rendezvous_server, ServiceMode::automatic);
  EXPECT_EQ(loaded("[mesh]\ndht_server = false\n").mesh.dht_server, ServiceMode::off);
  EXPECT_EQ(loaded("", {{"TAHO__MESH__DHT_SERVER", "false"}}).mesh.dht_server, ServiceMode::off);
  EXPECT_EQ(loaded("", {{"TAHO__MESH__RENDEZVOUS_SERVER", "auto"}}).mesh.rendezvous_server, ServiceMode::automatic);
}

TEST(ServiceModes, ShowAsWritten) {
  const Config config = loaded("[mesh]\ndht_server = false\n");
  for (const auto& entry : config.entries) {
    if (entry.key == "mesh.dht_server") EXPECT_EQ(to_text(entry.value), "false");
    if (entry.key == "mesh.rendezvous_server") EXPECT_EQ(to_text(entry.value), "auto");
  }
}

TEST(ServiceModes, BadValuesAreNamed) {
  const auto errors = messages("[mesh]\ndht_server = \"sometimes\"\nrendezvous_server = 1\n");
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0], "/cfg/config.toml:2: [mesh] dht_server: expected true, false or \"auto\", got \"sometimes\"");
  EXPECT_THAT(errors[1], ::testing::HasSubstr("rendezvous_server: expected true, false or \"auto\", got integer"));
}

}  // namespace
}  // namespace taho::config
