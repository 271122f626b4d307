#include "runtime/asio/network_interfaces.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <ifaddrs.h>
#include <memory>
#include <net/if.h>
#include <netinet/in.h>

namespace taho::runtime::asio {
namespace {

using multiaddr::Protocol;

struct IfaddrsDeleter {
  void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

std::optional<LocalAddress> describe(const ifaddrs& entry) {
  if (entry.ifa_addr == nullptr || (entry.ifa_flags & IFF_UP) == 0) return std::nullopt;
  LocalAddress out;
  out.interface_name = entry.ifa_name != nullptr ? entry.ifa_name : "";
  out.loopback = (entry.ifa_flags & IFF_LOOPBACK) != 0;
  char text[INET6_ADDRSTRLEN] = {};
  if (entry.ifa_addr->sa_family == AF_INET) {
    sockaddr_in address;
    std::memcpy(&address, entry.ifa_addr, sizeof address);
    if (inet_ntop(AF_INET, &address.sin_addr, text, sizeof text) == nullptr) return std::nullopt;
    const std::uint32_t host_order = ntohl(address.sin_addr.s_addr);
    out.loopback = out.loopback || (host_order >> 24) == 127;
    out.link_local = (host_order >> 16) == 0xA9FE;  // 169.254.0.0/16
  } else if (entry.ifa_addr->sa_family == AF_INET6) {
    sockaddr_in6 address;
    std::memcpy(&address, entry.ifa_addr, sizeof address);
    if (inet_ntop(AF_INET6, &address.sin6_addr, text, sizeof text) == nullptr) return std::nullopt;
    out.ipv6 = true;
    const std::uint8_t* bytes = address.sin6_addr.s6_addr;
    out.loopback = out.loopback || IN6_IS_ADDR_LOOPBACK(&address.sin6_addr);
    out.link_local = bytes[0] == 0xFE && (bytes[1] & 0xC0) == 0x80;  // fe80::/10
  } else {
    return std::nullopt;
  }
  out.ip = text;
  return out;
}

}  // namespace

std::vector<LocalAddress> local_addresses(bool include_loopback) {
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return {};
  const std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
  std::vector<LocalAddress> out;
  for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
    auto address = describe(*entry);
    if (!address || (address->loopback && !include_loopback)) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const LocalAddress& other) {
      return other.ip == address->ip && other.interface_name == address->interface_name;
    });
    if (!seen) out.push_back(std::move(*address));
  }
  return out;
}

std::vector<Multiaddr> expand_unspecified(const Multiaddr& bound, bool include_loopback) {
  const auto& components = bound.components();
  if (components.empty()) return {bound};
  const Protocol family = components[0].protocol();
  const std::string ip = components[0].value_text();
  const bool unspecified = (family == Protocol::ip4 && ip == "0.0.0.0") || (family == Protocol::ip6 && ip == "::");
  if (!unspecified) return {bound};
  std::vector<Multiaddr> out;
  for (const auto& local : local_addresses(include_loopback)) {
    if (local.ipv6 != (family == Protocol::ip6) || (local.ipv6 && local.link_local)) continue;
    auto first = multiaddr::Component::make(family, local.ip);
    if (!first) continue;
    Multiaddr address = Multiaddr().append(*first);
    for (std::size_t i = 1; i < components.size(); ++i) address = address.append(components[i]);
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(std::move(address));
  }
  return out;
}

}  // namespace taho::runtime::asio
