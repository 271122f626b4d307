#include "proto/mdns/discovery.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>

#include "base/seeded_rng.hpp"

namespace taho::mdns {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

constexpr InterfaceIndex kLan = 2;

PeerId peer(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key);
}

Multiaddr addr(std::string_view text) { return *Multiaddr::parse(text); }

Instant at(Duration d) { return Instant{d}; }

dns::Name name(std::string_view dotted) { return *dns::Name::parse(dotted); }

// A response as js-libp2p writes it: PTR and one TXT per address, all in
// the answers section (or the TXT in the additionals when asked).
Bytes response(std::string_view peer_name, const std::vector<std::string>& dnsaddrs, std::uint32_t ttl = 120,
               bool txt_in_additionals = false) {
  dns::Message message;
  message.header.flags = dns::flag_response | dns::flag_authoritative;
  const auto instance = name(std::string(peer_name) + "._p2p._udp.local");
  message.answers.push_back({name("_p2p._udp.local"), dns::type::ptr, dns::class_in, ttl, dns::PtrData{instance}});
  for (const auto& text : dnsaddrs) {
    dns::Record txt{instance, dns::type::txt, dns::class_in, ttl, dns::TxtData{{"dnsaddr=" + text}}};
    (txt_in_additionals ? message.additionals : message.answers).push_back(std::move(txt));
  }
  return *dns::encode(message);
}

Bytes query() {
  dns::Message message;
  message.questions.push_back({name("_p2p._udp.local"), dns::type::ptr, dns::class_in});
  return *dns::encode(message);
}

std::vector<PeerDiscovered> drain_events(Discovery& core) {
  std::vector<PeerDiscovered> out;
  while (auto event = core.poll_event()) out.push_back(std::move(*event));
  return out;
}

std::vector<Transmit> drain_transmits(Discovery& core) {
  std::vector<Transmit> out;
  while (auto transmit = core.poll_transmit()) out.push_back(std::move(*transmit));
  return out;
}

// Options for tests that look at one exchange: no quick re-queries.
Options without_startup_queries() {
  Options options;
  options.startup_queries.clear();
  return options;
}

// Sends the query due at start and forgets it.
void skip_first_query(Discovery& core) {
  core.handle_timeout(at(Duration::zero()));
  drain_transmits(core);
}

// Several cores on one multicast segment: every datagram reaches every core,
// the sender included (IP_MULTICAST_LOOP), on interface kLan.
struct Lan {
  std::vector<Discovery*> cores;
  std::map<Discovery*, std::vector<PeerDiscovered>> found;
  Instant now{};

  void deliver_all() {
    bool moved = true;
    while (moved) {
      moved = false;
      for (auto* sender : cores) {
        while (auto transmit = sender->poll_transmit()) {
          moved = true;
          for (auto* receiver : cores) receiver->handle_datagram(now, transmit->datagram, kLan);
        }
      }
    }
    for (auto* core : cores) {
      for (auto& event : drain_events(*core)) found[core].push_back(std::move(event));
    }
  }

  // Advances virtual time timer by timer until `until`.
  void run_until(Instant until) {
    deliver_all();
    while (true) {
      std::optional<Instant> next;
      for (auto* core : cores) {
        auto timeout = core->next_timeout();
        if (timeout && (!next || *timeout < *next)) next = timeout;
      }
      if (!next || *next > until) break;
      now = std::max(now, *next);
      for (auto* core : cores) {
        if (auto timeout = core->next_timeout(); timeout && *timeout <= now) core->handle_timeout(now);
      }
      deliver_all();
    }
    now = until;
  }
};

