#include "proto/quic/udp_address.hpp"

#include <algorithm>

namespace taho::quic {

UdpAddress UdpAddress::ipv4(std::array<std::uint8_t, 4> octets, std::uint16_t port) {
  UdpAddress address;
  std::copy(octets.begin(), octets.end(), address.ip.begin());
  address.port = port;
  return address;
}

UdpAddress UdpAddress::ipv6(const std::array<std::uint8_t, 16>& bytes, std::uint16_t port) {
  UdpAddress address;
  address.is_ipv6 = true;
  address.ip = bytes;
  address.port = port;
  return address;
}

std::optional<UdpAddress> UdpAddress::from_multiaddr(const Multiaddr& address) {
  using multiaddr::Protocol;
  const auto& parts = address.components();
  if (parts.size() < 2) return std::nullopt;
  if (parts[1].protocol() != Protocol::udp) return std::nullopt;
  for (std::size_t i = 2; i < parts.size(); ++i) {
    const auto protocol = parts[i].protocol();
    if (protocol != Protocol::quic_v1 && protocol != Protocol::p2p) return std::nullopt;
  }
  const auto port = parts[1].port();
  if (!port) return std::nullopt;
  const ByteView ip = parts[0].value();
  if (parts[0].protocol() == Protocol::ip4 && ip.size() == 4) {
    return ipv4({ip[0], ip[1], ip[2], ip[3]}, *port);
  }
  if (parts[0].protocol() == Protocol::ip6 && ip.size() == 16) {
    std::array<std::uint8_t, 16> bytes{};
    std::copy(ip.begin(), ip.end(), bytes.begin());
    return ipv6(bytes, *port);
  }
  return std::nullopt;
}

Multiaddr UdpAddress::to_quic_multiaddr() const {
  // Printing then parsing keeps one source of truth for multiaddr text.
  auto parsed = Multiaddr::parse((is_ipv6 ? "/ip6/" : "/ip4/") + ip_text() + "/udp/" + std::to_string(port) +
                                 "/quic-v1");
  return parsed ? *parsed : Multiaddr{};
}

std::string UdpAddress::to_string() const {
  return is_ipv6 ? "[" + ip_text() + "]:" + std::to_string(port) : ip_text() + ":" + std::to_string(port);
}

std::string UdpAddress::ip_text() const {
  std::string text;
  if (!is_ipv6) {
    for (int i = 0; i < 4; ++i) text += (i ? "." : "") + std::to_string(ip[i]);
    return text;
  }
  // Full form, no "::" compression: every parser reads it.
  static constexpr char digits[] = "0123456789abcdef";
  for (int group = 0; group < 8; ++group) {
    if (group) text += ':';
    const unsigned value = (unsigned{ip[2 * group]} << 8) | ip[2 * group + 1];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned digit = (value >> shift) & 0xf;
      if (digit || started || shift == 0) {
        text += digits[digit];
        started = true;
      }
    }
  }
  return text;
}

}  // namespace taho::quic
