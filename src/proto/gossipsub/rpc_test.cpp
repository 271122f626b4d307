#include "proto/gossipsub/rpc.hpp"

#include <gtest/gtest.h>

#include "base/varint.hpp"

namespace taho::gossipsub {
namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out));
  return out;
}

Rpc sample_rpc() {
  Rpc rpc;
  rpc.subscriptions.push_back({true, "news"});
  rpc.subscriptions.push_back({false, "old"});
  Message message;
  message.from = Bytes{0x00, 0x01, 0x02};
  message.data = to_bytes("hello");
  message.seqno = Bytes{0, 0, 0, 0, 0, 0, 0, 7};
  message.topic = "news";
  message.signature = Bytes(64, 0xaa);
  message.key = Bytes{0x08, 0x01};
  rpc.publish.push_back(message);
  ControlMessage control;
  control.ihave.push_back({"news", {Bytes{1, 2}, Bytes{3}}});
  control.iwant.push_back({{Bytes{4}, Bytes{5, 6}}});
  control.graft.push_back({"news"});
  control.prune.push_back({"old", {PeerInfo{Bytes{9}, std::nullopt}, PeerInfo{Bytes{8}, Bytes{7, 7}}}, 60});
  control.idontwant.push_back({{Bytes{10, 11}}});
  rpc.control = control;
  return rpc;
}

TEST(GossipsubRpc, RoundTripsEveryField) {
  const Rpc rpc = sample_rpc();
  const auto decoded = decode_rpc(encode_rpc(rpc));
  ASSERT_TRUE(decoded.has_value()) << decoded.error().detail;
  EXPECT_EQ(*decoded, rpc);
}

// Shared encodings go on the wire exactly as their decoded forms would, in
// the same place: after the plain messages, after the plain IHAVE entries.
TEST(GossipsubRpc, SharedEncodingsEncodeLikeTheirDecodedForm) {
  const Rpc plain = sample_rpc();
  Message second = plain.publish[0];
  second.data = to_bytes("second");
  Rpc expected = plain;
  expected.publish.push_back(second);
  expected.control->ihave.push_back({"news", {Bytes{7, 7}, Bytes{8}}});

  Rpc shared = plain;
  shared.publish_encoded.push_back(SharedEncoding(encode_message(second)));
  const std::string id_a("\x07\x07", 2);
  const std::string id_b("\x08", 1);
  const std::vector<std::string_view> ids{id_a, id_b};
  shared.control->ihave_encoded.push_back(SharedEncoding(encode_ihave("news", ids)));

  EXPECT_EQ(encode_rpc(shared), encode_rpc(expected));
  EXPECT_EQ(shared, expected);
  EXPECT_EQ(shared.message_count(), 2u);
  const auto decoded = decode_rpc(encode_rpc(shared));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, shared);
  EXPECT_EQ(decoded->publish, expected.publish);
  EXPECT_EQ(decoded->control->ihave, expected.control->ihave);
  EXPECT_TRUE(decoded->publish_encoded.empty());

  Rpc different = shared;
  different.publish_encoded[0] = SharedEncoding(encode_message(plain.publish[0]));
  EXPECT_NE(different, expected);
}

TEST(GossipsubRpc, FramedIsLengthPrefixedRpc) {
  Rpc rpc = sample_rpc();
  rpc.publish_encoded.push_back(SharedEncoding(Bytes(200, 0x12)));  // not a valid message: bytes are bytes
  const Bytes body = encode_rpc(rpc);
  Bytes expected;
  varint::encode(body.size(), expected);
  append(expected, body);
  EXPECT_EQ(encode_framed(rpc), expected);
  EXPECT_GT(body.size(), 200u);
}

TEST(GossipsubRpc, EncodesLargeBackoffAsAFullVarint) {
  Rpc rpc;
  rpc.control.emplace();
  rpc.control->prune.push_back({"t", {}, ~std::uint64_t{0}});
  const auto decoded = decode_rpc(encode_rpc(rpc));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->control->prune[0].backoff, ~std::uint64_t{0});
}

TEST(GossipsubRpc, RoundTripsEmptyRpc) {
  const auto decoded = decode_rpc(encode_rpc(Rpc{}));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_TRUE(decoded->empty());
  EXPECT_TRUE(encode_rpc(Rpc{}).empty());
}

TEST(GossipsubRpc, EncodesSubscriptionAsSpecified) {
  Rpc rpc;
  rpc.subscriptions.push_back({true, "a"});
  // RPC.subscriptions (1) { subscribe (1) = true, topicid (2) = "a" }
  EXPECT_EQ(to_hex(encode_rpc(rpc)), "0a050801120161");
}

