#include "proto/dnsaddr/resolution.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <map>

namespace taho::dnsaddr {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string peer(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key).to_string();
}

Multiaddr addr(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  EXPECT_TRUE(parsed.has_value()) << text;
  return parsed ? *parsed : Multiaddr{};
}

std::vector<std::string> texts(const std::vector<Multiaddr>& addresses) {
  std::vector<std::string> result;
  for (const auto& address : addresses) result.push_back(address.to_string());
  return result;
}

// A zone: TXT records by name; names missing from it fail as NXDOMAIN.
using Zone = std::map<std::string, std::vector<std::string>>;

// Answers every lookup from the zone until the resolution is finished;
// returns the names looked up, in order.
std::vector<std::string> run(Resolution& resolution, const Zone& zone) {
  std::vector<std::string> asked;
  while (auto lookup = resolution.poll_lookup()) {
    asked.push_back(lookup->name);
    const auto found = zone.find(lookup->name);
    if (found == zone.end()) {
      resolution.handle_failure(lookup->id, "no such name");
    } else {
      resolution.handle_txt(lookup->id, found->second);
    }
  }
  EXPECT_TRUE(resolution.finished());
  return asked;
}

TEST(DnsaddrTxt, ParsesOnlyDnsaddrRecords) {
  EXPECT_EQ(parse_txt_record("dnsaddr=/ip4/1.2.3.4/tcp/4001")->to_string(), "/ip4/1.2.3.4/tcp/4001");
  EXPECT_EQ(parse_txt_record("v=spf1 -all").error().code, TxtErrc::not_dnsaddr);
  EXPECT_EQ(parse_txt_record("DNSADDR=/ip4/1.2.3.4").error().code, TxtErrc::not_dnsaddr);
  EXPECT_EQ(parse_txt_record("").error().code, TxtErrc::not_dnsaddr);
  EXPECT_EQ(parse_txt_record("dnsaddr=").error().code, TxtErrc::bad_multiaddr);
  EXPECT_EQ(parse_txt_record("dnsaddr=/ip4/300.1.1.1/tcp/1").error().code, TxtErrc::bad_multiaddr);
  EXPECT_EQ(parse_txt_record(std::string("dnsaddr=/ip4/1.2.3.4\0/tcp/1", 27)).error().code, TxtErrc::bad_multiaddr);
}

TEST(DnsaddrTxt, SuffixMatchIsComponentWise) {
  const auto a = addr("/ip4/1.2.3.4/tcp/4001/p2p/" + peer(1));
  EXPECT_TRUE(ends_with(a, Multiaddr{}));
  EXPECT_TRUE(ends_with(a, addr("/p2p/" + peer(1))));
  EXPECT_TRUE(ends_with(a, addr("/tcp/4001/p2p/" + peer(1))));
  EXPECT_FALSE(ends_with(a, addr("/p2p/" + peer(2))));
  EXPECT_FALSE(ends_with(a, addr("/tcp/4002/p2p/" + peer(1))));
  EXPECT_FALSE(ends_with(addr("/tcp/1"), addr("/ip4/1.2.3.4/tcp/1")));
}

TEST(DnsaddrTxt, SplitsDomainAndSuffix) {
  const auto target = split_dnsaddr(addr("/dnsaddr/boot.example.org/p2p/" + peer(1)));
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(target->domain, "boot.example.org");
  EXPECT_EQ(target->suffix.to_string(), "/p2p/" + peer(1));
  EXPECT_TRUE(split_dnsaddr(addr("/dnsaddr/boot.example.org"))->suffix.empty());
  EXPECT_FALSE(split_dnsaddr(addr("/dns4/boot.example.org/tcp/1")).has_value());
  EXPECT_EQ(query_name("boot.example.org."), "_dnsaddr.boot.example.org");
}

