#include "runtime/asio/network_interfaces.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace taho::runtime::asio {
namespace {

using multiaddr::Protocol;

Multiaddr address(std::string_view text) {
  auto parsed = Multiaddr::parse(text);
  if (!parsed) ADD_FAILURE() << "test address does not parse: " << text;
  return parsed ? *parsed : Multiaddr{};
}

bool has_ipv4_loopback(const std::vector<LocalAddress>& addresses) {
  return std::any_of(addresses.begin(), addresses.end(), [](const LocalAddress& a) { return a.ip == "127.0.0.1"; });
}

TEST(NetworkInterfacesTest, ListsLoopbackOnlyWhenAsked) {
  const auto all = local_addresses(true);
  if (!has_ipv4_loopback(all)) GTEST_SKIP() << "no 127.0.0.1 on an up interface here";
  for (const auto& local : all) {
    EXPECT_FALSE(local.interface_name.empty());
    EXPECT_TRUE(multiaddr::Component::make(local.ipv6 ? Protocol::ip6 : Protocol::ip4, local.ip)) << local.ip;
  }
  const auto loopback = std::find_if(all.begin(), all.end(), [](const LocalAddress& a) { return a.ip == "127.0.0.1"; });
  EXPECT_TRUE(loopback->loopback);
  EXPECT_FALSE(loopback->ipv6);

  const auto without = local_addresses(false);
  EXPECT_FALSE(has_ipv4_loopback(without));
  for (const auto& local : without) EXPECT_FALSE(local.loopback) << local.ip;
  EXPECT_EQ(without.size(), static_cast<std::size_t>(std::count_if(all.begin(), all.end(),
                                                                   [](const LocalAddress& a) { return !a.loopback; })));
}

TEST(NetworkInterfacesTest, ExpandsUnspecifiedIpv4KeepingTheRest) {
  if (!has_ipv4_loopback(local_addresses(true))) GTEST_SKIP() << "no 127.0.0.1 on an up interface here";
  const auto expanded = expand_unspecified(address("/ip4/0.0.0.0/tcp/4001/ws"));
  ASSERT_FALSE(expanded.empty());
  EXPECT_NE(std::find(expanded.begin(), expanded.end(), address("/ip4/127.0.0.1/tcp/4001/ws")), expanded.end());
  for (const auto& one : expanded) {
    ASSERT_EQ(one.components().size(), 3u) << one.to_string();
    EXPECT_EQ(one.components()[0].protocol(), Protocol::ip4) << one.to_string();
    EXPECT_NE(one.components()[0].value_text(), "0.0.0.0");
    EXPECT_EQ(one.components()[1].port(), 4001);
    EXPECT_EQ(one.components()[2].protocol(), Protocol::ws);
    EXPECT_EQ(std::count(expanded.begin(), expanded.end(), one), 1) << "duplicate " << one.to_string();
  }
  std::size_t ipv4_count = 0;
  for (const auto& local : local_addresses(true)) ipv4_count += !local.ipv6;
  EXPECT_LE(expanded.size(), ipv4_count);

  const auto public_only = expand_unspecified(address("/ip4/0.0.0.0/tcp/4001"), false);
  EXPECT_EQ(std::find(public_only.begin(), public_only.end(), address("/ip4/127.0.0.1/tcp/4001")), public_only.end());
}

TEST(NetworkInterfacesTest, ExpandsUnspecifiedIpv6WithoutLinkLocal) {
  const auto expanded = expand_unspecified(address("/ip6/::/tcp/4001"));
  for (const auto& one : expanded) {
    EXPECT_EQ(one.components()[0].protocol(), Protocol::ip6) << one.to_string();
    EXPECT_NE(one.components()[0].value_text().rfind("fe8", 0), 0u) << one.to_string();
  }
  const bool has_ipv6_loopback = std::any_of(expanded.begin(), expanded.end(), [](const Multiaddr& a) {
    return a == Multiaddr::parse("/ip6/::1/tcp/4001").value();
  });
  const auto all = local_addresses(true);
  const bool host_has_ipv6_loopback =
      std::any_of(all.begin(), all.end(), [](const LocalAddress& a) { return a.ip == "::1"; });
  EXPECT_EQ(has_ipv6_loopback, host_has_ipv6_loopback);
}

TEST(NetworkInterfacesTest, SpecificAddressesComeBackUnchanged) {
  for (const char* text : {"/ip4/10.1.2.3/tcp/5", "/ip6/::1/tcp/5/ws", "/dns4/example.com/tcp/443/ws"}) {
    const auto expanded = expand_unspecified(address(text));
    ASSERT_EQ(expanded.size(), 1u) << text;
    EXPECT_EQ(expanded[0], address(text));
  }
}

}  // namespace
}  // namespace taho::runtime::asio