TEST(MdnsDiscovery, TwoPeersFindEachOtherWithinTwoSeconds) {
  SeededRng rng_a(1), rng_b(2);
  Discovery a(at(Duration::zero()), peer(1), rng_a);
  Discovery b(at(milliseconds(300)), peer(2), rng_b);
  a.set_listen_addrs(std::vector{addr("/ip4/192.168.1.10/tcp/4001"), addr("/ip4/8.8.8.8/tcp/4001")});
  b.set_listen_addrs(std::vector{addr("/ip4/10.0.0.7/tcp/4001/p2p/" + peer(2).to_string())});

  Lan lan;
  lan.cores = {&a};
  lan.run_until(at(milliseconds(300)));  // b starts later
  lan.cores.push_back(&b);
  // a answered its own first query at once, so its answer to b waits for
  // the per-interface rate limit: about a second after that.
  lan.run_until(at(milliseconds(1500)));

  ASSERT_EQ(lan.found[&a].size(), 1u);
  EXPECT_EQ(lan.found[&a][0].peer, peer(2));
  EXPECT_THAT(lan.found[&a][0].addrs, ElementsAre(addr("/ip4/10.0.0.7/tcp/4001/p2p/" + peer(2).to_string())));
  ASSERT_EQ(lan.found[&b].size(), 1u);
  EXPECT_EQ(lan.found[&b][0].peer, peer(1));
  // The public address is not announced on the LAN.
  EXPECT_THAT(lan.found[&b][0].addrs, ElementsAre(addr("/ip4/192.168.1.10/tcp/4001/p2p/" + peer(1).to_string())));
  EXPECT_GT(a.stats().own_answers_ignored, 0u);
}

TEST(MdnsDiscovery, FivePeersFindEachOtherAndReReportOncePerInterval) {
  std::vector<std::unique_ptr<SeededRng>> rngs;
  std::vector<std::unique_ptr<Discovery>> cores;
  Lan lan;
  for (std::uint8_t i = 1; i <= 5; ++i) {
    rngs.push_back(std::make_unique<SeededRng>(i));
    cores.push_back(std::make_unique<Discovery>(at(milliseconds(i * 100)), peer(i), *rngs.back()));
    cores.back()->set_listen_addrs(std::vector{addr("/ip4/10.77.0." + std::to_string(i) + "/tcp/4001")});
    lan.cores.push_back(cores.back().get());
  }
  lan.run_until(at(seconds(2)));
  for (auto& core : cores) {
    std::set<PeerId> seen;
    for (const auto& event : lan.found[core.get()]) seen.insert(event.peer);
    EXPECT_EQ(seen.size(), 4u);
    EXPECT_EQ(core->known_peer_count(), 4u);
    // Answers to several queries within one interval are reported once.
    EXPECT_EQ(lan.found[core.get()].size(), 4u);
  }
  lan.run_until(at(seconds(25)));
  for (auto& core : cores) {
    EXPECT_GE(lan.found[core.get()].size(), 8u);
    EXPECT_LE(lan.found[core.get()].size(), 12u);
    EXPECT_EQ(core->stats().malformed, 0u);
  }
}

TEST(MdnsDiscovery, QueriesAtStartThenQuicklyThenEveryInterval) {
  SeededRng rng(3);
  Discovery core(at(Duration::zero()), peer(1), rng);
  std::vector<Duration> query_times;
  Instant now{};
  while (now < at(seconds(31))) {
    core.handle_timeout(now);
    for (const auto& transmit : drain_transmits(core)) {
      EXPECT_FALSE(transmit.interface_index.has_value());
      auto message = dns::decode(transmit.datagram);
      ASSERT_TRUE(message);
      ASSERT_EQ(message->questions.size(), 1u);
      EXPECT_EQ(message->questions[0].name.to_string(), "_p2p._udp.local");
      query_times.push_back(now.since_start);
    }
    now = *core.next_timeout();
  }
  EXPECT_THAT(query_times, ElementsAre(Duration::zero(), milliseconds(500), milliseconds(1500), seconds(10),
                                       seconds(20), seconds(30)));
}

