#include "crypto/sha256.hpp"

#include <gtest/gtest.h>

namespace taho::crypto {
namespace {

// FIPS 180-4 examples (NIST CSRC "SHA256.pdf").
TEST(Sha256, FipsExamples) {
  EXPECT_EQ(to_hex(sha256(to_bytes("abc"))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(to_hex(sha256(to_bytes("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(to_hex(sha256({})), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, IncrementalEqualsOneShotAndRestartsAfterFinish) {
  Sha256 hasher;
  hasher.update(to_bytes("ab"));
  hasher.update({});
  hasher.update(to_bytes("c"));
  EXPECT_EQ(hasher.finish(), sha256(to_bytes("abc")));
  hasher.update(to_bytes("abc"));
  EXPECT_EQ(hasher.finish(), sha256(to_bytes("abc")));
}

}  // namespace
}  // namespace taho::crypto
