// The bearer token that guards the local API (DESIGN.md §7). It lives in
// TAHO_HOME/api.token (0600): only the user who owns the home can call the API.
#pragma once

#include <filesystem>
#include <string>

#include "base/error.hpp"

namespace taho::node {

inline constexpr std::size_t kApiTokenBytes = 32;

// Reuses a valid existing token (so clients holding it keep working across
// restarts) or writes a fresh random one.
Result<std::string> load_or_create_api_token(const std::filesystem::path& token_file);
// Reads the token a client needs to call the daemon.
Result<std::string> read_api_token(const std::filesystem::path& token_file);

// Compares without an early exit, so response timing does not leak a prefix.
bool token_matches(std::string_view expected, std::string_view presented);

}  // namespace taho::node
