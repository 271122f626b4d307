#include "config/host_port.hpp"

#include <gtest/gtest.h>

namespace taho::config {
namespace {

TEST(HostPort, ParsesIpv4Ipv6AndLocalhost) {
  EXPECT_EQ(*parse_host_port("127.0.0.1:9481"), (HostPort{"127.0.0.1", 9481}));
  EXPECT_EQ(*parse_host_port("[::1]:80"), (HostPort{"::1", 80}));
  EXPECT_EQ(*parse_host_port("localhost:0"), (HostPort{"localhost", 0}));
  EXPECT_EQ(*parse_host_port("0.0.0.0:65535"), (HostPort{"0.0.0.0", 65535}));
}

TEST(HostPort, PrintsBackTheSameText) {
  for (const char* text : {"127.0.0.1:9481", "[::1]:80", "localhost:0", "[fe80::1]:1"}) {
    EXPECT_EQ(parse_host_port(text)->to_string(), text);
  }
}

TEST(HostPort, RejectsBadHosts) {
  for (const char* text : {"example.com:80", ":80", "1.2.3:80", "256.1.1.1:80", "[127.0.0.1]:80", "::1:80"}) {
    EXPECT_FALSE(parse_host_port(text).has_value()) << text;
  }
}

TEST(HostPort, RejectsBadPorts) {
  for (const char* text : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:80x",
                           "127.0.0.1:+80", "localhost:99999999999"}) {
    const auto parsed = parse_host_port(text);
    ASSERT_FALSE(parsed.has_value()) << text;
  }
  EXPECT_NE(parse_host_port("127.0.0.1:65536").error().text.find("port must be"), std::string::npos);
}

}  // namespace
}  // namespace taho::config
