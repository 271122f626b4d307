#include "node/identity.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

namespace taho::node {
namespace {

class IdentityFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/taho-identity-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path key_file() const { return dir_ / "identity.key"; }
  std::filesystem::path dir_;
};

TEST_F(IdentityFiles, CreatedOnceWithOwnerOnlyMode) {
  bool created = false;
  auto first = load_or_create_identity(key_file(), &created);
  ASSERT_TRUE(first);
  EXPECT_TRUE(created);
  struct stat info {};
  ASSERT_EQ(::stat(key_file().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  auto second = load_or_create_identity(key_file(), &created);
  ASSERT_TRUE(second);
  EXPECT_FALSE(created);
  EXPECT_EQ(first->public_key(), second->public_key());
}

TEST_F(IdentityFiles, GroupReadableKeyIsRefused) {
  ASSERT_TRUE(load_or_create_identity(key_file()));
  ASSERT_EQ(::chmod(key_file().c_str(), 0640), 0);
  auto loaded = load_identity(key_file());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, IdentityErrc::unsafe_mode);
  EXPECT_NE(loaded.error().detail.find("chmod 600"), std::string::npos);
  // And it is not silently replaced by a new key.
  auto again = load_or_create_identity(key_file());
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, IdentityErrc::unsafe_mode);
}

TEST_F(IdentityFiles, ConcurrentFirstRunsAgreeOnOneKey) {
  constexpr int kRacers = 8;
  std::vector<crypto::Ed25519PublicKey> keys(kRacers);
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&, i] {
      auto pair = load_or_create_identity(key_file());
      if (pair) keys[static_cast<std::size_t>(i)] = pair->public_key();
    });
  }
  for (auto& racer : racers) racer.join();
  auto on_disk = load_identity(key_file());
  ASSERT_TRUE(on_disk);
  for (const auto& key : keys) EXPECT_EQ(key, on_disk->public_key());
}

TEST_F(IdentityFiles, MissingKeyIsReportedAsMissing) {
  auto loaded = load_identity(key_file());
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, IdentityErrc::missing);
}

TEST(IdentityEncoding, RoundTripsThroughLibp2pPrivateKeyProtobuf) {
  auto pair = crypto::Ed25519KeyPair::generate();
  ASSERT_TRUE(pair);
  Bytes encoded = encode_private_key(*pair);
  // libp2p PrivateKey: field 1 varint 1 (Ed25519), field 2 with 64 bytes.
  ASSERT_EQ(encoded.size(), 4u + 64u);
  EXPECT_EQ(encoded[0], 0x08);
  EXPECT_EQ(encoded[1], 0x01);
  EXPECT_EQ(encoded[2], 0x12);
  EXPECT_EQ(encoded[3], 64);
  auto decoded = decode_private_key(encoded);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->seed(), pair->seed());
}

TEST(IdentityEncoding, DamageIsDetected) {
  auto pair = crypto::Ed25519KeyPair::generate();
  ASSERT_TRUE(pair);
  Bytes encoded = encode_private_key(*pair);
  Bytes flipped_public = encoded;
  flipped_public.back() ^= 0x01;  // public half no longer matches the seed
  EXPECT_FALSE(decode_private_key(flipped_public));
  for (std::size_t length = 0; length < encoded.size(); ++length) {
    EXPECT_FALSE(decode_private_key(ByteView(encoded).first(length))) << "truncated to " << length;
  }
  Bytes wrong_type = encoded;
  wrong_type[1] = 0x02;
  auto result = decode_private_key(wrong_type);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().detail.find("not Ed25519"), std::string::npos);
}

}  // namespace
}  // namespace taho::node
