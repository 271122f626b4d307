// The content routes' view of the mesh (content_fetcher.hpp), implemented
// by the node's network: fetches run in the host's content exchange.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "api/content_fetcher.hpp"
#include "node/network.hpp"

namespace taho::api {

class NetworkContentFetcher final : public ContentFetcher {
 public:
  explicit NetworkContentFetcher(node::Network& network) : network_(network) {}

  std::uint64_t fetch(const content::Hash& root, std::optional<content::ByteRange> range, OnProgress on_progress,
                      OnDone on_done) override;
  void cancel(std::uint64_t handle) override;
  std::vector<HolderRow> holders(const content::Hash& root) const override;
  void announce(const content::Hash& root, std::uint64_t size) override;
  void withdraw(const content::Hash& root) override;

 private:
  node::Network& network_;
};

}  // namespace taho::api
