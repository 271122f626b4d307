#include "proto/blob/announcement.hpp"

#include <gtest/gtest.h>

#include <array>

#include "base/protobuf.hpp"
#include "content/tree/tree_shape.hpp"
#include "proto/blob/message.hpp"

namespace taho::blob {
namespace {

content::Hash hash_of(std::uint8_t fill) {
  content::Hash hash{};
  hash.fill(fill);
  return hash;
}

Multiaddr addr(std::string_view text) { return *Multiaddr::parse(text); }

TEST(BlobAnnouncement, RoundTrips) {
  const Announcement announcement{{{hash_of(1), 0}, {hash_of(2), 123456789}, {hash_of(3), content::kContentBytesMax}},
                                  {addr("/ip4/10.0.0.1/tcp/4001"), addr("/ip6/::1/udp/4001/quic-v1")},
                                  false};
  auto decoded = decode_announcement(encode_announcement(announcement));
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(*decoded, announcement);

  const Announcement withdraw{{{hash_of(9), 0}}, {}, true};
  auto back = decode_announcement(encode_announcement(withdraw));
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, withdraw);
  EXPECT_TRUE(decode_announcement({})->entries.empty()) << "an empty message is an empty announcement";
}

TEST(BlobAnnouncement, DocumentedBytes) {
  // docs/protocols/blob.md "Announcements": one entry (root 32 x 0x11, size
  // 300000) and the address /ip4/10.0.0.1/tcp/4001.
  const Announcement announcement{{{hash_of(0x11), 300000}}, {addr("/ip4/10.0.0.1/tcp/4001")}, false};
  Bytes expected = {0x0a, 0x26, 0x0a, 0x20};
  for (int i = 0; i < 32; ++i) expected.push_back(0x11);
  for (std::uint8_t byte : {0x10, 0xe0, 0xa7, 0x12}) expected.push_back(byte);
  for (std::uint8_t byte : {0x12, 0x08, 0x04, 0x0a, 0x00, 0x00, 0x01, 0x06, 0x0f, 0xa1}) expected.push_back(byte);
  EXPECT_EQ(to_hex(encode_announcement(announcement)), to_hex(expected));
}

TEST(BlobAnnouncement, EncodingIsBoundedToTheLimits) {
  Announcement big;
  for (std::size_t i = 0; i < announcement_entries_max + 10; ++i) {
    big.entries.push_back({hash_of(static_cast<std::uint8_t>(i)), i});
  }
  for (int i = 0; i < 20; ++i) big.addrs.push_back(addr("/ip4/10.0.0." + std::to_string(i) + "/tcp/4001"));
  const Bytes encoded = encode_announcement(big);
  EXPECT_LE(encoded.size(), announcement_bytes_max);
  auto decoded = decode_announcement(encoded);
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(decoded->entries.size(), announcement_entries_max);
  EXPECT_EQ(decoded->addrs.size(), announcement_addrs_max);
}

TEST(BlobAnnouncement, RefusesWhatBreaksTheRules) {
  const auto code_of = [](const Bytes& body) { return decode_announcement(body).error().code; };
  {
    pb::Writer entry;
    entry.bytes(1, Bytes(31, 0));  // a root of 31 bytes
    pb::Writer message;
    message.bytes(1, entry.data());
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::bad_field);
  }
  {
    pb::Writer entry;
    entry.varint(2, 5);  // no root
    pb::Writer message;
    message.bytes(1, entry.data());
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::bad_field);
  }
  {
    pb::Writer entry;
    entry.bytes(1, hash_of(1));
    entry.varint(2, content::kContentBytesMax + 1);
    pb::Writer message;
    message.bytes(1, entry.data());
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::bad_field);
  }
  {
    pb::Writer message;
    message.varint(1, 7);  // an entry must be a message
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::bad_protobuf);
  }
  {
    pb::Writer message;
    message.bytes(3, Bytes{1});  // withdraw must be a varint
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::bad_protobuf);
  }
  EXPECT_EQ(code_of(Bytes{0x0a, 0x05, 0x01}), AnnouncementErrc::bad_protobuf) << "truncated";
  {
    pb::Writer message;
    for (std::size_t i = 0; i <= announcement_addrs_max; ++i) message.bytes(2, addr("/ip4/1.2.3.4/tcp/1").bytes());
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::too_many);
  }
  {
    pb::Writer message;
    pb::Writer entry;
    entry.bytes(1, hash_of(1));
    for (std::size_t i = 0; i <= announcement_entries_max; ++i) message.bytes(1, entry.data());
    EXPECT_EQ(code_of(message.take()), AnnouncementErrc::too_many);
  }
  EXPECT_EQ(code_of(Bytes(announcement_bytes_max + 1, 0)), AnnouncementErrc::too_large);
}

TEST(BlobAnnouncement, SkipsUnknownFieldsAndAddresses) {
  pb::Writer entry;
  entry.bytes(1, hash_of(4));
  entry.varint(2, 99);
  entry.string(7, "later");
  pb::Writer message;
  message.bytes(1, entry.data());
  message.bytes(2, Bytes{0xff, 0xff, 0x01});  // not a multiaddr we know
  const std::array<std::uint8_t, 32> key{7};
  message.bytes(2, addr("/ip4/10.0.0.2/tcp/4001").with_peer_id(PeerId::from_ed25519(key)).bytes());
  message.varint(9, 1);
  auto decoded = decode_announcement(message.take());
  ASSERT_TRUE(decoded) << decoded.error().detail;
  ASSERT_EQ(decoded->entries.size(), 1u);
  EXPECT_EQ(decoded->entries[0].size, 99u);
  ASSERT_EQ(decoded->addrs.size(), 1u);
  EXPECT_EQ(decoded->addrs[0], addr("/ip4/10.0.0.2/tcp/4001")) << "the holder is the author, not the address";
}

TEST(BlobAnnouncement, HoldingsFrameReadsBackThroughTheFrameReader) {
  const Announcement announcement{{{hash_of(5), 42}}, {addr("/ip4/10.0.0.5/tcp/4001")}, false};
  const Bytes stream = frame(encode_announcement(announcement));
  FrameReader reader(announcement_bytes_max);
  for (std::size_t i = 0; i < stream.size(); ++i) ASSERT_TRUE(reader.handle_data(ByteView(stream).subspan(i, 1)));
  ASSERT_TRUE(reader.complete());
  auto decoded = decode_announcement(reader.body());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, announcement);
}

}  // namespace
}  // namespace taho::blob
