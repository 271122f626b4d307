#include "cli/content_store.hpp"

#include "node/store_options.hpp"

#include <cmath>
#include <iostream>

namespace taho::cli {

std::optional<content::Store> open_content_store(const Session& session, std::string_view command) {
  auto store = content::Store::open(node::store_options(session.config, session.home));
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
