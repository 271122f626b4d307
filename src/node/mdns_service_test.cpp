#include "node/mdns_service.hpp"

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <map>
#include <random>

#include "base/seeded_rng.hpp"

namespace taho::node {
namespace {

PeerId peer(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key);
}

// Loopback only, on a port of our own so the test neither disturbs nor
// hears real mDNS traffic on this machine.
MdnsServiceOptions test_options(std::uint16_t port) {
  MdnsServiceOptions options;
  options.include_loopback = true;
  options.socket.port = port;
  options.socket.required_source_port = port;
  return options;
}

TEST(MdnsService, TwoNodesOnLoopbackFindEachOther) {
  runtime::asio::EventLoop loop;
  std::random_device random;
  const auto port = static_cast<std::uint16_t>(20000 + random() % 20000);
  SeededRng rng_a(1), rng_b(2);
  std::map<std::string, std::vector<std::vector<Multiaddr>>> found;  // "a saw b" -> addresses
  MdnsService a(loop, peer(1), rng_a, test_options(port), [&](PeerId who, std::vector<Multiaddr> addrs) {
    found["a:" + who.to_string()].push_back(std::move(addrs));
  });
  MdnsService b(loop, peer(2), rng_b, test_options(port), [&](PeerId who, std::vector<Multiaddr> addrs) {
    found["b:" + who.to_string()].push_back(std::move(addrs));
  });
  a.set_listen_addrs({*Multiaddr::parse("/ip4/127.0.0.1/tcp/4101"), *Multiaddr::parse("/ip4/8.8.8.8/tcp/1")});
  b.set_listen_addrs({*Multiaddr::parse("/ip4/127.0.0.1/tcp/4102")});
  ASSERT_TRUE(a.start());
  ASSERT_TRUE(b.start());
  loop.context().run_for(std::chrono::milliseconds(2500));

  const auto& a_saw_b = found["a:" + peer(2).to_string()];
  const auto& b_saw_a = found["b:" + peer(1).to_string()];
  ASSERT_EQ(a_saw_b.size(), 1u);
  ASSERT_EQ(b_saw_a.size(), 1u);
  EXPECT_EQ(a_saw_b[0], std::vector{*Multiaddr::parse("/ip4/127.0.0.1/tcp/4102/p2p/" + peer(2).to_string())});
  EXPECT_EQ(b_saw_a[0], std::vector{*Multiaddr::parse("/ip4/127.0.0.1/tcp/4101/p2p/" + peer(1).to_string())});
  EXPECT_EQ(found.size(), 2u);  // nobody reported itself
  EXPECT_GT(a.stats().own_answers_ignored, 0u);
  EXPECT_EQ(a.stats().malformed, 0u);
}

TEST(MdnsService, StartFailsOnABadGroup) {
  runtime::asio::EventLoop loop;
  SeededRng rng(3);
  auto options = test_options(20000);
  options.socket.group = "127.0.0.1";
  MdnsService service(loop, peer(1), rng, options, nullptr);
  EXPECT_FALSE(service.start());
  EXPECT_TRUE(service.interfaces().empty());
}

}  // namespace
}  // namespace taho::node