TEST(GossipsubRpc, EncodesGraftAndPruneAsSpecified) {
  Rpc rpc;
  rpc.control.emplace();
  rpc.control->graft.push_back({"t"});
  EXPECT_EQ(to_hex(encode_rpc(rpc)), "1a051a030a0174");
  rpc.control->graft.clear();
  rpc.control->prune.push_back({"t", {}, 60});
  EXPECT_EQ(to_hex(encode_rpc(rpc)), "1a0722050a0174183c");
}

TEST(GossipsubRpc, EncodesMessageFieldsInOrder) {
  Message message;
  message.from = Bytes{0x01};
  message.data = Bytes{0x02};
  message.seqno = Bytes{0x03};
  message.topic = "t";
  message.signature = Bytes{0x05};
  message.key = Bytes{0x06};
  EXPECT_EQ(to_hex(encode_message(message)), "0a01011201021a0103220174"
                                             "2a0105320106");
}

TEST(GossipsubRpc, UnsignedEncodingLeavesOutSignatureAndKey) {
  Message message;
  message.from = Bytes{0x01};
  message.data = Bytes{0x02};
  message.seqno = Bytes{0x03};
  message.topic = "t";
  message.signature = Bytes{0x05};
  message.key = Bytes{0x06};
  EXPECT_EQ(to_hex(encode_unsigned_message("ab", message)), "6162" "0a01011201021a0103220174");
  message.from.reset();
  message.seqno.reset();
  EXPECT_EQ(to_hex(encode_unsigned_message("", message)), "1201022201" "74");
}

TEST(GossipsubRpc, DecodesFixedBytes) {
  // ihave { topic "t", ids [0x01, 0x0203] }, iwant { ids [0x04] }, idontwant { ids [0x05] }
  Bytes ihave = hex("0a0174" "120101" "12020203");
  Bytes iwant = hex("0a0104");
  Bytes idontwant = hex("0a0105");
  Bytes control;
  control.push_back(0x0a);
  control.push_back(static_cast<std::uint8_t>(ihave.size()));
  append(control, ihave);
  control.push_back(0x12);
  control.push_back(static_cast<std::uint8_t>(iwant.size()));
  append(control, iwant);
  control.push_back(0x2a);
  control.push_back(static_cast<std::uint8_t>(idontwant.size()));
  append(control, idontwant);
  Bytes rpc_bytes{0x1a, static_cast<std::uint8_t>(control.size())};
  append(rpc_bytes, control);
  const auto rpc = decode_rpc(rpc_bytes);
  ASSERT_TRUE(rpc.has_value()) << rpc.error().detail;
  ASSERT_TRUE(rpc->control.has_value());
  ASSERT_EQ(rpc->control->ihave.size(), 1u);
  EXPECT_EQ(rpc->control->ihave[0].topic, "t");
  EXPECT_EQ(rpc->control->ihave[0].message_ids, (std::vector<Bytes>{{0x01}, {0x02, 0x03}}));
  ASSERT_EQ(rpc->control->iwant.size(), 1u);
  EXPECT_EQ(rpc->control->iwant[0].message_ids, (std::vector<Bytes>{{0x04}}));
  ASSERT_EQ(rpc->control->idontwant.size(), 1u);
  EXPECT_EQ(rpc->control->idontwant[0].message_ids, (std::vector<Bytes>{{0x05}}));
}

TEST(GossipsubRpc, SkipsUnknownFields) {
  Bytes bytes = encode_rpc(sample_rpc());
  // Unknown varint field 9, unknown bytes field 10 and a fixed32 field 11.
  append(bytes, hex("4801" "52020102" "5d01020304"));
  const auto decoded = decode_rpc(bytes);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, sample_rpc());
}

TEST(GossipsubRpc, MergesRepeatedControlFields) {
  Rpc first;
  first.control.emplace();
  first.control->graft.push_back({"a"});
  Rpc second;
  second.control.emplace();
  second.control->graft.push_back({"b"});
  Bytes bytes = encode_rpc(first);
  append(bytes, encode_rpc(second));
  const auto decoded = decode_rpc(bytes);
  ASSERT_TRUE(decoded.has_value());
  ASSERT_EQ(decoded->control->graft.size(), 2u);
  EXPECT_EQ(decoded->control->graft[1].topic, "b");
}

TEST(GossipsubRpc, RejectsMalformedProtobuf) {
  for (const auto* bad : {"0a", "0a05080112", "ff", "0b", "1a02ff"}) {
    const auto decoded = decode_rpc(hex(bad));
    ASSERT_FALSE(decoded.has_value()) << bad;
    EXPECT_EQ(decoded.error().code, rpc::Errc::bad_protobuf) << bad;
  }
}

TEST(GossipsubRpc, RejectsWrongWireTypes) {
  // subscriptions as a varint; subscribe flag as bytes; backoff as bytes;
  // an ihave entry as a varint.
  for (const auto* bad : {"0801", "0a030a0100", "1a0422021a00", "1a020801"}) {
    const auto decoded = decode_rpc(hex(bad));
    ASSERT_FALSE(decoded.has_value()) << bad;
  }
  const auto decoded = decode_rpc(hex("0801"));
  EXPECT_EQ(decoded.error().code, rpc::Errc::bad_wire_type);
}

