// The DISCOVER cookie our rendezvous points hand out. Clients treat cookies
// as opaque, but rust-libp2p clients parse them as 8 bytes followed by the
// namespace (UTF-8, empty for "all namespaces") and drop a response whose
// cookie does not parse that way, so ours has that layout:
//
//   8 bytes big-endian: epoch (16 bits) ‖ position (48 bits)  ‖  namespace
//
// `position` is the sequence number of the last registration the client
// has seen; `epoch` is drawn when the point starts, so cookies from an
// earlier run are recognised as stale instead of silently skipping entries.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/bytes.hpp"

namespace taho::rendezvous {

inline constexpr std::uint64_t cookie_position_max = (std::uint64_t{1} << 48) - 1;

struct Cookie {
  std::uint16_t epoch = 0;
  std::uint64_t position = 0;  // at most cookie_position_max
  std::string ns;              // empty: every namespace

  bool operator==(const Cookie&) const = default;
};

Bytes encode_cookie(const Cookie& cookie);
// nullopt for anything shorter than 8 bytes or with a namespace over 255
// bytes; the point checks epoch, position and namespace against its state.
std::optional<Cookie> decode_cookie(ByteView bytes);

}  // namespace taho::rendezvous