TEST(DnsaddrResolution, KeepsTheRecordsOfTheNamedPeer) {
  const Zone zone = {{"_dnsaddr.boot.example.org",
                      {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1), "v=spf1 -all",
                       "dnsaddr=/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2),
                       "dnsaddr=/ip6/::1/udp/4001/quic-v1/p2p/" + peer(1)}}};
  Resolution resolution(addr("/dnsaddr/boot.example.org/p2p/" + peer(1)));
  EXPECT_THAT(run(resolution, zone), ElementsAre("_dnsaddr.boot.example.org"));
  EXPECT_THAT(texts(resolution.addresses()), ElementsAre("/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
                                                         "/ip6/::1/udp/4001/quic-v1/p2p/" + peer(1)));
  EXPECT_THAT(resolution.notes(), IsEmpty());
}

TEST(DnsaddrResolution, WithoutAPeerIdKeepsEveryRecord) {
  const Zone zone = {{"_dnsaddr.boot.example.org",
                      {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
                       "dnsaddr=/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2),
                       "dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)}}};
  Resolution resolution(addr("/dnsaddr/boot.example.org"));
  run(resolution, zone);
  EXPECT_THAT(texts(resolution.addresses()), ElementsAre("/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
                                                         "/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2)))
      << "duplicates are dropped";
}

// bootstrap.libp2p.io's layout: the top name lists one nested name per peer.
TEST(DnsaddrResolution, FollowsNestedNamesThatMatch) {
  const Zone zone = {
      {"_dnsaddr.boot.example.org",
       {"dnsaddr=/dnsaddr/ams.boot.example.org/p2p/" + peer(1), "dnsaddr=/dnsaddr/sfo.boot.example.org/p2p/" + peer(2),
        "dnsaddr=/dnsaddr/any.boot.example.org"}},
      {"_dnsaddr.ams.boot.example.org", {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)}},
      {"_dnsaddr.sfo.boot.example.org", {"dnsaddr=/ip4/10.0.0.2/tcp/4001/p2p/" + peer(2)}},
      {"_dnsaddr.any.boot.example.org",
       {"dnsaddr=/ip4/10.0.0.3/tcp/4001/p2p/" + peer(1), "dnsaddr=/ip4/10.0.0.4/tcp/4001/p2p/" + peer(3)}},
  };
  Resolution one(addr("/dnsaddr/boot.example.org/p2p/" + peer(1)));
  EXPECT_THAT(run(one, zone), ElementsAre("_dnsaddr.boot.example.org", "_dnsaddr.ams.boot.example.org",
                                          "_dnsaddr.any.boot.example.org"))
      << "sfo names another peer; any names none, so it may hold ours";
  EXPECT_THAT(texts(one.addresses()), ElementsAre("/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1),
                                                  "/ip4/10.0.0.3/tcp/4001/p2p/" + peer(1)));

  Resolution all(addr("/dnsaddr/boot.example.org"));
  EXPECT_EQ(run(all, zone).size(), 4u);
  EXPECT_EQ(all.addresses().size(), 4u);
}

TEST(DnsaddrResolution, ANestedNameCannotWidenTheSuffix) {
  // Found by fuzzing: the entry's suffix is itself a /dnsaddr, a record is
  // exactly that suffix, and the nested name's own (empty) suffix used to
  // replace the entry's, so addresses of any peer came back.
  const Zone zone = {
      {"_dnsaddr.a.example.org", {"dnsaddr=/dnsaddr/c.example.org"}},
      {"_dnsaddr.c.example.org", {"dnsaddr=/ip4/10.0.0.1/tcp/4001/p2p/" + peer(1)}},
  };
  Resolution resolution(addr("/dnsaddr/a.example.org/dnsaddr/c.example.org"));
  EXPECT_THAT(run(resolution, zone), ElementsAre("_dnsaddr.a.example.org", "_dnsaddr.c.example.org"));
  EXPECT_THAT(resolution.addresses(), IsEmpty());
}

TEST(DnsaddrResolution, ReportsFailuresAndBrokenRecords) {
  const Zone zone = {{"_dnsaddr.boot.example.org",
                      {"dnsaddr=/ip4/10.0.0.1/tcp/99999", "dnsaddr=/dnsaddr/gone.example.org"}}};
  Resolution resolution(addr("/dnsaddr/boot.example.org"));
  run(resolution, zone);
  EXPECT_THAT(resolution.addresses(), IsEmpty());
  EXPECT_EQ(resolution.failed_lookups(), 1u);
  EXPECT_THAT(resolution.notes(),
              ElementsAre(HasSubstr("record \"dnsaddr=/ip4/10.0.0.1/tcp/99999\" skipped"),
                          "_dnsaddr.gone.example.org: no such name"));
}

TEST(DnsaddrResolution, ALoopingZoneIsLookedUpOncePerName) {
  const Zone zone = {{"_dnsaddr.a.example.org", {"dnsaddr=/dnsaddr/b.example.org"}},
                     {"_dnsaddr.b.example.org", {"dnsaddr=/dnsaddr/a.example.org"}}};
  Resolution resolution(addr("/dnsaddr/a.example.org"));
  EXPECT_THAT(run(resolution, zone), ElementsAre("_dnsaddr.a.example.org", "_dnsaddr.b.example.org"));
  EXPECT_THAT(resolution.addresses(), IsEmpty());
}

TEST(DnsaddrResolution, NestingDepthIsBounded) {
  // level0 -> level1 -> ... each a nested name.
  Zone zone;
  for (int level = 0; level < 10; ++level) {
    zone["_dnsaddr.level" + std::to_string(level) + ".example.org"] = {
        "dnsaddr=/dnsaddr/level" + std::to_string(level + 1) + ".example.org",
        "dnsaddr=/ip4/10.0.0." + std::to_string(level + 1) + "/tcp/1/p2p/" + peer(1)};
  }
  Limits limits;
  limits.depth_max = 2;
  Resolution resolution(addr("/dnsaddr/level0.example.org"), limits);
  EXPECT_EQ(run(resolution, zone).size(), 3u) << "the entry and two nested levels";
  EXPECT_EQ(resolution.addresses().size(), 3u);
  EXPECT_THAT(resolution.notes(), ElementsAre(HasSubstr("_dnsaddr.level3.example.org: not looked up, nested deeper")));
}

TEST(DnsaddrResolution, LookupsAndAddressesAreBounded) {
  std::vector<std::string> fan_out;
  for (int i = 0; i < 50; ++i) fan_out.push_back("dnsaddr=/dnsaddr/n" + std::to_string(i) + ".example.org");
  for (int i = 0; i < 300; ++i) {
    fan_out.push_back("dnsaddr=/ip4/10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250) + "/tcp/1");
  }
  Limits limits;
  limits.lookups_max = 5;
  limits.addresses_max = 10;
  limits.txt_records_per_lookup_max = 200;
  Resolution resolution(addr("/dnsaddr/top.example.org"), limits);
  EXPECT_EQ(run(resolution, {{"_dnsaddr.top.example.org", fan_out}}).size(), 5u);
  EXPECT_EQ(resolution.addresses().size(), 10u);
  EXPECT_LE(resolution.notes().size(), limits.notes_max);
  EXPECT_THAT(resolution.notes().front(), HasSubstr("read the first 200 of 350 TXT records"));
}

TEST(DnsaddrResolution, StaleOrUnknownAnswersAreIgnored) {
  Resolution resolution(addr("/dnsaddr/boot.example.org"));
  auto lookup = resolution.poll_lookup();
  ASSERT_TRUE(lookup.has_value());
  EXPECT_FALSE(resolution.finished());
  const std::vector<std::string> records = {"dnsaddr=/ip4/10.0.0.1/tcp/1"};
  resolution.handle_txt(lookup->id + 7, records);
  EXPECT_FALSE(resolution.finished());
  resolution.handle_txt(lookup->id, records);
  resolution.handle_failure(lookup->id, "late");
  EXPECT_TRUE(resolution.finished());
  EXPECT_THAT(texts(resolution.addresses()), ElementsAre("/ip4/10.0.0.1/tcp/1"));
  EXPECT_THAT(resolution.notes(), IsEmpty());
}

TEST(DnsaddrResolution, AnAddressThatIsNoDnsaddrFinishesAtOnce) {
  Resolution resolution(addr("/ip4/10.0.0.1/tcp/1"));
  EXPECT_TRUE(resolution.finished());
  EXPECT_FALSE(resolution.poll_lookup().has_value());
  EXPECT_THAT(resolution.notes(), ElementsAre(HasSubstr("does not start with /dnsaddr")));
}

}  // namespace
}  // namespace taho::dnsaddr
