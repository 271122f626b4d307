#include "config/config_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "config/schema.hpp"

namespace taho::config {
namespace {

using ::testing::HasSubstr;

std::string read(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "taho-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    paths_ = {dir_ / "nested" / "config.toml", dir_};
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(std::string_view text) {
    std::filesystem::create_directories(paths_.config_file.parent_path());
    std::ofstream(paths_.config_file) << text;
  }

  std::filesystem::path dir_;
  Paths paths_;
};

TEST(DefaultFile, ParsesBackToTheDefaults) {
  const auto text = default_file_text();
  auto config = load_text(text, "default", {}, {});
  ASSERT_TRUE(config.has_value()) << describe(config.error());
  const Config expected = defaults();
  for (std::size_t i = 0; i < expected.entries.size(); ++i) {
    EXPECT_EQ(config->entries[i].value, expected.entries[i].value) << expected.entries[i].key;
  }
}

TEST(DefaultFile, UncommentingEveryLineGivesTheDefaultsFromTheFile) {
  std::string text = default_file_text();
  for (const auto& spec : schema()) {
    const auto commented = "# " + std::string(spec.name) + " = ";
    const auto at = text.find(commented);
    ASSERT_NE(at, std::string::npos) << spec.key();
    text.erase(at, 2);
  }
  auto config = load_text(text, "uncommented", {}, {});
  ASSERT_TRUE(config.has_value()) << describe(config.error()) << text;
  const Config expected = defaults();
  for (std::size_t i = 0; i < expected.entries.size(); ++i) {
    EXPECT_EQ(config->entries[i].value, expected.entries[i].value) << expected.entries[i].key;
    EXPECT_EQ(config->entries[i].source.kind, Source::Kind::file) << expected.entries[i].key;
  }
}

TEST(DefaultFile, DocumentsEveryKey) {
  const auto text = default_file_text();
  for (const auto& spec : schema()) {
    EXPECT_FALSE(spec.doc.empty()) << spec.key();
    EXPECT_THAT(text, HasSubstr("# " + std::string(spec.doc) + " (" + spec.type + ")\n"));
  }
  EXPECT_THAT(text, HasSubstr("[mesh]\n"));
  EXPECT_THAT(text, HasSubstr("(list of multiaddrs, each ending in /p2p/<peer id>)"));
  EXPECT_THAT(text, HasSubstr("(list of strings, each a multiaddr ending in /p2p/<peer id>, or /dnsaddr/<domain>"));
}

TEST_F(ConfigFileTest, EnsureCreatesTheFileOnce) {
  auto created = ensure_config_file(paths_);
  ASSERT_TRUE(created.has_value()) << created.error().text;
  EXPECT_TRUE(*created);
  EXPECT_EQ(read(paths_.config_file), default_file_text());
  struct stat info {};
  ASSERT_EQ(::stat(paths_.config_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);

  write("[mesh]\nmdns = false\n");
  auto again = ensure_config_file(paths_);
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  EXPECT_EQ(read(paths_.config_file), "[mesh]\nmdns = false\n");
}

TEST_F(ConfigFileTest, SetUncommentsTheDefaultLine) {
  ASSERT_TRUE(ensure_config_file(paths_).has_value());
  auto change = set_in_file(paths_, "mesh.min_peers", "8");
  ASSERT_TRUE(change.has_value()) << change.error().text;
  EXPECT_EQ(change->key, "mesh.min_peers");
  EXPECT_EQ(change->before, std::nullopt);
  EXPECT_EQ(change->after, "8");

  const auto text = read(paths_.config_file);
  auto expected = default_file_text();
  expected.replace(expected.find("# min_peers = 4\n"), 16, "min_peers = 8\n");
  EXPECT_EQ(text, expected);  // one line changed, every comment kept
  auto config = load(paths_, {}, {});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->mesh.min_peers, 8u);
}

TEST_F(ConfigFileTest, SetReplacesAValueKeepingCommentsAround) {
  write("# my node\n[mesh]\n  min_peers = 3   # keep a few\nmdns = false\n\n[log]\nlevel = \"warn\"\n");
  auto change = set_in_file(paths_, "mesh.min_peers", "6");
  ASSERT_TRUE(change.has_value()) << change.error().text;
  EXPECT_EQ(change->before, "3");
  EXPECT_EQ(read(paths_.config_file),
            "# my node\n[mesh]\n  min_peers = 6   # keep a few\nmdns = false\n\n[log]\nlevel = \"warn\"\n");
}

TEST_F(ConfigFileTest, SetReplacesAMultiLineArray) {
  write("[mesh]\nlisten = [\n  \"/ip4/0.0.0.0/tcp/1\",\n  \"/ip4/0.0.0.0/tcp/2\",\n]  # two ports\nmdns = true\n");
  auto change = set_in_file(paths_, "mesh.listen", "/ip4/0.0.0.0/tcp/9, /ip6/::/tcp/9");
  ASSERT_TRUE(change.has_value()) << change.error().text;
  EXPECT_EQ(change->after, "[\"/ip4/0.0.0.0/tcp/9\", \"/ip6/::/tcp/9\"]");
  EXPECT_EQ(read(paths_.config_file),
            "[mesh]\nlisten = [\"/ip4/0.0.0.0/tcp/9\", \"/ip6/::/tcp/9\"]  # two ports\nmdns = true\n");
}

TEST_F(ConfigFileTest, SetAppendsToAnExistingSection) {
  write("[mesh]\nmdns = false\n\n# the API\n[api]\nlisten = \"127.0.0.1:1\"\n");
  ASSERT_TRUE(set_in_file(paths_, "mesh.heartbeat", "2s").has_value());
  EXPECT_EQ(read(paths_.config_file),
            "[mesh]\nmdns = false\nheartbeat = \"2s\"\n\n# the API\n[api]\nlisten = \"127.0.0.1:1\"\n");
}

TEST_F(ConfigFileTest, SetAddsAMissingSection) {
  write("[mesh]\nmdns = false");
  ASSERT_TRUE(set_in_file(paths_, "log.level", "debug").has_value());
  EXPECT_EQ(read(paths_.config_file), "[mesh]\nmdns = false\n\n[log]\nlevel = \"debug\"\n");
}

TEST_F(ConfigFileTest, SetCreatesAMissingFile) {
  auto change = set_in_file(paths_, "services.memory_mb", "512");
  ASSERT_TRUE(change.has_value()) << change.error().text;
  const auto text = read(paths_.config_file);
  EXPECT_THAT(text, HasSubstr("\nmemory_mb = 512\n"));
  EXPECT_THAT(text, HasSubstr("# min_peers = 4\n"));
  auto config = load(paths_, {}, {});
  ASSERT_TRUE(config.has_value());
  EXPECT_EQ(config->services.memory_mb, 512u);
}

TEST_F(ConfigFileTest, SetRefusesBadValuesAndUnknownKeys) {
  write("[mesh]\nmdns = false\n");
  auto bad = set_in_file(paths_, "mesh.mdns", "maybe");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().text, "mesh.mdns: expected true/false, got \"maybe\"");
  auto unknown = set_in_file(paths_, "mesh.mnds", "true");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().text, "unknown key \"mesh.mnds\" (did you mean mesh.mdns?)");
  auto bad_addr = set_in_file(paths_, "mesh.rendezvous", "/ip4/1.2.3.4/tcp/1");
  ASSERT_FALSE(bad_addr.has_value());
  EXPECT_THAT(bad_addr.error().text, HasSubstr("must end in /p2p/<peer id>"));
  EXPECT_EQ(read(paths_.config_file), "[mesh]\nmdns = false\n");
}

