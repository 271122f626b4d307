#include "config/duration.hpp"

#include <array>
#include <cstdint>

namespace taho::config {
namespace {

using std::chrono::milliseconds;

// Far above any sensible timeout, far below overflow of int64 milliseconds.
constexpr std::int64_t duration_ms_max = std::int64_t{1} << 50;

struct Unit {
  std::string_view name;
  std::int64_t ms;
};
// Longest-first so "ms" is tried before "m".
constexpr std::array<Unit, 4> kUnits{{{"ms", 1}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}}};

std::string expected_form(std::string_view text) {
  return "expected a duration like \"500ms\", \"1s\", \"2m\" or \"1h\", got \"" + std::string(text) + "\"";
}

}  // namespace

Result<milliseconds> parse_duration(std::string_view text) {
  if (text.empty()) return fail(expected_form(text));
  std::int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::int64_t number = 0;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') {
      number = number * 10 + (rest[digits] - '0');
      if (number > duration_ms_max) return fail("duration \"" + std::string(text) + "\" is too long");
      ++digits;
    }
    if (digits == 0) return fail(expected_form(text));
    rest.remove_prefix(digits);
    const Unit* unit = nullptr;
    for (const auto& candidate : kUnits) {
      if (rest.substr(0, candidate.name.size()) == candidate.name) {
        unit = &candidate;
        break;
      }
    }
    if (unit == nullptr) return fail(expected_form(text));
    rest.remove_prefix(unit->name.size());
    if (number > (duration_ms_max - total) / unit->ms) {
      return fail("duration \"" + std::string(text) + "\" is too long");
    }
    total += number * unit->ms;
  }
  return milliseconds{total};
}

std::string format_duration(milliseconds duration) {
  const auto ms = duration.count();
  if (ms == 0) return "0s";
  for (const auto& unit : {kUnits[1], kUnits[2], kUnits[3]}) {
    if (ms % unit.ms == 0) return std::to_string(ms / unit.ms) + std::string(unit.name);
  }
  return std::to_string(ms) + "ms";
}

}  // namespace taho::config
