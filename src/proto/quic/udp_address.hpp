// A UDP endpoint (IP address and port) as the QUIC core sees it: plain
// bytes, no sockaddr, so the Endpoint's interface stays free of OS headers.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>

#include "base/multiaddr.hpp"

namespace taho::quic {

struct UdpAddress {
  bool is_ipv6 = false;
  std::array<std::uint8_t, 16> ip{};  // IPv4 uses the first 4 bytes
  std::uint16_t port = 0;

  static UdpAddress ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port);
  static UdpAddress ipv6(const std::array<std::uint8_t, 16>& bytes, std::uint16_t port);
  // /ip4|ip6/<addr>/udp/<port>[/quic-v1][/p2p/<id>]; nullopt for anything else.
  static std::optional<UdpAddress> from_multiaddr(const Multiaddr& address);

  // /ip4|ip6/<addr>/udp/<port>/quic-v1
  Multiaddr to_quic_multiaddr() const;
  std::string to_string() const;  // "1.2.3.4:5" or "[0:0:0:0:0:0:0:1]:5"
  std::string ip_text() const;    // the address alone

  auto operator<=>(const UdpAddress&) const = default;
};

}  // namespace taho::quic
