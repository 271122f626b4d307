#include "config/host_port.hpp"

#include <arpa/inet.h>

#include <charconv>

namespace taho::config {
namespace {

bool is_ip_literal(const std::string& host) {
  unsigned char address[16];
  return inet_pton(AF_INET, host.c_str(), address) == 1 || inet_pton(AF_INET6, host.c_str(), address) == 1;
}

}  // namespace

std::string HostPort::to_string() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text) {
  const auto quoted = "\"" + std::string(text) + "\"";
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return fail("expected HOST:PORT such as \"127.0.0.1:9481\", got " + quoted);
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    if (host.find(':') == std::string_view::npos) return fail("brackets are only for IPv6 hosts, got " + quoted);
  } else if (host.find(':') != std::string_view::npos) {
    return fail("an IPv6 host needs brackets, e.g. \"[::1]:9481\", got " + quoted);
  }
  HostPort result;
  result.host = std::string(host);
  if (result.host != "localhost" && !is_ip_literal(result.host)) {
    return fail("host must be an IP address or \"localhost\", got " + quoted);
  }
  std::uint32_t port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() || port > 65535) {
    return fail("port must be a number from 0 to 65535, got " + quoted);
  }
  result.port = static_cast<std::uint16_t>(port);
  return result;
}

}  // namespace taho::config
