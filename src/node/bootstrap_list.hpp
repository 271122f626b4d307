// The [mesh] bootstrap list at start: each entry is a multiaddr ending in
// /p2p/<peer id>, dialled as it is, or a /dnsaddr/<domain>[/p2p/<id>] name
// resolved through DNS TXT records (proto/dnsaddr) into such addresses.
// Entries that are neither are logged with their text and the reason, and
// skipped: one typo does not keep a node off the mesh. A list with entries
// but none usable is an error (the node would start alone by mistake).
//
// /dnsaddr entries are resolved at start without delaying it, then again
// every refresh_interval (zones change); a resolution that yields nothing
// is logged and retried after retry_first, doubling up to refresh_interval.
// Addresses found are handed to `add` (Network::add_bootstrap), whose
// connection manager dials and re-dials them; an address seen again is
// handed over again, harmlessly (it is deduplicated there).
//
// Threading: on the event loop's thread, like Network.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/time.hpp"
#include "node/dns_txt_resolver.hpp"
#include "proto/dnsaddr/resolution.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

struct BadBootstrapEntry {
  std::string text;    // the entry as configured
  std::string reason;  // why it cannot be used
};

struct BootstrapEntries {
  std::vector<Multiaddr> direct;   // end in /p2p/<peer id>
  std::vector<Multiaddr> dnsaddr;  // start with /dnsaddr/<domain>
  std::vector<BadBootstrapEntry> bad;

  // Some entries, none usable.
  bool all_bad() const { return !bad.empty() && direct.empty() && dnsaddr.empty(); }
};

// Sorts configured entries; pure, so tests need no network.
BootstrapEntries sort_bootstrap_entries(std::span<const std::string> entries);

struct BootstrapOptions {
  Duration refresh_interval = std::chrono::minutes(10);
  Duration retry_first = std::chrono::seconds(30);
  dnsaddr::Limits limits;
  DnsTxtResolverOptions dns;
};

class BootstrapPeers {
 public:
  using AddBootstrap = std::function<void(const Multiaddr&)>;

  BootstrapPeers(runtime::asio::EventLoop& loop, AddBootstrap add, BootstrapOptions options = {});
  ~BootstrapPeers();
  BootstrapPeers(const BootstrapPeers&) = delete;
  BootstrapPeers& operator=(const BootstrapPeers&) = delete;

  // Logs each bad entry (warning), hands the direct ones to `add` at once
  // and starts resolving the /dnsaddr ones. Fails, with a sentence for the
  // user, when `entries` is not empty but holds no usable entry. Call once.
  Result<void> start(std::span<const std::string> entries);

  // Resolutions of /dnsaddr entries finished so far, and addresses they
  // handed to `add` (for tests and logs).
  std::size_t resolutions_finished() const { return resolutions_finished_; }
  std::size_t resolved_addresses_added() const { return resolved_addresses_added_; }

 private:
  struct DnsaddrEntry;

  void resolve(DnsaddrEntry& entry);
  void pump(DnsaddrEntry& entry);
  void finish(DnsaddrEntry& entry);

  runtime::asio::EventLoop& loop_;
  AddBootstrap add_;
  BootstrapOptions options_;
  DnsTxtResolver resolver_;
  std::vector<std::unique_ptr<DnsaddrEntry>> dnsaddr_entries_;
  std::size_t resolutions_finished_ = 0;
  std::size_t resolved_addresses_added_ = 0;
};

}  // namespace taho::node
