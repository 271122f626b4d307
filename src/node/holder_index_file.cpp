#include "node/holder_index_file.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "node/network.hpp"
#include "node/private_file.hpp"

namespace taho::node {
namespace {
constexpr int kFormatVersion = 1;
}  // namespace

std::string encode_holder_index(const std::vector<host::HolderRecord>& records) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& record : records) {
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto& addr : record.addrs) addrs.push_back(addr.to_string());
    list.push_back({{"id", content::ContentId(record.root).to_string()},
                    {"size", record.size},
                    {"peer_id", record.peer.to_string()},
                    {"addrs", addrs}});
  }
  return nlohmann::json{{"version", kFormatVersion}, {"holders", list}}.dump(1) + "\n";
}

Result<std::vector<host::HolderRecord>> decode_holder_index(std::string_view text) {
  auto json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) return fail("not a JSON object");
  if (!json.contains("version") || json["version"] != kFormatVersion) return fail("unknown format version");
  if (!json.contains("holders") || !json["holders"].is_array()) return fail("no \"holders\" list");
  std::vector<host::HolderRecord> records;
  for (const auto& entry : json["holders"]) {
    if (records.size() >= kSavedHoldersMax) break;
    if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string() || !entry.contains("peer_id") ||
        !entry["peer_id"].is_string() || !entry.contains("size") || !entry["size"].is_number_unsigned()) {
      continue;  // one bad entry does not spoil the others
    }
    auto id = content::ContentId::parse(entry["id"].get<std::string>());
    auto peer = PeerId::parse(entry["peer_id"].get<std::string>());
    if (!id || !peer) continue;
    host::HolderRecord record{id->hash(), entry["size"].get<std::uint64_t>(), *peer, {}};
    if (entry.contains("addrs") && entry["addrs"].is_array()) {
      for (const auto& text_addr : entry["addrs"]) {
        if (!text_addr.is_string()) continue;
        if (auto addr = Multiaddr::parse(text_addr.get<std::string>())) record.addrs.push_back(*addr);
      }
    }
    records.push_back(std::move(record));
  }
  return records;
}

HolderIndexKeeper::HolderIndexKeeper(runtime::asio::EventLoop& loop, Network& network, std::filesystem::path file,
                                     Duration interval)
    : network_(network), file_(std::move(file)), saver_(loop, interval, "holder index", [this] { return save(); }) {}

std::size_t HolderIndexKeeper::load() {
  std::ifstream in(file_);
  if (!in) return 0;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto records = decode_holder_index(text);
  if (!records) {
    spdlog::warn("holder index: ignoring {}: {}", file_.string(), records.error().text);
    return 0;
  }
  network_.import_holder_index(*records);
  return records->size();
}

Result<void> HolderIndexKeeper::save() {
  auto records = network_.export_holder_index();
  if (records.size() > kSavedHoldersMax) records.erase(records.begin() + kSavedHoldersMax, records.end());
  std::error_code error;
  std::filesystem::create_directories(file_.parent_path(), error);
  const std::string text = encode_holder_index(records);
  return write_file_atomically(file_, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()), 0600);
}

}  // namespace taho::node