TEST(MdnsDiscovery, AnswersLikeJsLibp2p) {
  SeededRng rng(4);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  core.set_listen_addrs(std::vector{addr("/ip4/192.168.1.10/tcp/4001"), addr("/ip4/192.168.1.10/tcp/4002/ws")});
  core.handle_datagram(at(seconds(1)), query(), kLan);
  EXPECT_TRUE(drain_transmits(core).empty());  // after a short random delay
  const Instant due = *core.next_timeout();
  EXPECT_GE(due, at(seconds(1) + milliseconds(20)));
  EXPECT_LE(due, at(seconds(1) + milliseconds(120)));
  core.handle_timeout(due);
  auto sent = drain_transmits(core);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].interface_index, std::optional<InterfaceIndex>(kLan));
  auto message = dns::decode(sent[0].datagram);
  ASSERT_TRUE(message);
  EXPECT_TRUE(message->is_response());
  EXPECT_TRUE(message->questions.empty());
  ASSERT_EQ(message->answers.size(), 3u);
  const auto& ptr = std::get<dns::PtrData>(message->answers[0].data);
  EXPECT_EQ(message->answers[0].name.to_string(), "_p2p._udp.local");
  ASSERT_EQ(ptr.target.labels.size(), 4u);
  EXPECT_EQ(ptr.target.labels[0], core.peer_name());
  EXPECT_EQ(core.peer_name().size(), 63u);
  EXPECT_EQ(message->answers[1].name, ptr.target);
  EXPECT_THAT(std::get<dns::TxtData>(message->answers[1].data).strings,
              ElementsAre("dnsaddr=/ip4/192.168.1.10/tcp/4001/p2p/" + peer(1).to_string()));
  EXPECT_THAT(std::get<dns::TxtData>(message->answers[2].data).strings,
              ElementsAre("dnsaddr=/ip4/192.168.1.10/tcp/4002/ws/p2p/" + peer(1).to_string()));
}

TEST(MdnsDiscovery, AnswersAtMostOncePerSecondPerInterface) {
  SeededRng rng(5);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  core.set_listen_addrs(std::vector{addr("/ip4/10.1.1.1/tcp/1")});
  std::vector<std::pair<Instant, std::optional<InterfaceIndex>>> responses;
  Instant now = at(seconds(1));
  for (int i = 0; i < 30; ++i) {  // a query every 100 ms on two interfaces
    core.handle_datagram(now, query(), kLan);
    core.handle_datagram(now, query(), kLan + 1);
    const Instant next = now + milliseconds(100);
    while (core.next_timeout() && *core.next_timeout() <= next) {
      const Instant due = *core.next_timeout();
      core.handle_timeout(due);
      for (auto& transmit : drain_transmits(core)) {
        if (dns::decode(transmit.datagram)->is_response()) responses.emplace_back(due, transmit.interface_index);
      }
    }
    now = next;
  }
  for (const InterfaceIndex index : {kLan, kLan + 1}) {
    std::vector<Instant> times;
    for (const auto& [when, where] : responses) {
      if (where == index) times.push_back(when);
    }
    ASSERT_GE(times.size(), 2u);
    ASSERT_LE(times.size(), 4u);
    for (std::size_t i = 1; i < times.size(); ++i) EXPECT_GE(times[i] - times[i - 1], seconds(1));
  }
  EXPECT_GT(core.stats().responses_deferred, 0u);
}

TEST(MdnsDiscovery, ReadsTxtFromAnswersOrAdditionals) {
  SeededRng rng(6);
  Discovery core(at(Duration::zero()), peer(1), rng);
  const std::string p2 = "/p2p/" + peer(2).to_string();
  const std::string p3 = "/p2p/" + peer(3).to_string();
  core.handle_datagram(at(seconds(1)), response(std::string(63, 'b'), {"/ip4/10.0.0.2/tcp/1" + p2}), kLan);
  core.handle_datagram(at(seconds(1)),
                       response(std::string(40, 'c'), {"/ip4/10.0.0.3/tcp/1" + p3, "/ip4/127.0.0.1/tcp/1" + p3}, 120, true),
                       kLan);
  auto events = drain_events(core);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].peer, peer(2));
  EXPECT_EQ(events[1].peer, peer(3));
  // A loopback address heard on a LAN names the sender's host: dropped.
  EXPECT_THAT(events[1].addrs, ElementsAre(addr("/ip4/10.0.0.3/tcp/1" + p3)));
  EXPECT_EQ(core.stats().loopback_addrs_dropped, 1u);
}

