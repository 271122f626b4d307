// The local API address: an IP literal or "localhost", and a port
// ("127.0.0.1:9481", "[::1]:9481", "localhost:0"). Port 0 picks a free port.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace taho::config {

struct HostPort {
  std::string host;  // without brackets, e.g. "::1"
  std::uint16_t port = 0;

  std::string to_string() const;  // brackets IPv6 hosts again
  friend bool operator==(const HostPort&, const HostPort&) = default;
};

Result<HostPort> parse_host_port(std::string_view text);

}  // namespace taho::config
