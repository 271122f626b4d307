// The persisted peerstore (TAHO_HOME/peerstore/peers.json): the peers the
// connection manager held recently, so a restarted node reconnects without
// its bootstrap peers. Written atomically; a corrupt or foreign file is
// reported and ignored (the node starts as if it had none).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "host/connection_manager.hpp"
#include "node/periodic_save.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

class Network;

struct SavedPeer {
  PeerId peer;
  std::vector<Multiaddr> addrs;
  std::int64_t last_connected_unix_s = 0;
};

inline constexpr std::size_t kSavedPeersMax = 256;

std::string encode_peerstore(const std::vector<SavedPeer>& peers);
Result<std::vector<SavedPeer>> decode_peerstore(std::string_view text);

// Loads the file into the network at start, saves it every `interval` and
// once more when destroyed.
class PeerstoreKeeper {
 public:
  PeerstoreKeeper(runtime::asio::EventLoop& loop, Network& network, std::filesystem::path file,
                  Duration interval = std::chrono::seconds(30));
  PeerstoreKeeper(const PeerstoreKeeper&) = delete;
  PeerstoreKeeper& operator=(const PeerstoreKeeper&) = delete;

  // Hands the saved peers to the connection manager; returns how many.
  std::size_t load();
  Result<void> save();

 private:
  runtime::asio::EventLoop& loop_;
  Network& network_;
  std::filesystem::path file_;
  PeriodicSave saver_;  // last: it saves once more when destroyed, using the members above
};

}  // namespace taho::node