TEST(MdnsDiscovery, LoopbackAddressesStayOnLoopbackInterfaces) {
  constexpr InterfaceIndex kLoopback = 1;
  Options options = without_startup_queries();
  options.announce_loopback = true;
  SeededRng rng(17);
  Discovery core(at(Duration::zero()), peer(1), rng, options);
  skip_first_query(core);
  core.set_loopback_interfaces(std::vector<InterfaceIndex>{kLoopback});
  core.set_listen_addrs(std::vector{addr("/ip4/127.0.0.1/tcp/1"), addr("/ip4/10.0.0.1/tcp/1")});
  auto answer_on = [&](InterfaceIndex index, Instant now) {
    core.handle_datagram(now, query(), index);
    core.handle_timeout(*core.next_timeout());
    std::vector<std::string> strings;
    for (const auto& transmit : drain_transmits(core)) {
      EXPECT_EQ(transmit.interface_index, std::optional<InterfaceIndex>(index));
      const auto message = dns::decode(transmit.datagram);
      for (const auto& record : message->answers) {
        if (const auto* txt = std::get_if<dns::TxtData>(&record.data)) strings.push_back(txt->strings.at(0));
      }
    }
    return strings;
  };
  const std::string mine = "/p2p/" + peer(1).to_string();
  EXPECT_THAT(answer_on(kLoopback, at(seconds(1))),
              ElementsAre("dnsaddr=/ip4/127.0.0.1/tcp/1" + mine, "dnsaddr=/ip4/10.0.0.1/tcp/1" + mine));
  EXPECT_THAT(answer_on(kLan, at(seconds(1))), ElementsAre("dnsaddr=/ip4/10.0.0.1/tcp/1" + mine));

  // Heard on loopback, a loopback address is believed.
  const std::string p2 = "/p2p/" + peer(2).to_string();
  core.handle_datagram(at(seconds(3)), response("p2", {"/ip4/127.0.0.1/tcp/7" + p2}), kLoopback);
  core.handle_datagram(at(seconds(3)), response("p3", {"/ip4/127.0.0.1/tcp/8/p2p/" + peer(3).to_string()}), kLan);
  auto events = drain_events(core);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].peer, peer(2));
  EXPECT_THAT(events[0].addrs, ElementsAre(addr("/ip4/127.0.0.1/tcp/7" + p2)));
}

TEST(MdnsDiscovery, ReportsAPeerAgainOnlyAfterAnIntervalOrWhenItsAddressesChange) {
  SeededRng rng(7);
  Discovery core(at(Duration::zero()), peer(1), rng);
  const std::string p2 = "/p2p/" + peer(2).to_string();
  const auto first = response("peer2", {"/ip4/10.0.0.2/tcp/1" + p2});
  core.handle_datagram(at(seconds(1)), first, kLan);
  core.handle_datagram(at(seconds(2)), first, kLan);
  core.handle_datagram(at(seconds(5)), first, kLan);
  EXPECT_EQ(drain_events(core).size(), 1u);
  core.handle_datagram(at(seconds(6)), response("peer2", {"/ip4/10.0.0.2/tcp/2" + p2}), kLan);
  EXPECT_EQ(drain_events(core).size(), 1u);  // new address: reported at once
  core.handle_datagram(at(seconds(11)), response("peer2", {"/ip4/10.0.0.2/tcp/2" + p2}), kLan);
  EXPECT_TRUE(drain_events(core).empty());
  core.handle_datagram(at(seconds(16)), response("peer2", {"/ip4/10.0.0.2/tcp/2" + p2}), kLan);
  EXPECT_EQ(drain_events(core).size(), 1u);
  // A goodbye (TTL 0) forgets it: the next answer is news again.
  core.handle_datagram(at(seconds(17)), response("peer2", {"/ip4/10.0.0.2/tcp/2" + p2}, 0), kLan);
  EXPECT_EQ(core.known_peer_count(), 0u);
  EXPECT_EQ(core.stats().goodbyes, 1u);
  core.handle_datagram(at(seconds(18)), first, kLan);
  EXPECT_EQ(drain_events(core).size(), 1u);
}

