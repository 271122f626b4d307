#include "proto/kad/message.hpp"

#include <gtest/gtest.h>

#include <array>

#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::kad {
namespace {

PeerId peer_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return PeerId::from_ed25519(key);
}

Multiaddr address(std::string_view text) { return *Multiaddr::parse(text); }

Message full_message() {
  Message message;
  message.type = MessageType::get_providers;
  message.cluster_level_raw = -3;
  message.key = to_bytes("some key");
  message.record = Record{to_bytes("/v/key"), to_bytes("value"), "2026-01-01T00:00:00Z"};
  message.closer_peers.push_back(
      Peer{peer_from(1), {address("/ip4/10.0.0.1/tcp/4001"), address("/ip6/::1/udp/4001/quic-v1")},
           ConnectionType::connected, 0});
  message.closer_peers.push_back(Peer{peer_from(2), {}, ConnectionType::not_connected, 0});
  message.provider_peers.push_back(Peer{peer_from(3), {address("/dns4/example.com/tcp/443/wss")},
                                        ConnectionType::cannot_connect, 0});
  return message;
}

TEST(KadMessage, RoundTripsEveryField) {
  const Message message = full_message();
  const auto decoded = decode_message(encode_message(message));
  ASSERT_TRUE(decoded) << decoded.error().detail;
  EXPECT_EQ(*decoded, message);
}

TEST(KadMessage, RoundTripsEveryType) {
  for (int type = 0; type <= 5; ++type) {
    Message message;
    message.type = static_cast<MessageType>(type);
    const auto decoded = decode_message(encode_message(message));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->type, message.type);
  }
}

TEST(KadMessage, EncodesFindNodeToFixedBytes) {
  Message message;
  message.type = MessageType::find_node;
  message.key = to_bytes("abc");
  EXPECT_EQ(to_hex(encode_message(message)), "0804120361626"
                                             "3");
  EXPECT_EQ(to_hex(encode_frame(message)), "070804120361626"
                                           "3");
}

TEST(KadMessage, EncodesPeerToFixedBytes) {
  Message message;
  message.type = MessageType::find_node;
  message.closer_peers.push_back(Peer{peer_from(0), {address("/ip4/127.0.0.1/tcp/4001")}, ConnectionType::connected, 0});
  // 42 = field 8 bytes, len 0x34: {0a 26 <id 38 bytes>} {12 08 <addr>} {18 01}
  const std::string id_hex = "0a26" "0024080112" "20" + std::string(64, '0');
  const std::string expected = "0804" "4234" + id_hex + "1208" "047f000001060fa1" "1801";
  EXPECT_EQ(to_hex(encode_message(message)), expected);
}

TEST(KadMessage, NegativeClusterLevelUsesTenByteVarint) {
  Message message;
  message.cluster_level_raw = -1;
  const Bytes body = encode_message(message);
  // type (2 bytes) + tag 0x50 + ten-byte varint.
  EXPECT_EQ(body.size(), 2u + 1 + 10);
  EXPECT_EQ(decode_message(body)->cluster_level_raw, -1);
}

TEST(KadMessage, SkipsUnknownFields) {
  pb::Writer writer;
  writer.varint(1, 4);
  writer.string(77, "future");
  writer.fixed64(99, 7);
  writer.bytes(2, to_bytes("k"));
  const auto decoded = decode_message(writer.data());
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->type, MessageType::find_node);
  EXPECT_EQ(decoded->key, to_bytes("k"));
}

TEST(KadMessage, SkipsAndCountsUnreadableAddressesAndPeers) {
  pb::Writer peer;
  peer.bytes(1, peer_from(5).bytes());
  peer.bytes(2, address("/ip4/1.2.3.4/tcp/1").bytes());
  peer.bytes(2, Bytes{0xff, 0xff});
  pb::Writer bad_peer;
  bad_peer.bytes(1, to_bytes("not a multihash"));
  pb::Writer message;
  message.varint(1, 4);
  message.bytes(8, peer.data());
  message.bytes(8, bad_peer.data());
  const auto decoded = decode_message(message.data());
  ASSERT_TRUE(decoded) << decoded.error().detail;
  ASSERT_EQ(decoded->closer_peers.size(), 1u);
  EXPECT_EQ(decoded->closer_peers[0].addrs.size(), 1u);
  EXPECT_EQ(decoded->closer_peers[0].unreadable_addrs, 1u);
  EXPECT_EQ(decoded->unreadable_peers, 1u);
}

