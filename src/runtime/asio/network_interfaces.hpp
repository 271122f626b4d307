// The host's own IP addresses (getifaddrs), so that a listener bound to
// 0.0.0.0 or :: can be reported as addresses other peers can dial.
#pragma once

#include <string>
#include <vector>

#include "base/multiaddr.hpp"

namespace taho::runtime::asio {

struct LocalAddress {
  std::string interface_name;  // "eth0", "lo"
  std::string ip;              // "192.168.1.5", "fe80::1" (no zone)
  bool ipv6 = false;
  bool loopback = false;
  bool link_local = false;  // 169.254/16, fe80::/10: not dialable without a zone
};

// Addresses of interfaces that are up, in the order the OS lists them,
// without duplicates.
std::vector<LocalAddress> local_addresses(bool include_loopback);

// For a bound address with an unspecified IP (/ip4/0.0.0.0/... or
// /ip6/::/...), one copy per local address of that family; everything after
// the IP is kept. IPv6 link-local addresses are left out: a multiaddr cannot
// carry the zone they need. Any other address comes back alone.
std::vector<Multiaddr> expand_unspecified(const Multiaddr& bound, bool include_loopback = true);

}  // namespace taho::runtime::asio