TEST(MdnsDiscovery, IgnoresOwnAnswersAndForeignPeerIds) {
  SeededRng rng(8);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  core.set_listen_addrs(std::vector{addr("/ip4/10.0.0.1/tcp/1")});
  // Our own answer, looped back by the kernel.
  core.handle_datagram(at(Duration::zero()), query(), kLan);
  core.handle_timeout(*core.next_timeout());
  for (auto& transmit : drain_transmits(core)) core.handle_datagram(at(seconds(1)), transmit.datagram, kLan);
  // Someone else's name, but claiming our peer id.
  core.handle_datagram(at(seconds(1)), response("other", {"/ip4/10.0.0.9/tcp/1/p2p/" + peer(1).to_string()}), kLan);
  EXPECT_TRUE(drain_events(core).empty());
  EXPECT_EQ(core.stats().own_answers_ignored, 2u);
  // Addresses of a second peer in one answer are dropped, not merged.
  const std::string p2 = "/p2p/" + peer(2).to_string();
  core.handle_datagram(at(seconds(2)),
                       response("x", {"/ip4/10.0.0.2/tcp/1" + p2, "/ip4/10.0.0.3/tcp/1/p2p/" + peer(3).to_string(),
                                      "/ip4/10.0.0.2/tcp/1", "not a multiaddr"}),
                       kLan);
  auto events = drain_events(core);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].addrs, ElementsAre(addr("/ip4/10.0.0.2/tcp/1" + p2)));
  EXPECT_EQ(core.stats().peer_id_mismatch, 1u);
  EXPECT_EQ(core.stats().bad_dnsaddr, 2u);
}

TEST(MdnsDiscovery, CountsAndIgnoresMalformedDatagrams) {
  SeededRng rng(9);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  core.set_listen_addrs(std::vector{addr("/ip4/10.0.0.1/tcp/1")});
  const std::vector<Bytes> junk = {
      {}, {0x00}, Bytes(12, 0xff), Bytes(9001, 0), {0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 12, 0, 1},
  };
  for (const auto& datagram : junk) core.handle_datagram(at(seconds(1)), datagram, kLan);
  // A query with a non-zero opcode is not ours to answer.
  Bytes opcode_query = query();
  opcode_query[2] = 0x08;
  core.handle_datagram(at(seconds(1)), opcode_query, kLan);
  EXPECT_EQ(core.stats().malformed, junk.size() + 1);
  EXPECT_EQ(core.stats().datagrams_received, junk.size() + 1);
  EXPECT_TRUE(drain_events(core).empty());
  core.handle_timeout(at(seconds(2)));
  EXPECT_TRUE(drain_transmits(core).empty());  // nothing answered
}

TEST(MdnsDiscovery, AnnouncesOnlyLocalNetworkAddresses) {
  SeededRng rng(10);
  Options options;
  Discovery core(at(Duration::zero()), peer(1), rng, options);
  const std::string mine = "/p2p/" + peer(1).to_string();
  core.set_listen_addrs(std::vector{
      addr("/ip4/10.1.2.3/tcp/1"), addr("/ip4/172.16.0.1/tcp/1"), addr("/ip4/172.32.0.1/tcp/1"),
      addr("/ip4/192.168.0.1/tcp/1"), addr("/ip4/169.254.1.1/tcp/1"), addr("/ip4/127.0.0.1/tcp/1"),
      addr("/ip4/1.1.1.1/tcp/1"), addr("/ip6/fd00::1/tcp/1"), addr("/ip6/fe80::1/tcp/1"), addr("/ip6/::1/tcp/1"),
      addr("/ip6/2001:db8::1/tcp/1"), addr("/dns4/example.local/tcp/1"),
      addr("/ip4/10.9.9.9/tcp/1/p2p/" + peer(2).to_string()), addr("/ip4/10.1.2.3/tcp/1" + mine)});
  EXPECT_THAT(core.announced_addrs(),
              ElementsAre(addr("/ip4/10.1.2.3/tcp/1" + mine), addr("/ip4/172.16.0.1/tcp/1" + mine),
                          addr("/ip4/192.168.0.1/tcp/1" + mine), addr("/ip4/169.254.1.1/tcp/1" + mine),
                          addr("/ip6/fd00::1/tcp/1" + mine), addr("/ip6/fe80::1/tcp/1" + mine)));
  options.announce_loopback = true;
  SeededRng rng2(11);
  Discovery loopback(at(Duration::zero()), peer(1), rng2, options);
  loopback.set_listen_addrs(std::vector{addr("/ip4/127.0.0.1/tcp/1"), addr("/ip6/::1/tcp/1")});
  EXPECT_THAT(loopback.announced_addrs(),
              ElementsAre(addr("/ip4/127.0.0.1/tcp/1" + mine), addr("/ip6/::1/tcp/1" + mine)));
}

