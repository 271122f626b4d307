// Where a node keeps its files: TAHO_HOME, or the XDG data directory
// (DESIGN.md §6). One place names every file so nothing else builds paths.
#pragma once

#include <filesystem>

namespace taho::node {

struct Home {
  std::filesystem::path data_dir;

  std::filesystem::path identity_key() const { return data_dir / "identity.key"; }
  std::filesystem::path api_token() const { return data_dir / "api.token"; }
  std::filesystem::path api_addr() const { return data_dir / "api.addr"; }
  std::filesystem::path daemon_lock() const { return data_dir / "daemon.lock"; }
  std::filesystem::path store_dir() const { return data_dir / "store"; }
  std::filesystem::path peerstore() const { return data_dir / "peerstore"; }
};

}  // namespace taho::node