TEST(GossipsubRpc, EnforcesLimits) {
  Limits limits;
  limits.subscriptions_per_rpc_max = 1;
  limits.ids_per_control_max = 1;
  limits.topic_bytes_max = 3;
  limits.message_data_bytes_max = 4;
  limits.messages_per_rpc_max = 1;
  limits.control_entries_max = 1;
  const Rpc rpc = sample_rpc();
  auto decoded = decode_rpc(encode_rpc(rpc), limits);
  ASSERT_FALSE(decoded.has_value());

  Rpc subs;
  subs.subscriptions = {{true, "a"}, {true, "b"}};
  decoded = decode_rpc(encode_rpc(subs), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::too_many_entries);

  Rpc long_topic;
  long_topic.subscriptions = {{true, "abcd"}};
  decoded = decode_rpc(encode_rpc(long_topic), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::field_too_large);

  Rpc big_data;
  big_data.publish.push_back(Message{std::nullopt, Bytes(5, 1), std::nullopt, "t", std::nullopt, std::nullopt});
  decoded = decode_rpc(encode_rpc(big_data), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::field_too_large);

  Rpc ids;
  ids.control.emplace();
  ids.control->iwant.push_back({{Bytes{1}, Bytes{2}}});
  decoded = decode_rpc(encode_rpc(ids), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::too_many_entries);

  Rpc entries;
  entries.control.emplace();
  entries.control->graft = {{"a"}, {"b"}};
  decoded = decode_rpc(encode_rpc(entries), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::too_many_entries);

  limits = Limits{};
  limits.rpc_bytes_max = 10;
  decoded = decode_rpc(encode_rpc(sample_rpc()), limits);
  ASSERT_FALSE(decoded.has_value());
  EXPECT_EQ(decoded.error().code, rpc::Errc::frame_too_large);
}

TEST(GossipsubFrameReader, ReadsFramesInAnyFragmentation) {
  const Rpc first = sample_rpc();
  Rpc second;
  second.subscriptions.push_back({true, "x"});
  Bytes stream = encode_framed(first);
  append(stream, encode_framed(second));
  append(stream, encode_framed(Rpc{}));  // an empty RPC is a 0 length prefix
  for (std::size_t chunk : {1u, 2u, 7u, 1000u}) {
    FrameReader reader;
    std::vector<Rpc> got;
    for (std::size_t at = 0; at < stream.size(); at += chunk) {
      const ByteView piece = ByteView(stream).subspan(at, std::min(chunk, stream.size() - at));
      ASSERT_TRUE(reader.push(piece).has_value());
      while (true) {
        auto next = reader.next();
        ASSERT_TRUE(next.has_value());
        if (!*next) break;
        got.push_back(std::move(**next));
      }
    }
    ASSERT_EQ(got.size(), 3u) << chunk;
    EXPECT_EQ(got[0], first);
    EXPECT_EQ(got[1], second);
    EXPECT_TRUE(got[2].empty());
    EXPECT_EQ(reader.buffered_bytes(), 0u);
  }
}

TEST(GossipsubFrameReader, RejectsOversizeLengthPrefixBeforeTheBody) {
  Limits limits;
  limits.rpc_bytes_max = 100;
  FrameReader reader(limits);
  Bytes prefix;
  varint::encode(101, prefix);
  ASSERT_TRUE(reader.push(prefix).has_value());
  auto next = reader.next();
  ASSERT_FALSE(next.has_value());
  EXPECT_EQ(next.error().code, rpc::Errc::frame_too_large);
  // The stream stays failed.
  EXPECT_FALSE(reader.next().has_value());
  EXPECT_FALSE(reader.push(Bytes{0}).has_value());
}

TEST(GossipsubFrameReader, RejectsBadPrefixAndBadBody) {
  {
    FrameReader reader;
    ASSERT_TRUE(reader.push(hex("8000")).has_value());  // non-minimal varint
    auto next = reader.next();
    ASSERT_FALSE(next.has_value());
    EXPECT_EQ(next.error().code, rpc::Errc::bad_length_prefix);
  }
  {
    FrameReader reader;
    ASSERT_TRUE(reader.push(hex("01ff")).has_value());
    auto next = reader.next();
    ASSERT_FALSE(next.has_value());
    EXPECT_EQ(next.error().code, rpc::Errc::bad_protobuf);
  }
}

TEST(GossipsubFrameReader, RefusesUndrainedBuffer) {
  Limits limits;
  limits.rpc_bytes_max = 16;
  FrameReader reader(limits);
  ASSERT_TRUE(reader.push(Bytes(20, 0)).has_value());
  EXPECT_FALSE(reader.push(Bytes(10, 0)).has_value());
}

}  // namespace
}  // namespace taho::gossipsub
