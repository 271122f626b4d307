#include "api/network_content_fetcher.hpp"

namespace taho::api {
namespace {

FetchFailure failure_of(host::FetchErrc code) {
  switch (code) {
    case host::FetchErrc::not_found: return FetchFailure::not_found;
    case host::FetchErrc::unavailable: return FetchFailure::unavailable;
    case host::FetchErrc::bad_range: return FetchFailure::bad_range;
    case host::FetchErrc::too_large:
    case host::FetchErrc::storage: return FetchFailure::storage;
    case host::FetchErrc::cancelled: return FetchFailure::cancelled;
    case host::FetchErrc::disabled: return FetchFailure::disabled;
  }
  return FetchFailure::unavailable;
}

}  // namespace

std::uint64_t NetworkContentFetcher::fetch(const content::Hash& root, std::optional<content::ByteRange> range,
                                           OnProgress on_progress, OnDone on_done) {
  auto progress = [on_progress = std::move(on_progress)](const host::content_event::FetchProgress& event) {
    if (!on_progress) return;
    on_progress(FetchProgress{event.size, event.wanted_bytes, event.verified_bytes, event.contiguous_bytes,
                              event.sources});
  };
  auto done = [on_done = std::move(on_done)](const host::content_event::FetchFinished& finished) {
    if (!on_done) return;
    if (!finished.size) {
      on_done(unexpected(Error<FetchFailure>(failure_of(finished.size.error().code), finished.size.error().detail)));
      return;
    }
    on_done(FetchOutcome{*finished.size, finished.committed, finished.served_by.size()});
  };
  return network_.fetch(root, range, std::move(progress), std::move(done));
}

void NetworkContentFetcher::cancel(std::uint64_t handle) { network_.cancel_fetch(handle); }

std::vector<HolderRow> NetworkContentFetcher::holders(const content::Hash& root) const {
  std::vector<HolderRow> rows;
  for (const auto& holder : network_.content_holders(root)) {
    HolderRow row;
    row.peer_id = holder.peer.to_string();
    for (const auto& addr : holder.addrs) row.addrs.push_back(addr.to_string());
    row.size = holder.size;
    row.connected = holder.connected;
    row.throughput = holder.throughput;
    rows.push_back(std::move(row));
  }
  return rows;
}

void NetworkContentFetcher::announce(const content::Hash& root, std::uint64_t size) {
  network_.announce_content(root, size);
}

void NetworkContentFetcher::withdraw(const content::Hash& root) { network_.withdraw_content(root); }

}  // namespace taho::api