TEST_F(ConfigFileTest, SetRefusesAResultThatWouldNotLoad) {
  write("[mesh]\nmax_peers = 10\n");
  auto change = set_in_file(paths_, "mesh.min_peers", "20");
  ASSERT_FALSE(change.has_value());
  EXPECT_THAT(change.error().text, HasSubstr("max_peers (10) must be at least min_peers (20)"));
  EXPECT_EQ(read(paths_.config_file), "[mesh]\nmax_peers = 10\n");
}

TEST_F(ConfigFileTest, SetCanRepairTheBadKey) {
  write("[mesh]\nmin_peers = \"four\"\n");
  ASSERT_TRUE(set_in_file(paths_, "mesh.min_peers", "4").has_value());
  EXPECT_EQ(read(paths_.config_file), "[mesh]\nmin_peers = 4\n");
}

TEST_F(ConfigFileTest, SetKeepsTheFileMode) {
  write("[mesh]\n");
  ::chmod(paths_.config_file.c_str(), 0600);
  ASSERT_TRUE(set_in_file(paths_, "mesh.mdns", "false").has_value());
  struct stat info {};
  ASSERT_EQ(::stat(paths_.config_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  for (const auto& entry : std::filesystem::directory_iterator(paths_.config_file.parent_path())) {
    EXPECT_EQ(entry.path().filename(), "config.toml");  // no temp file left behind
  }
}

TEST_F(ConfigFileTest, SetOnInvalidTomlFails) {
  write("[mesh\n");
  auto change = set_in_file(paths_, "mesh.mdns", "false");
  ASSERT_FALSE(change.has_value());
  EXPECT_THAT(change.error().text, HasSubstr(paths_.config_file.string() + ":1:"));
}

TEST(EditConfigText, ReplacesStringsWithUnicodeBeforeThem) {
  auto text = edit_config_text("[log]\n\"level\" = \"warn\" # é\n[mesh]\nx = \"ü\" ; \n", "log", "level", "\"off\"");
  // The trailing junk keeps the document invalid TOML, which edit refuses.
  EXPECT_FALSE(text.has_value());
  auto fine = edit_config_text("[mesh] # ü ü\ndht_protocol = \"/ü/1\" # é\n", "mesh", "dht_protocol", "\"/x/1\"");
  ASSERT_TRUE(fine.has_value());
  EXPECT_EQ(*fine, "[mesh] # ü ü\ndht_protocol = \"/x/1\" # é\n");
}

TEST(EditConfigText, KeepsCrLfLineEndings) {
  auto text = edit_config_text("[mesh]\r\n# mdns = true\r\n", "mesh", "mdns", "false");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "[mesh]\r\nmdns = false\r\n");
  auto added = edit_config_text("[mesh]\r\nmdns = true\r\n", "log", "level", "\"off\"");
  ASSERT_TRUE(added.has_value());
  EXPECT_EQ(*added, "[mesh]\r\nmdns = true\r\n\r\n[log]\r\nlevel = \"off\"\r\n");
}

TEST(EditConfigText, ReplacesDottedAndInlineValues) {
  auto dotted = edit_config_text("mesh.mdns = true\n", "mesh", "mdns", "false");
  ASSERT_TRUE(dotted.has_value());
  EXPECT_EQ(*dotted, "mesh.mdns = false\n");
  auto inline_table = edit_config_text("mesh = { mdns = true, min_peers = 2 }\n", "mesh", "min_peers", "3");
  ASSERT_TRUE(inline_table.has_value());
  EXPECT_EQ(*inline_table, "mesh = { mdns = true, min_peers = 3 }\n");
}

TEST(EditConfigText, OnlyUncommentsInTheRightSection) {
  auto text = edit_config_text("[api]\n# listen = \"x\"\n[mesh]\n# listen = []\n", "mesh", "listen", "[]");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "[api]\n# listen = \"x\"\n[mesh]\nlisten = []\n");
}

TEST(EditConfigText, ValueAtEndOfFileWithoutNewline) {
  auto text = edit_config_text("[mesh]\nmin_peers = 3", "mesh", "min_peers", "5");
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "[mesh]\nmin_peers = 5");
}

}  // namespace
}  // namespace taho::config
