#include "proto/blob/announcement.hpp"

#include <algorithm>
#include <string>

#include "base/protobuf.hpp"
#include "content/tree/tree_shape.hpp"

namespace taho::blob {
namespace {

// Field numbers (docs/protocols/blob.md "Announcements").
namespace announcement_field {
constexpr std::uint32_t entry = 1;
constexpr std::uint32_t addr = 2;
constexpr std::uint32_t withdraw = 3;
}  // namespace announcement_field
namespace entry_field {
constexpr std::uint32_t root = 1;
constexpr std::uint32_t size = 2;
}  // namespace entry_field

AnnouncementError wrong_type(std::string_view message, std::uint32_t field) {
  return {AnnouncementErrc::bad_protobuf,
          std::string(message) + " field " + std::to_string(field) + " has the wrong wire type"};
}

Expected<AnnouncedContent, AnnouncementError> decode_entry(ByteView body) {
  AnnouncedContent entry;
  bool has_root = false;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(AnnouncementError{AnnouncementErrc::bad_protobuf, "entry: " + field.error().detail});
    switch (field->number) {
      case entry_field::root:
        if (field->type != pb::WireType::length_delimited) return unexpected(wrong_type("entry", field->number));
        if (field->bytes.size() != entry.root.size()) {
          return unexpected(AnnouncementError{AnnouncementErrc::bad_field, "entry: root of " +
                                                                               std::to_string(field->bytes.size()) +
                                                                               " bytes, not 32"});
        }
        std::copy(field->bytes.begin(), field->bytes.end(), entry.root.begin());
        has_root = true;
        break;
      case entry_field::size:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("entry", field->number));
        if (field->integer > content::kContentBytesMax) {
          return unexpected(AnnouncementError{AnnouncementErrc::bad_field, "entry: size above the 1 PiB content limit"});
        }
        entry.size = field->integer;
        break;
      default:
        break;  // a later version's field
    }
  }
  if (!has_root) return unexpected(AnnouncementError{AnnouncementErrc::bad_field, "entry: no root"});
  return entry;
}

}  // namespace

Bytes encode_announcement(const Announcement& announcement) {
  pb::Writer writer;
  const std::size_t entries = std::min(announcement.entries.size(), announcement_entries_max);
  for (std::size_t i = 0; i < entries; ++i) {
    pb::Writer entry;
    entry.bytes(entry_field::root, announcement.entries[i].root);
    entry.varint(entry_field::size, announcement.entries[i].size);
    writer.bytes(announcement_field::entry, entry.data());
  }
  std::size_t addrs = 0;
  for (const auto& addr : announcement.addrs) {
    if (addrs == announcement_addrs_max) break;
    if (addr.bytes().size() > announcement_addr_bytes_max) continue;
    writer.bytes(announcement_field::addr, addr.bytes());
    ++addrs;
  }
  if (announcement.withdraw) writer.boolean(announcement_field::withdraw, true);
  return writer.take();
}

Expected<Announcement, AnnouncementError> decode_announcement(ByteView body) {
  if (body.size() > announcement_bytes_max) {
    return unexpected(AnnouncementError{AnnouncementErrc::too_large, "announcement of " + std::to_string(body.size()) +
                                                                         " bytes, limit " +
                                                                         std::to_string(announcement_bytes_max)});
  }
  Announcement announcement;
  std::size_t addrs_seen = 0;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) {
      return unexpected(AnnouncementError{AnnouncementErrc::bad_protobuf, "announcement: " + field.error().detail});
    }
    switch (field->number) {
      case announcement_field::entry: {
        if (field->type != pb::WireType::length_delimited) return unexpected(wrong_type("announcement", field->number));
        if (announcement.entries.size() == announcement_entries_max) {
          return unexpected(AnnouncementError{AnnouncementErrc::too_many, "more than " +
                                                                              std::to_string(announcement_entries_max) +
                                                                              " entries"});
        }
        auto entry = decode_entry(field->bytes);
        if (!entry) return unexpected(std::move(entry).error());
        announcement.entries.push_back(*entry);
        break;
      }
      case announcement_field::addr: {
        if (field->type != pb::WireType::length_delimited) return unexpected(wrong_type("announcement", field->number));
        if (++addrs_seen > announcement_addrs_max) {
          return unexpected(AnnouncementError{AnnouncementErrc::too_many, "more than " +
                                                                              std::to_string(announcement_addrs_max) +
                                                                              " addresses"});
        }
        if (field->bytes.size() > announcement_addr_bytes_max) break;
        auto addr = Multiaddr::from_bytes(field->bytes);
        if (!addr) break;  // a transport we do not know: skip it
        if (addr->peer_id()) *addr = addr->without_peer_id();
        announcement.addrs.push_back(std::move(*addr));
        break;
      }
      case announcement_field::withdraw:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("announcement", field->number));
        announcement.withdraw = field->integer != 0;
        break;
      default:
        break;
    }
  }
  return announcement;
}

}  // namespace taho::blob
