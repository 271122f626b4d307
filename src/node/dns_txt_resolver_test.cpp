#include "node/dns_txt_resolver.hpp"

#include <boost/asio/io_context.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <optional>

#include "node/fake_dns_server_for_tests.hpp"

namespace taho::node {
namespace {

using ::testing::ElementsAre;

using LookupResult = Expected<TxtRecords, TxtLookupError>;

class DnsTxtResolverTest : public ::testing::Test {
 protected:
  DnsTxtResolverOptions options() {
    DnsTxtResolverOptions options;
    options.nameserver = DnsNameserver{"127.0.0.1", server_.port()};
    options.try_timeout_seconds = 1;
    options.tries = 1;
    return options;
  }

  void run_for(std::chrono::milliseconds duration) {
    loop_.context().restart();
    loop_.context().run_for(duration);
  }

  // Runs the loop until the lookup answers (or a deadline passes).
  LookupResult lookup(DnsTxtResolver& resolver, const std::string& name) {
    std::optional<LookupResult> result;
    resolver.lookup(name, [&](LookupResult answer) {
      result = std::move(answer);
      loop_.stop();
    });
    // The pending timer keeps the loop from running out of work while the
    // answer is still on the worker thread.
    runtime::asio::Timer deadline(loop_);
    deadline.arm_at(loop_.now() + std::chrono::seconds(10), [&] { loop_.stop(); });
    run_for(std::chrono::seconds(10));
    if (!result) return Unexpected<TxtLookupError>{TxtLookupError{TxtLookupErrc::unreachable, "test deadline"}};
    return std::move(*result);
  }

  testing::FakeDnsServer server_;
  runtime::asio::EventLoop loop_;
};

TEST_F(DnsTxtResolverTest, ReadsTheTxtRecordsOfAName) {
  const std::string long_record = "dnsaddr=/dnsaddr/" + std::string(200, 'a') + ".example.org/p2p/" + std::string(60, 'b');
  server_.set_txt("_dnsaddr.boot.example.org", {"dnsaddr=/ip4/10.0.0.1/tcp/4001", long_record});
  DnsTxtResolver resolver(loop_, options());
  auto records = lookup(resolver, "_dnsaddr.boot.example.org");
  ASSERT_TRUE(records.has_value()) << records.error().detail;
  EXPECT_THAT(*records, ElementsAre("dnsaddr=/ip4/10.0.0.1/tcp/4001", long_record))
      << "a record's character strings are joined";
  EXPECT_EQ(server_.queries("_dnsaddr.boot.example.org"), 1u);
}

TEST_F(DnsTxtResolverTest, TellsMissingNamesFromSilentServers) {
  server_.set_txt("_dnsaddr.empty.example.org", {});
  server_.set_silent("_dnsaddr.slow.example.org");
  DnsTxtResolver resolver(loop_, options());
  EXPECT_EQ(lookup(resolver, "_dnsaddr.nowhere.example.org").error().code, TxtLookupErrc::no_such_name);
  EXPECT_EQ(lookup(resolver, "_dnsaddr.empty.example.org").error().code, TxtLookupErrc::no_records);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(lookup(resolver, "_dnsaddr.slow.example.org").error().code, TxtLookupErrc::unreachable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5)) << "bounded by the try timeout";
  EXPECT_EQ(lookup(resolver, "").error().code, TxtLookupErrc::bad_name);
  EXPECT_EQ(lookup(resolver, std::string(300, 'a')).error().code, TxtLookupErrc::bad_name);
}

TEST_F(DnsTxtResolverTest, TheLoopKeepsRunningDuringALookup) {
  server_.set_silent("_dnsaddr.slow.example.org");
  DnsTxtResolver resolver(loop_, options());
  int ticks = 0;
  runtime::asio::Timer tick(loop_);
  std::function<void()> on_tick = [&] {
    ++ticks;
    tick.arm_at(loop_.now() + std::chrono::milliseconds(50), on_tick);
  };
  tick.arm_at(loop_.now(), on_tick);
  EXPECT_FALSE(lookup(resolver, "_dnsaddr.slow.example.org").has_value());
  EXPECT_GE(ticks, 10) << "a one-second timeout elapsed while the loop ran timers";
}

TEST_F(DnsTxtResolverTest, NoAnswerArrivesAfterTheResolverIsGone) {
  server_.set_silent("_dnsaddr.slow.example.org");
  bool answered = false;
  {
    DnsTxtResolver resolver(loop_, options());
    resolver.lookup("_dnsaddr.slow.example.org", [&](LookupResult) { answered = true; });
  }
  run_for(std::chrono::milliseconds(1500));
  EXPECT_FALSE(answered);
}

TEST(TxtRecordsFromAnswer, RefusesGarbageAndKeepsOnlyTxt) {
  EXPECT_EQ(txt_records_from_answer(Bytes{1, 2, 3}).error().code, TxtLookupErrc::bad_answer);
  mdns::dns::Message message;
  message.header.flags = mdns::dns::flag_response;
  const auto name = *mdns::dns::Name::parse("_dnsaddr.a.org");
  message.answers.push_back({name, mdns::dns::type::a, mdns::dns::class_in, 60, mdns::dns::AData{{1, 2, 3, 4}}});
  EXPECT_EQ(txt_records_from_answer(*mdns::dns::encode(message)).error().code, TxtLookupErrc::no_records);
  message.answers.push_back(
      {name, mdns::dns::type::txt, mdns::dns::class_in, 60, mdns::dns::TxtData{{"dnsaddr=", "/ip4/1.2.3.4"}}});
  EXPECT_THAT(*txt_records_from_answer(*mdns::dns::encode(message)), ElementsAre("dnsaddr=/ip4/1.2.3.4"));
}

}  // namespace
}  // namespace taho::node
