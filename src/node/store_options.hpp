// The content store's options from the configuration: one mapping for the
// daemon and the CLI, which open the same store.
#pragma once

#include "config/config.hpp"
#include "content/store/store.hpp"
#include "node/home.hpp"

namespace taho::node {

content::StoreOptions store_options(const config::Config& config, const Home& home);

}  // namespace taho::node
