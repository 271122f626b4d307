#include "runtime/asio/multicast_socket.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <random>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/asio/event_loop.hpp"

namespace taho::runtime::asio {
namespace {

// A port of our own, so the test neither disturbs nor hears real mDNS.
std::uint16_t test_port() {
  std::random_device random;
  return static_cast<std::uint16_t>(20000 + random() % 20000);
}

MulticastSocketOptions loopback_options(std::uint16_t port) {
  MulticastSocketOptions options;
  options.port = port;
  options.required_source_port = port;
  options.include_loopback = true;
  return options;
}

void run_for(EventLoop& loop, std::chrono::milliseconds duration) {
  loop.context().restart();
  loop.context().run_for(duration);
}

std::optional<MulticastInterface> loopback_interface(const std::vector<MulticastInterface>& interfaces) {
  for (const auto& interface : interfaces) {
    if (interface.loopback) return interface;
  }
  return std::nullopt;
}

TEST(MulticastSocket, ListsLoopbackOnlyWhenAsked) {
  EXPECT_FALSE(loopback_interface(multicast_interfaces(false)));
  EXPECT_TRUE(loopback_interface(multicast_interfaces(true)));
}

TEST(MulticastSocket, TwoSocketsShareThePortAndHearEachOtherOnLoopback) {
  EventLoop loop;
  const auto port = test_port();
  std::vector<std::pair<std::string, std::uint32_t>> heard_by_b;
  std::vector<std::pair<std::string, std::uint32_t>> heard_by_a;
  auto a = MulticastSocket::open(loop, loopback_options(port),
                                 {[&](ByteView data, std::uint32_t index) { heard_by_a.emplace_back(std::string(as_text(data)), index); },
                                  nullptr});
  ASSERT_TRUE(a) << a.error().text;
  auto b = MulticastSocket::open(loop, loopback_options(port),
                                 {[&](ByteView data, std::uint32_t index) { heard_by_b.emplace_back(std::string(as_text(data)), index); },
                                  nullptr});
  ASSERT_TRUE(b) << b.error().text;
  const auto lo = loopback_interface((*a)->interfaces());
  ASSERT_TRUE(lo) << "loopback not joined";

  (*a)->send(as_bytes("hello"), lo->index);
  run_for(loop, std::chrono::milliseconds(300));
  ASSERT_EQ(heard_by_b.size(), 1u);
  EXPECT_EQ(heard_by_b[0].first, "hello");
  EXPECT_EQ(heard_by_b[0].second, lo->index);
  // IP_MULTICAST_LOOP: the sender hears itself too.
  ASSERT_EQ(heard_by_a.size(), 1u);
  EXPECT_EQ((*a)->stats().datagrams_sent, 1u);
  EXPECT_EQ((*b)->stats().datagrams_received, 1u);
}

TEST(MulticastSocket, DropsOversizeDatagramsAndSendsToUnknownInterfacesFail) {
  EventLoop loop;
  const auto port = test_port();
  auto options = loopback_options(port);
  options.datagram_bytes_max = 8;
  int heard = 0;
  auto receiver = MulticastSocket::open(loop, options, {[&](ByteView, std::uint32_t) { ++heard; }, nullptr});
  ASSERT_TRUE(receiver) << receiver.error().text;
  auto sender = MulticastSocket::open(loop, loopback_options(port), {});
  ASSERT_TRUE(sender) << sender.error().text;
  (*sender)->send(as_bytes("much longer than eight bytes"), std::nullopt);
  (*sender)->send(as_bytes("x"), 999'999);
  run_for(loop, std::chrono::milliseconds(300));
  EXPECT_EQ(heard, 0);
  EXPECT_GE((*receiver)->stats().dropped_oversize, 1u);
  EXPECT_EQ((*sender)->stats().send_failures, 1u);
}

TEST(MulticastSocket, IgnoresDatagramsFromAnotherSourcePort) {
  EventLoop loop;
  const auto port = test_port();
  int heard = 0;
  auto receiver = MulticastSocket::open(loop, loopback_options(port), {[&](ByteView, std::uint32_t) { ++heard; }, nullptr});
  ASSERT_TRUE(receiver) << receiver.error().text;
  const auto lo = loopback_interface((*receiver)->interfaces());
  ASSERT_TRUE(lo);
  // A plain socket on an ephemeral port sends to the group on loopback.
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(fd, 0);
  ip_mreqn request{};
  request.imr_ifindex = static_cast<int>(lo->index);
  ASSERT_EQ(::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &request, sizeof request), 0);
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_port = htons(port);
  inet_pton(AF_INET, "224.0.0.251", &destination.sin_addr);
  const char text[] = "from elsewhere";
  EXPECT_GT(::sendto(fd, text, sizeof text, 0, reinterpret_cast<const sockaddr*>(&destination), sizeof destination), 0);
  ::close(fd);
  run_for(loop, std::chrono::milliseconds(300));
  EXPECT_EQ(heard, 0);
  EXPECT_EQ((*receiver)->stats().dropped_foreign, 1u);
}

TEST(MulticastSocket, RefusesANonMulticastGroup) {
  EventLoop loop;
  MulticastSocketOptions options;
  options.group = "10.0.0.1";
  options.port = test_port();
  auto socket = MulticastSocket::open(loop, options, {});
  ASSERT_FALSE(socket);
  EXPECT_NE(socket.error().text.find("not an IPv4 multicast address"), std::string::npos);
}

TEST(MulticastSocket, ReportsJoinedInterfacesAfterOpening) {
  EventLoop loop;
  std::vector<MulticastInterface> reported;
  auto socket = MulticastSocket::open(loop, loopback_options(test_port()),
                                      {nullptr, [&](const std::vector<MulticastInterface>& joined) { reported = joined; }});
  ASSERT_TRUE(socket) << socket.error().text;
  EXPECT_TRUE(reported.empty());  // never during open()
  run_for(loop, std::chrono::milliseconds(50));
  EXPECT_EQ(reported.size(), (*socket)->interfaces().size());
  EXPECT_TRUE(loopback_interface(reported));
}

}  // namespace
}  // namespace taho::runtime::asio
