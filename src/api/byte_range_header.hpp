// The HTTP `Range` request header for GET /api/v1/content/{id} (RFC 9110
// §14.1-14.4), one byte range only.
//
// Parsing happens before the content's size is known (content fetched
// through the mesh learns its size from the first holder), so it is split in
// two: parse_range_header() reads the syntax, resolve_range() applies it to a
// size. Choices, documented in docs/api.md:
//   - a unit other than `bytes` is ignored (the whole content, 200), as the
//     RFC requires;
//   - several ranges (`bytes=0-1,5-9`) are refused with 416: answering them
//     needs multipart/byteranges, and quietly sending the whole content
//     instead could start a large fetch nobody asked for;
//   - a malformed `bytes=` value is refused with 416 too, saying why.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "content/tree/range_encoding.hpp"

namespace taho::api {

// One range as the client wrote it.
struct RangeRequest {
  enum class Kind {
    from_to,  // bytes=first-last (inclusive)
    from,     // bytes=first-     (to the end)
    suffix,   // bytes=-length    (the last `length` bytes)
  };
  Kind kind = Kind::from;
  std::uint64_t first = 0;
  std::uint64_t last = 0;           // from_to only
  std::uint64_t suffix_length = 0;  // suffix only

  bool operator==(const RangeRequest&) const = default;
};

enum class RangeHeaderErrc {
  malformed,        // not `bytes=` followed by one int-range or suffix-range
  multiple_ranges,  // more than one range in the list
};
using RangeHeaderError = Error<RangeHeaderErrc>;

// Longest header value we look at; a longer one is malformed.
inline constexpr std::size_t kRangeHeaderCharsMax = 256;

// nullopt when there is no range to honour (another unit): send everything.
Expected<std::optional<RangeRequest>, RangeHeaderError> parse_range_header(std::string_view value);

// The bytes [offset, offset + length) the range selects in content of `size`
// bytes; nullopt when unsatisfiable (416): the first byte is past the end,
// a zero-length suffix, or empty content.
std::optional<content::ByteRange> resolve_range(const RangeRequest& range, std::uint64_t size);

// What to ask the mesh for before the size is known: the range widened to
// whole 16 KiB groups (the unit of verification). nullopt for a suffix
// range, which needs the size first. An open end asks up to the content's end.
std::optional<content::ByteRange> fetch_range_of(const RangeRequest& range);

// "bytes 0-99/1000" for a 206 answer; "bytes */1000" for a 416 one.
std::string content_range_value(content::ByteRange range, std::uint64_t size);
std::string unsatisfied_range_value(std::uint64_t size);

}  // namespace taho::api
