#include "node/bootstrap_list.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <optional>

namespace taho::node {

BootstrapEntries sort_bootstrap_entries(std::span<const std::string> entries) {
  BootstrapEntries sorted;
  for (const auto& text : entries) {
    auto address = Multiaddr::parse(text);
    if (!address) {
      sorted.bad.push_back({text, "not a multiaddr: " + address.error().detail});
      continue;
    }
    if (dnsaddr::split_dnsaddr(*address)) {
      sorted.dnsaddr.push_back(std::move(*address));
      continue;
    }
    if (!address->peer_id()) {
      sorted.bad.push_back({text, "must end in /p2p/<peer id> or start with /dnsaddr/"});
      continue;
    }
    if (address->without_peer_id().empty()) {
      sorted.bad.push_back({text, "names a peer but no address to reach it"});
      continue;
    }
    sorted.direct.push_back(std::move(*address));
  }
  return sorted;
}

struct BootstrapPeers::DnsaddrEntry {
  DnsaddrEntry(runtime::asio::EventLoop& loop, Multiaddr entry_address, Duration first_retry)
      : address(std::move(entry_address)), timer(loop), retry_delay(first_retry) {}

  Multiaddr address;
  std::optional<dnsaddr::Resolution> resolution;
  std::uint64_t generation = 0;  // answers of an earlier resolution are dropped
  runtime::asio::Timer timer;
  Duration retry_delay;
  bool reported_addresses = false;  // the first success is logged at info level, refreshes at debug
};

BootstrapPeers::BootstrapPeers(runtime::asio::EventLoop& loop, AddBootstrap add, BootstrapOptions options)
    : loop_(loop), add_(std::move(add)), options_(std::move(options)), resolver_(loop, options_.dns) {}

BootstrapPeers::~BootstrapPeers() = default;

Result<void> BootstrapPeers::start(std::span<const std::string> entries) {
  const BootstrapEntries sorted = sort_bootstrap_entries(entries);
  for (const auto& bad : sorted.bad) spdlog::warn("bootstrap entry \"{}\" skipped: {}", bad.text, bad.reason);
  if (sorted.all_bad()) {
    return fail("no usable bootstrap entry: all " + std::to_string(sorted.bad.size()) +
                " entries of mesh.bootstrap are bad (each is named above); fix or remove them");
  }
  for (const auto& address : sorted.direct) add_(address);
  for (const auto& address : sorted.dnsaddr) {
    dnsaddr_entries_.push_back(std::make_unique<DnsaddrEntry>(loop_, address, options_.retry_first));
    resolve(*dnsaddr_entries_.back());
  }
  return {};
}

void BootstrapPeers::resolve(DnsaddrEntry& entry) {
  ++entry.generation;
  entry.resolution.emplace(entry.address, options_.limits);
  pump(entry);
}

void BootstrapPeers::pump(DnsaddrEntry& entry) {
  while (auto lookup = entry.resolution->poll_lookup()) {
    resolver_.lookup(lookup->name, [this, &entry, generation = entry.generation,
                                    id = lookup->id](Expected<TxtRecords, TxtLookupError> records) {
      if (generation != entry.generation) return;
      if (records) {
        entry.resolution->handle_txt(id, *records);
      } else {
        entry.resolution->handle_failure(id, records.error().detail);
      }
      pump(entry);
    });
  }
  if (entry.resolution->finished()) finish(entry);
}

void BootstrapPeers::finish(DnsaddrEntry& entry) {
  ++resolutions_finished_;
  const auto& resolution = *entry.resolution;
  std::size_t added = 0;
  for (const auto& address : resolution.addresses()) {
    // The dialer needs to know whom it reaches.
    if (!address.peer_id() || address.without_peer_id().empty()) {
      spdlog::warn("bootstrap entry \"{}\": resolved address {} skipped: no /p2p/<peer id> or no transport",
                   entry.address.to_string(), address.to_string());
      continue;
    }
    add_(address);
    ++added;
  }
  resolved_addresses_added_ += added;
  const std::string entry_text = entry.address.to_string();
  for (const auto& note : resolution.notes()) {
    if (added == 0) {
      spdlog::warn("bootstrap entry \"{}\": {}", entry_text, note);
    } else {
      spdlog::debug("bootstrap entry \"{}\": {}", entry_text, note);
    }
  }
  Duration next = options_.refresh_interval;
  if (added == 0) {
    spdlog::warn("bootstrap entry \"{}\" skipped for now: DNS gave no usable address; retrying in {} s", entry_text,
                 std::chrono::duration_cast<std::chrono::seconds>(entry.retry_delay).count());
    next = entry.retry_delay;
    entry.retry_delay = std::min(entry.retry_delay * 2, options_.refresh_interval);
  } else {
    entry.retry_delay = options_.retry_first;
    if (!entry.reported_addresses) {
      spdlog::info("bootstrap entry \"{}\" resolved to {} address(es)", entry_text, added);
    } else {
      spdlog::debug("bootstrap entry \"{}\" resolved to {} address(es)", entry_text, added);
    }
    entry.reported_addresses = true;
  }
  entry.timer.arm_at(loop_.now() + next, [this, &entry] { resolve(entry); });
}

}  // namespace taho::node
