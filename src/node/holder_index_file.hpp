// The persisted holder index (TAHO_HOME/content/holders.json): which peers
// announced which content, so a restarted node can fetch without waiting
// for fresh announcements. Written atomically; a corrupt file is reported
// and ignored, and bad entries are skipped one by one.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "host/content_behaviour.hpp"
#include "node/periodic_save.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

class Network;

// Matches ContentOptions::index_holders_max: the file never holds more than the index.
inline constexpr std::size_t kSavedHoldersMax = 100000;

std::string encode_holder_index(const std::vector<host::HolderRecord>& records);
Result<std::vector<host::HolderRecord>> decode_holder_index(std::string_view text);

class HolderIndexKeeper {
 public:
  HolderIndexKeeper(runtime::asio::EventLoop& loop, Network& network, std::filesystem::path file,
                    Duration interval = std::chrono::minutes(1));
  HolderIndexKeeper(const HolderIndexKeeper&) = delete;
  HolderIndexKeeper& operator=(const HolderIndexKeeper&) = delete;

  // Hands the saved records to the network; returns how many.
  std::size_t load();
  Result<void> save();

 private:
  Network& network_;
  std::filesystem::path file_;
  PeriodicSave saver_;  // last: it saves once more when destroyed
};

}  // namespace taho::node
