// Content announcements (docs/protocols/blob.md "Announcements and the
// holder index"): which content a holder has, with its size, and where the
// holder listens. The same message travels as a gossip message on topic
// `taho/content/1` (the gossip author is the holder) and, length-prefixed,
// as the "what I hold" exchange on /taho/holdings/1.0.0 (the stream's peer
// is the holder). The holder never names itself in the payload: the signed
// gossip message or the authenticated connection does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "content/tree/content_id.hpp"

namespace taho::blob {

inline constexpr std::string_view holdings_protocol_id = "/taho/holdings/1.0.0";

// One message lists at most this many contents; a holder with more splits
// them over several messages.
inline constexpr std::size_t announcement_entries_max = 256;
inline constexpr std::size_t announcement_addrs_max = 16;
inline constexpr std::size_t announcement_addr_bytes_max = 256;
// 256 entries of 46 bytes, 16 addresses of 256 bytes, and slack.
inline constexpr std::size_t announcement_bytes_max = 24 * 1024;

enum class AnnouncementErrc {
  bad_protobuf,   // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,      // a root that is not 32 bytes, a size above 1 PiB, an entry without root
  too_many,       // more entries or addresses than the limits above
  too_large,      // a message above announcement_bytes_max
};
using AnnouncementError = Error<AnnouncementErrc>;

struct AnnouncedContent {
  content::Hash root{};
  std::uint64_t size = 0;

  bool operator==(const AnnouncedContent&) const = default;
};

struct Announcement {
  std::vector<AnnouncedContent> entries;
  std::vector<Multiaddr> addrs;  // the holder's listen addresses, without /p2p
  bool withdraw = false;         // the holder no longer has these entries

  bool operator==(const Announcement&) const = default;
};

// Encodes at most the first announcement_entries_max entries and
// announcement_addrs_max addresses (the caller splits larger lists).
Bytes encode_announcement(const Announcement& announcement);
// Unknown fields are skipped. Addresses that do not decode as multiaddrs
// are skipped too (a transport this version does not know), so one odd
// address does not hide the entries.
Expected<Announcement, AnnouncementError> decode_announcement(ByteView body);

}  // namespace taho::blob