TEST(MdnsDiscovery, SplitsLongAnswersIntoDatagramsThatNeedNoFragmentation) {
  SeededRng rng(12);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  std::vector<Multiaddr> many;
  for (int i = 0; i < 16; ++i) many.push_back(addr("/ip6/fd00::" + std::to_string(i + 1) + "/tcp/4001/ws"));
  core.set_listen_addrs(many);
  ASSERT_EQ(core.announced_addrs().size(), 16u);
  core.handle_datagram(at(seconds(1)), query(), kLan);
  core.handle_timeout(*core.next_timeout());
  auto sent = drain_transmits(core);
  ASSERT_GT(sent.size(), 1u);
  // A second core reading them all learns every address.
  SeededRng rng2(13);
  Discovery other(at(Duration::zero()), peer(2), rng2);
  std::set<Multiaddr> learnt;
  for (const auto& transmit : sent) {
    EXPECT_LE(transmit.datagram.size(), 1400u);
    other.handle_datagram(at(seconds(1)), transmit.datagram, kLan);
    for (auto& event : drain_events(other)) learnt.insert(event.addrs.begin(), event.addrs.end());
  }
  EXPECT_EQ(learnt.size(), 16u);
}

TEST(MdnsDiscovery, BoundsAddressesAndNewPeers) {
  SeededRng rng(14);
  Options options;
  options.new_peers_per_interval_max = 3;
  options.peers_max = 5;
  Discovery core(at(Duration::zero()), peer(1), rng, options);
  const std::string p2 = "/p2p/" + peer(2).to_string();
  std::vector<std::string> lots;
  for (int i = 0; i < 40; ++i) lots.push_back("/ip4/10.0.0.2/tcp/" + std::to_string(i + 1) + p2);
  core.handle_datagram(at(seconds(1)), response("p2", lots), kLan);
  auto events = drain_events(core);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].addrs.size(), options.addrs_per_peer_max);
  EXPECT_EQ(core.stats().addrs_over_limit, 1u);

  for (std::uint8_t i = 3; i < 10; ++i) {
    core.handle_datagram(at(seconds(2)), response("p" + std::to_string(i), {"/ip4/10.0.0.9/tcp/1/p2p/" + peer(i).to_string()}),
                         kLan);
  }
  EXPECT_EQ(drain_events(core).size(), 2u);  // 3 new peers per interval, p2 was the first
  EXPECT_EQ(core.stats().new_peers_over_limit, 5u);
  for (std::uint8_t i = 10; i < 20; ++i) {
    core.handle_datagram(at(seconds(12)), response("p" + std::to_string(i), {"/ip4/10.0.0.9/tcp/1/p2p/" + peer(i).to_string()}),
                         kLan);
  }
  EXPECT_EQ(drain_events(core).size(), 2u);  // the table holds 5
  EXPECT_EQ(core.known_peer_count(), 5u);
  EXPECT_GT(core.stats().peers_table_full, 0u);
}

TEST(MdnsDiscovery, HonoursKnownAnswerSuppression) {
  SeededRng rng(15);
  Discovery core(at(Duration::zero()), peer(1), rng, without_startup_queries());
  skip_first_query(core);
  core.set_listen_addrs(std::vector{addr("/ip4/10.0.0.1/tcp/1")});
  dns::Message known;
  known.questions.push_back({name("_p2p._udp.local"), dns::type::ptr, dns::class_in});
  known.answers.push_back({name("_p2p._udp.local"), dns::type::ptr, dns::class_in, 100,
                           dns::PtrData{name(core.peer_name() + "._p2p._udp.local")}});
  core.handle_datagram(at(seconds(1)), *dns::encode(known), kLan);
  core.handle_timeout(at(seconds(2)));
  EXPECT_TRUE(drain_transmits(core).empty());
}

TEST(MdnsDiscovery, QueryNowRestartsTheInterval) {
  SeededRng rng(16);
  Options options;
  options.startup_queries.clear();
  Discovery core(at(Duration::zero()), peer(1), rng, options);
  core.handle_timeout(at(Duration::zero()));
  EXPECT_EQ(drain_transmits(core).size(), 1u);
  core.query_now(at(seconds(4)));
  EXPECT_EQ(drain_transmits(core).size(), 1u);
  EXPECT_EQ(core.next_timeout(), std::optional<Instant>(at(seconds(14))));
}

}  // namespace
}  // namespace taho::mdns
