#include "node/bootstrap_list.hpp"

#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>

#include "node/fake_dns_server_for_tests.hpp"

namespace taho::node {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string peer(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key).to_string();
}

std::vector<std::string> texts(const std::vector<Multiaddr>& addresses) {
  std::vector<std::string> result;
  for (const auto& address : addresses) result.push_back(address.to_string());
  return result;
}

TEST(SortBootstrapEntries, NamesEachBadEntryAndWhy) {
  const std::vector<std::string> entries = {
      "/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
      "/ip4/10.0.0.1/tcp/4001",
      "/ip4/300.0.0.1/tcp/4001/p2p/" + peer(1),
      "boot.example.org",
      "/p2p/" + peer(2),
      "/dnsaddr/boot.example.org",
      "/dnsaddr/boot.example.org/p2p/" + peer(3),
      "",
  };
  const auto sorted = sort_bootstrap_entries(entries);
  EXPECT_THAT(texts(sorted.direct), ElementsAre(entries[0]));
  EXPECT_THAT(texts(sorted.dnsaddr), ElementsAre(entries[5], entries[6]));
  ASSERT_EQ(sorted.bad.size(), 5u);
  EXPECT_EQ(sorted.bad[0].text, entries[1]);
  EXPECT_THAT(sorted.bad[0].reason, HasSubstr("must end in /p2p/<peer id>"));
  EXPECT_EQ(sorted.bad[1].text, entries[2]);
  EXPECT_THAT(sorted.bad[1].reason, HasSubstr("not a multiaddr"));
  EXPECT_THAT(sorted.bad[2].reason, HasSubstr("not a multiaddr"));
  EXPECT_THAT(sorted.bad[3].reason, HasSubstr("no address to reach it"));
  EXPECT_EQ(sorted.bad[4].text, "");
  EXPECT_FALSE(sorted.all_bad());
  EXPECT_TRUE(sort_bootstrap_entries(std::vector<std::string>{"nonsense", "/ip4/1.2.3.4/tcp/1"}).all_bad());
  EXPECT_FALSE(sort_bootstrap_entries({}).all_bad()) << "no bootstrap at all is a valid choice";
}

class BootstrapPeersTest : public ::testing::Test {
 protected:
  BootstrapOptions options() {
    BootstrapOptions options;
    options.dns.nameserver = DnsNameserver{"127.0.0.1", server_.port()};
    options.dns.try_timeout_seconds = 1;
    options.dns.tries = 1;
    options.retry_first = milliseconds(200);
    options.refresh_interval = std::chrono::minutes(10);
    return options;
  }
  void run_for(milliseconds duration) {
    loop_.context().restart();
    loop_.context().run_for(duration);
  }
  // Runs the loop until `done` holds or the deadline passes.
  template <class Predicate>
  void run_until(Predicate done, milliseconds deadline = milliseconds(5000)) {
    const auto until = loop_.now() + deadline;
    runtime::asio::Timer keep_busy(loop_);  // answers arrive from another thread: keep the loop waiting
    while (!done() && loop_.now() < until) {
      keep_busy.arm_at(loop_.now() + milliseconds(20), [] {});
      run_for(milliseconds(20));
    }
  }

  testing::FakeDnsServer server_;
  runtime::asio::EventLoop loop_;
  std::vector<std::string> added_;
  BootstrapPeers::AddBootstrap add_ = [this](const Multiaddr& address) { added_.push_back(address.to_string()); };
};

TEST_F(BootstrapPeersTest, AllBadIsAnErrorAndEmptyIsNot) {
  BootstrapPeers none(loop_, add_, options());
  EXPECT_TRUE(none.start({}).has_value());
  BootstrapPeers bad(loop_, add_, options());
  const std::vector<std::string> entries = {"/ip4/10.0.0.1/tcp/4001", "nonsense"};
  auto started = bad.start(entries);
  ASSERT_FALSE(started.has_value());
  EXPECT_THAT(started.error().text, HasSubstr("no usable bootstrap entry: all 2 entries"));
  EXPECT_THAT(added_, IsEmpty());
}

TEST_F(BootstrapPeersTest, DirectEntriesAreAddedAtOnceAndBadOnesSkipped) {
  BootstrapPeers bootstrap(loop_, add_, options());
  const std::vector<std::string> entries = {"garbage", "/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)};
  ASSERT_TRUE(bootstrap.start(entries).has_value());
  EXPECT_THAT(added_, ElementsAre(entries[1]));
}

TEST_F(BootstrapPeersTest, ResolvesDnsaddrEntriesThroughNestedNames) {
  server_.set_txt("_dnsaddr.boot.example.org",
                  {"dnsaddr=/dnsaddr/ams.boot.example.org/p2p/" + peer(1),
                   "dnsaddr=/dnsaddr/sfo.boot.example.org/p2p/" + peer(2)});
  server_.set_txt("_dnsaddr.ams.boot.example.org", {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
                                                    "dnsaddr=/ip4/10.0.0.9/tcp/4001"});
  server_.set_txt("_dnsaddr.sfo.boot.example.org", {"dnsaddr=/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2)});
  BootstrapPeers bootstrap(loop_, add_, options());
  const std::vector<std::string> entries = {"/dnsaddr/boot.example.org", "/dnsaddr/boot.example.org/p2p/" + peer(2)};
  ASSERT_TRUE(bootstrap.start(entries).has_value());
  EXPECT_THAT(added_, IsEmpty()) << "resolution never completes inside start()";
  run_until([&] { return bootstrap.resolutions_finished() == 2; });
  EXPECT_THAT(added_, ElementsAre("/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1), "/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2),
                                  "/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2)))
      << "the address without a peer id is skipped; the second entry keeps only its peer";
  EXPECT_EQ(bootstrap.resolved_addresses_added(), 3u);
}

TEST_F(BootstrapPeersTest, AFailedResolutionIsRetried) {
  server_.set_silent("_dnsaddr.late.example.org");
  BootstrapPeers bootstrap(loop_, add_, options());
  const std::vector<std::string> entries = {"/dnsaddr/late.example.org"};
  ASSERT_TRUE(bootstrap.start(entries).has_value());
  run_until([&] { return bootstrap.resolutions_finished() == 1; });
  EXPECT_THAT(added_, IsEmpty());
  EXPECT_EQ(server_.queries("_dnsaddr.late.example.org"), 1u);

  // The server answers by the time of the retry, which finds the peer.
  server_.set_txt("_dnsaddr.late.example.org", {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)});
  run_until([&] { return !added_.empty(); });
  EXPECT_THAT(added_, ElementsAre("/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)));
}

}  // namespace
}  // namespace taho::node
