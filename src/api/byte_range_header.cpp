#include "api/byte_range_header.hpp"

#include <limits>

#include "content/tree/tree_shape.hpp"

namespace taho::api {
namespace {

constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

bool is_space(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  return text;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Decimal digits only. A value past 2^64-1 saturates: such a position lies
// past the end of any content, which resolve_range handles like any other.
std::optional<std::uint64_t> parse_position(std::string_view digits) {
  if (digits.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    value = value > (kMax - digit) / 10 ? kMax : value * 10 + digit;
  }
  return value;
}

RangeHeaderError malformed(std::string_view why) {
  return {RangeHeaderErrc::malformed, "bad Range header: " + std::string(why)};
}

Expected<RangeRequest, RangeHeaderError> parse_spec(std::string_view spec) {
  const auto dash = spec.find('-');
  if (dash == std::string_view::npos) return unexpected(malformed("a range needs a '-' (bytes=FIRST-LAST)"));
  const auto left = spec.substr(0, dash);
  const auto right = spec.substr(dash + 1);
  if (left.empty()) {
    const auto length = parse_position(right);
    if (!length) return unexpected(malformed("a suffix range is bytes=-LENGTH"));
    return RangeRequest{.kind = RangeRequest::Kind::suffix, .suffix_length = *length};
  }
  const auto first = parse_position(left);
  if (!first) return unexpected(malformed("the first position must be decimal digits"));
  if (right.empty()) return RangeRequest{.kind = RangeRequest::Kind::from, .first = *first};
  const auto last = parse_position(right);
  if (!last) return unexpected(malformed("the last position must be decimal digits"));
  if (*last < *first) return unexpected(malformed("the last position comes before the first"));
  return RangeRequest{.kind = RangeRequest::Kind::from_to, .first = *first, .last = *last};
}

std::uint64_t align_down(std::uint64_t value) { return value - value % content::kGroupBytes; }

}  // namespace

Expected<std::optional<RangeRequest>, RangeHeaderError> parse_range_header(std::string_view value) {
  if (value.size() > kRangeHeaderCharsMax) return unexpected(malformed("too long"));
  value = trim(value);
  const auto equals = value.find('=');
  if (equals == std::string_view::npos) return unexpected(malformed("expected bytes=FIRST-LAST"));
  const auto unit = trim(value.substr(0, equals));
  if (!equals_ignoring_case(unit, "bytes")) return std::optional<RangeRequest>{};  // RFC 9110 §14.2: ignore

  // The range set is a list: elements separated by commas, empty ones allowed.
  std::optional<std::string_view> only;
  std::string_view rest = value.substr(equals + 1);
  while (true) {
    const auto comma = rest.find(',');
    const auto element = trim(rest.substr(0, comma));
    if (!element.empty()) {
      if (only) {
        return unexpected(RangeHeaderError{RangeHeaderErrc::multiple_ranges,
                                           "several ranges in one request are not supported; ask for one"});
      }
      only = element;
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!only) return unexpected(malformed("no range after bytes="));
  auto spec = parse_spec(*only);
  if (!spec) return unexpected(spec.error());
  return std::optional<RangeRequest>(*spec);
}

std::optional<content::ByteRange> resolve_range(const RangeRequest& range, std::uint64_t size) {
  if (size == 0) return std::nullopt;
  switch (range.kind) {
    case RangeRequest::Kind::suffix:
      if (range.suffix_length == 0) return std::nullopt;
      if (range.suffix_length >= size) return content::ByteRange{0, size};
      return content::ByteRange{size - range.suffix_length, range.suffix_length};
    case RangeRequest::Kind::from:
      if (range.first >= size) return std::nullopt;
      return content::ByteRange{range.first, size - range.first};
    case RangeRequest::Kind::from_to: {
      if (range.first >= size) return std::nullopt;
      const std::uint64_t last = range.last < size ? range.last : size - 1;
      return content::ByteRange{range.first, last - range.first + 1};
    }
  }
  return std::nullopt;
}

std::optional<content::ByteRange> fetch_range_of(const RangeRequest& range) {
  switch (range.kind) {
    case RangeRequest::Kind::suffix:
      return std::nullopt;
    case RangeRequest::Kind::from: {
      const std::uint64_t offset = align_down(range.first);
      return content::ByteRange{offset, kMax - offset};
    }
    case RangeRequest::Kind::from_to: {
      const std::uint64_t offset = align_down(range.first);
      // The end rounded up to a group boundary, saturating near 2^64.
      const std::uint64_t end = range.last >= kMax - content::kGroupBytes ? kMax : align_down(range.last) + content::kGroupBytes;
      return content::ByteRange{offset, end - offset};
    }
  }
  return std::nullopt;
}

std::string content_range_value(content::ByteRange range, std::uint64_t size) {
  return "bytes " + std::to_string(range.offset) + "-" + std::to_string(range.offset + range.length - 1) + "/" +
         std::to_string(size);
}

std::string unsatisfied_range_value(std::uint64_t size) { return "bytes */" + std::to_string(size); }

}  // namespace taho::api
