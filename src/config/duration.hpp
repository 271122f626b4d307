// Durations in the config: "500ms", "1s", "2m", "1h", and sums like "1m30s".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "base/error.hpp"

namespace taho::config {

Result<std::chrono::milliseconds> parse_duration(std::string_view text);

// The shortest exact form: 1000ms -> "1s", 90000ms -> "90s", 120000ms -> "2m".
std::string format_duration(std::chrono::milliseconds duration);

}  // namespace taho::config
