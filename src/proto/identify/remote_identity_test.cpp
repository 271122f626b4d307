#include "proto/identify/remote_identity.hpp"

#include <gtest/gtest.h>

#include "base/varint.hpp"
#include "crypto/sha256.hpp"
#include "proto/identify/reader.hpp"
#include "proto/identify/test_support.hpp"

namespace taho::identify {
namespace {

using testing::address;
using testing::hex;
using testing::key_from_fill;

// An Identify message encoded by js-libp2p 3.3.11's own protobuf code
// (@libp2p/identify 4.1.14, its declaration field order), carrying the peer
// record that peer_record_test.cpp pins, signed by the seed-0x07 key.
constexpr std::string_view kJsIdentifyHex =
    "2a0a697066732f302e312e30321d6a732d6c69627032702f332e332e3131206e6f64652f32302e32302e320a2408011220ea"
    "4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c1208047f000001060fa1120a047f000001060f"
    "a2dd032208047f00000106c3501a0e2f697066732f69642f312e302e301a132f697066732f69642f707573682f312e302e30"
    "1a102f697066732f70696e672f312e302e3042b7010a2408011220ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b"
    "92421eea691446d22c120203011a490a26002408011220ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea"
    "691446d22c1080d095ffbc311a0a0a08047f000001060fa11a0c0a0a047f000001060fa2dd032a40304cf4d040afc20751aa"
    "6ff558d21901a18530196915056a995cfc037f3dcf771fb6ef6d85042ce5f53bb98b06f530c33dcba2f8490ffb66c0cbb84e"
    "31e0e104";

TEST(RemoteIdentity, ReadsAndVerifiesAnIdentifyMessageMadeByJsLibp2p) {
  const Bytes body = hex(kJsIdentifyHex);
  Bytes stream;
  varint::encode(body.size(), stream);
  append(stream, body);
  const auto info = read_messages(stream);
  ASSERT_TRUE(info) << info.error().detail;
  EXPECT_EQ(info->protocol_version, "ipfs/0.1.0");
  EXPECT_EQ(info->agent_version, "js-libp2p/3.3.11 node/20.20.2");
  EXPECT_EQ(info->listen_addrs,
            (std::vector<Multiaddr>{address("/ip4/127.0.0.1/tcp/4001"), address("/ip4/127.0.0.1/tcp/4002/ws")}));
  EXPECT_EQ(info->observed_addr, address("/ip4/127.0.0.1/tcp/50000"));
  EXPECT_EQ(info->protocols, (std::vector<std::string>{"/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0"}));
  EXPECT_EQ(info->unreadable_addrs, 0u);

  const auto js_peer = PeerId::parse("12D3KooWRawPbxPtP1eZaJpumGnyWX2DcUyd3RQnydr3eAto4Az7");
  ASSERT_TRUE(js_peer);
  const auto record = verify_remote(*info, *js_peer);
  ASSERT_TRUE(record) << record.error().detail;
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->seq, 1700000000000u);
  EXPECT_EQ((*record)->addresses, info->listen_addrs);

  const auto someone_else = verify_remote(*info, PeerId::from_ed25519(key_from_fill(0x11).public_key()));
  ASSERT_FALSE(someone_else);
  EXPECT_EQ(someone_else.error().code, Errc::peer_id_mismatch);
}

Info info_signed_by(const crypto::Ed25519KeyPair& key) {
  Info info;
  info.public_key = PublicKey::ed25519(key.public_key());
  const std::vector<Multiaddr> addresses = {address("/ip4/127.0.0.1/tcp/4001")};
  info.signed_peer_record = seal_peer_record(key, 3, addresses);
  return info;
}

TEST(RemoteIdentity, AcceptsTheAuthenticatedPeersKeyAndRecord) {
  const auto key = key_from_fill(0x11);
  const PeerId peer = PeerId::from_ed25519(key.public_key());
  const Info info = info_signed_by(key);
  EXPECT_TRUE(check_public_key(info, peer));
  const auto record = verify_remote(info, peer);
  ASSERT_TRUE(record) << record.error().detail;
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ((*record)->seq, 3u);
  EXPECT_EQ((*record)->peer_id, peer);
}

TEST(RemoteIdentity, AcceptsAnInfoWithoutKeyOrRecord) {
  const PeerId peer = PeerId::from_ed25519(key_from_fill(0x11).public_key());
  const Info info;
  EXPECT_TRUE(check_public_key(info, peer));
  const auto record = verify_remote(info, peer);
  ASSERT_TRUE(record);
  EXPECT_FALSE(record->has_value());
}

TEST(RemoteIdentity, RefusesAnotherPeersKey) {
  const PeerId connection_peer = PeerId::from_ed25519(key_from_fill(0x11).public_key());
  const Info info = info_signed_by(key_from_fill(0x22));
  const auto key = check_public_key(info, connection_peer);
  ASSERT_FALSE(key);
  EXPECT_EQ(key.error().code, Errc::peer_id_mismatch);
  const auto record = verify_remote(info, connection_peer);
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code, Errc::peer_id_mismatch);
}

TEST(RemoteIdentity, RefusesAnotherPeersRecordUnderTheRightKey) {
  const auto key = key_from_fill(0x11);
  const PeerId peer = PeerId::from_ed25519(key.public_key());
  Info info = info_signed_by(key_from_fill(0x22));  // a valid record, but someone else's
  info.public_key = PublicKey::ed25519(key.public_key());
  const auto record = verify_remote(info, peer);
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code, Errc::peer_id_mismatch);
}

TEST(RemoteIdentity, RefusesATamperedRecord) {
  const auto key = key_from_fill(0x11);
  Info info = info_signed_by(key);
  info.signed_peer_record->back() ^= 0x01;  // the last signature byte
  const auto record = verify_remote(info, PeerId::from_ed25519(key.public_key()));
  ASSERT_FALSE(record);
  EXPECT_EQ(record.error().code, Errc::bad_signature);
}

TEST(RemoteIdentity, HashesLongKeysToTheirPeerId) {
  // An RSA-sized key: its peer id is the sha2-256 multihash, not inlined.
  const PublicKey rsa{.type = KeyType::rsa, .data = Bytes(270, 0x30)};
  const auto id = PeerId::from_public_key(rsa, [](ByteView data) { return crypto::sha256(data); });
  ASSERT_TRUE(id) << id.error().detail;
  ASSERT_FALSE(id->public_key());  // hashed, so identify's publicKey is the only way to learn the key
  Info info;
  info.public_key = rsa;
  EXPECT_TRUE(check_public_key(info, *id));
  const auto other = check_public_key(info, PeerId::from_ed25519(key_from_fill(0x11).public_key()));
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::peer_id_mismatch);
}

}  // namespace
}  // namespace taho::identify
