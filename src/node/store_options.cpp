#include "node/store_options.hpp"

#include <cmath>

namespace taho::node {

content::StoreOptions store_options(const config::Config& config, const Home& home) {
  content::StoreOptions options;
  options.root = home.store_dir();
  options.cache_bytes_max = config.content.cache_mb << 20;
  options.store_bytes_max = static_cast<std::uint64_t>(std::llround(config.content.max_store_gb * 1073741824.0));
  return options;
}

}  // namespace taho::node
