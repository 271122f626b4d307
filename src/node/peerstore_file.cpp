#include "node/peerstore_file.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "node/network.hpp"
#include "node/private_file.hpp"

namespace taho::node {

namespace {
constexpr int kFormatVersion = 1;

std::int64_t unix_seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

std::string encode_peerstore(const std::vector<SavedPeer>& peers) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& saved : peers) {
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto& addr : saved.addrs) addrs.push_back(addr.to_string());
    list.push_back({{"peer_id", saved.peer.to_string()}, {"addrs", addrs},
                    {"last_connected_unix_s", saved.last_connected_unix_s}});
  }
  return nlohmann::json{{"version", kFormatVersion}, {"peers", list}}.dump(1) + "\n";
}

Result<std::vector<SavedPeer>> decode_peerstore(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return fail("not a JSON object");
  if (!json.contains("version") || json["version"] != kFormatVersion) return fail("unknown format version");
  if (!json.contains("peers") || !json["peers"].is_array()) return fail("no \"peers\" list");
  std::vector<SavedPeer> peers;
  for (const auto& entry : json["peers"]) {
    if (peers.size() >= kSavedPeersMax) break;
    if (!entry.is_object() || !entry.contains("peer_id") || !entry["peer_id"].is_string()) continue;
    auto peer = PeerId::parse(entry["peer_id"].get<std::string>());
    if (!peer) continue;  // one bad entry does not spoil the others
    SavedPeer saved{*peer, {}, 0};
    if (entry.contains("addrs") && entry["addrs"].is_array()) {
      for (const auto& text_addr : entry["addrs"]) {
        if (!text_addr.is_string()) continue;
        if (auto addr = Multiaddr::parse(text_addr.get<std::string>())) saved.addrs.push_back(*addr);
      }
    }
    if (entry.contains("last_connected_unix_s") && entry["last_connected_unix_s"].is_number_integer()) {
      saved.last_connected_unix_s = entry["last_connected_unix_s"].get<std::int64_t>();
    }
    if (!saved.addrs.empty()) peers.push_back(std::move(saved));
  }
  return peers;
}

PeerstoreKeeper::PeerstoreKeeper(runtime::asio::EventLoop& loop, Network& network, std::filesystem::path file,
                                 Duration interval)
    : loop_(loop), network_(network), file_(std::move(file)), saver_(loop, interval, "peerstore", [this] {
        return save();
      }) {}

std::size_t PeerstoreKeeper::load() {
  std::ifstream in(file_);
  if (!in) return 0;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto peers = decode_peerstore(text);
  if (!peers) {
    spdlog::warn("peerstore: ignoring {}: {}", file_.string(), peers.error().text);
    return 0;
  }
  for (const auto& saved : *peers) network_.add_discovered(saved.peer, saved.addrs, host::Source::peerstore);
  return peers->size();
}

Result<void> PeerstoreKeeper::save() {
  const auto now = loop_.now();
  const auto wall = unix_seconds_now();
  std::vector<SavedPeer> peers;
  for (const auto& known : network_.known_peers()) {
    // Only peers we actually held: what discovery merely mentioned is not worth keeping.
    if (!known.last_connected || known.addrs.empty()) continue;
    const auto age = std::chrono::duration_cast<std::chrono::seconds>(now - *known.last_connected).count();
    peers.push_back(SavedPeer{known.peer, known.addrs, known.connected ? wall : wall - age});
  }
  std::sort(peers.begin(), peers.end(),
            [](const SavedPeer& a, const SavedPeer& b) { return a.last_connected_unix_s > b.last_connected_unix_s; });
  if (peers.size() > kSavedPeersMax) peers.erase(peers.begin() + kSavedPeersMax, peers.end());
  std::error_code error;
  std::filesystem::create_directories(file_.parent_path(), error);
  const std::string text = encode_peerstore(peers);
  return write_file_atomically(file_, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0600);
}

}  // namespace taho::node