TEST(KadMessage, RefusesMalformedInput) {
  EXPECT_EQ(decode_message(Bytes{0x08}).error().code, Errc::bad_protobuf);          // truncated varint
  EXPECT_EQ(decode_message(Bytes{0x12, 0x05, 0x61}).error().code, Errc::bad_protobuf);  // field past the end
  EXPECT_EQ(decode_message(Bytes{0x08, 0x06}).error().code, Errc::bad_field);       // unknown message type
  EXPECT_EQ(decode_message(Bytes{0x0a, 0x00}).error().code, Errc::bad_protobuf);    // type as bytes
  EXPECT_EQ(decode_message(Bytes{0x10, 0x01}).error().code, Errc::bad_protobuf);    // key as varint
  EXPECT_EQ(decode_message(Bytes{0x42, 0x02, 0x0a, 0x05}).error().code, Errc::bad_protobuf);  // peer truncated
  EXPECT_EQ(decode_message(Bytes{0x1a, 0x02, 0x08, 0x01}).error().code, Errc::bad_protobuf);  // record key varint
}

TEST(KadMessage, EnforcesLimits) {
  Limits limits;
  limits.key_bytes_max = 4;
  limits.peers_per_list_max = 1;
  limits.addrs_per_peer_max = 1;
  Message long_key;
  long_key.key = to_bytes("12345");
  EXPECT_EQ(decode_message(encode_message(long_key), limits).error().code, Errc::bad_field);
  Message two_peers;
  two_peers.closer_peers = {Peer{peer_from(1), {}, {}, 0}, Peer{peer_from(2), {}, {}, 0}};
  EXPECT_EQ(decode_message(encode_message(two_peers), limits).error().code, Errc::too_many_entries);
  Message two_addrs;
  two_addrs.provider_peers = {Peer{peer_from(1), {address("/ip4/1.1.1.1/tcp/1"), address("/ip4/1.1.1.1/tcp/2")}, {}, 0}};
  EXPECT_EQ(decode_message(encode_message(two_addrs), limits).error().code, Errc::too_many_entries);
  limits.message_bytes_max = 3;
  EXPECT_EQ(decode_message(encode_message(full_message()), limits).error().code, Errc::too_large);
}

TEST(KadFrameReader, ReadsFramesInAnyFragmentation) {
  const Message first = full_message();
  Message second;
  second.type = MessageType::ping;
  Bytes stream = encode_frame(first);
  append(stream, encode_frame(second));
  append(stream, Bytes{0x00});  // an empty message: all defaults
  for (std::size_t chunk = 1; chunk <= stream.size(); chunk += 7) {
    FrameReader reader;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      ASSERT_TRUE(reader.handle_data(ByteView(stream).subspan(at, std::min(chunk, stream.size() - at))));
    }
    ASSERT_TRUE(reader.handle_end());
    EXPECT_EQ(reader.poll_message(), first);
    EXPECT_EQ(reader.poll_message(), second);
    EXPECT_EQ(reader.poll_message(), Message{});
    EXPECT_FALSE(reader.poll_message());
  }
}

TEST(KadFrameReader, RefusesOversizeAndBadPrefixAndTruncation) {
  Limits limits;
  limits.message_bytes_max = 10;
  FrameReader oversize(limits);
  EXPECT_EQ(oversize.handle_data(Bytes{0x0b}).error().code, Errc::too_large);
  EXPECT_EQ(oversize.handle_data(Bytes{0x00}).error().code, Errc::too_large);  // stays failed

  FrameReader bad_prefix;
  EXPECT_EQ(bad_prefix.handle_data(Bytes{0x80, 0x00}).error().code, Errc::bad_length_prefix);

  FrameReader truncated;
  ASSERT_TRUE(truncated.handle_data(Bytes{0x05, 0x08}));
  EXPECT_FALSE(truncated.poll_message());
  EXPECT_EQ(truncated.handle_end().error().code, Errc::truncated);

  FrameReader malformed;
  EXPECT_EQ(malformed.handle_data(Bytes{0x02, 0x08, 0x09}).error().code, Errc::bad_field);
}

}  // namespace
}  // namespace taho::kad
