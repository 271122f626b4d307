// The content store of the session's home, opened with the [content] limits
// (shared by `taho publish` and `taho content ...`).
#pragma once

#include <optional>
#include <string_view>

#include "cli/session.hpp"
#include "content/store/store.hpp"

namespace taho::cli {

// Prints the reason to stderr, prefixed with `command`, when it cannot open.
std::optional<content::Store> open_content_store(const Session& session, std::string_view command);

// The exit code for a store error: bad input is kExitUsage, the rest kExitFailure.
int exit_code_of(const content::StoreError& error);

}  // namespace taho::cli
