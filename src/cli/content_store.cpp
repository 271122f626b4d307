#include "cli/content_store.hpp"

#include <cmath>
#include <iostream>

namespace taho::cli {

std::optional<content::Store> open_content_store(const Session& session, std::string_view command) {
  content::StoreOptions options;
  options.root = session.home.store_dir();
  options.cache_bytes_max = session.config.content.cache_mb << 20;
  options.store_bytes_max = static_cast<std::uint64_t>(std::llround(session.config.content.max_store_gb * 1073741824.0));
  auto store = content::Store::open(options);
  if (!store) {
    std::cerr << "taho " << command << ": cannot open the content store: " << store.error().detail << "\n";
    return std::nullopt;
  }
  return std::move(*store);
}

int exit_code_of(const content::StoreError& error) {
  return error.code == content::StoreErrc::bad_request ? kExitUsage : kExitFailure;
}

}  // namespace taho::cli
