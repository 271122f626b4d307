#include "crypto/blake3.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

namespace taho::crypto::blake3 {
namespace {

// The official vectors' input: the bytes 0..250 repeating.
Bytes vector_input(std::size_t length) {
  Bytes input(length);
  for (std::size_t i = 0; i < length; ++i) input[i] = static_cast<std::uint8_t>(i % 251);
  return input;
}

nlohmann::json load_vectors() {
  std::ifstream file(std::string(TAHO_SHARED_DIR) + "/vectors/blake3.json");
  std::stringstream text;
  text << file.rdbuf();
  return nlohmann::json::parse(text.str());
}

Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
  return out;
}

TEST(Blake3, OfficialVectorsAllModes) {
  const auto vectors = load_vectors();
  const std::string key_text = vectors["key"];
  const std::string context = vectors["context_string"];
  ASSERT_EQ(key_text.size(), kKeyBytes);
  Key key{};
  std::copy(key_text.begin(), key_text.end(), key.begin());
  ASSERT_GE(vectors["cases"].size(), 20u);

  for (const auto& test_case : vectors["cases"]) {
    const std::size_t length = test_case["input_len"];
    SCOPED_TRACE(length);
    const auto input = vector_input(length);
    const std::string expected_hash = test_case["hash"];
    const std::string expected_keyed = test_case["keyed_hash"];
    const std::string expected_derived = test_case["derive_key"];
    const std::size_t xof_bytes = expected_hash.size() / 2;

    // Default length and the extended output, in one go and from an offset.
    EXPECT_EQ(to_hex(hash(input)), expected_hash.substr(0, 64));
    Hasher hasher;
    hasher.update(input);
    Bytes extended(xof_bytes);
    hasher.finalize_xof(extended);
    EXPECT_EQ(to_hex(extended), expected_hash);
    Bytes tail(xof_bytes - 40);
    hasher.finalize_xof(tail, 40);
    EXPECT_EQ(to_hex(tail), expected_hash.substr(80));

    EXPECT_EQ(to_hex(keyed_hash(key, input)), expected_keyed.substr(0, 64));
    auto keyed = Hasher::keyed(key);
    keyed.update(input);
    keyed.finalize_xof(extended);
    EXPECT_EQ(to_hex(extended), expected_keyed);

    derive_key(context, input, extended);
    EXPECT_EQ(to_hex(extended), expected_derived);

    // The tree functions agree with the plain hash on the same input.
    EXPECT_EQ(to_hex(subtree_chaining_value(input, 0, true)), expected_hash.substr(0, 64));
  }
}

TEST(Blake3, IncrementalUpdatesMatchOneShot) {
  const auto input = random_bytes(100'000, 1);
  Hasher hasher;
  std::size_t offset = 0;
  std::mt19937 rng(2);
  while (offset < input.size()) {
    const std::size_t piece = std::min<std::size_t>(rng() % 5000, input.size() - offset);
    hasher.update(ByteView(input).subspan(offset, piece));
    offset += piece;
  }
  EXPECT_EQ(hasher.finalize(), hash(input));
  hasher.reset();
  EXPECT_EQ(hasher.finalize(), hash({}));
}

// Splitting at BLAKE3's left-heavy boundary and joining the halves with a
// root parent must give the hash of the whole input.
TEST(Blake3, SubtreesJoinIntoTheRootHash) {
  for (const std::size_t length : {1025u, 2048u, 3000u, 16384u, 16385u, 40000u, 65536u, 100'001u}) {
    SCOPED_TRACE(length);
    const auto input = random_bytes(length, static_cast<std::uint32_t>(length));
    const std::size_t chunks = (length + kChunkBytes - 1) / kChunkBytes;
    std::size_t left_chunks = 1;
    while (left_chunks * 2 < chunks) left_chunks *= 2;
    const ByteView all(input);
    const auto left = subtree_chaining_value(all.first(left_chunks * kChunkBytes), 0, false);
    const auto right = subtree_chaining_value(all.subspan(left_chunks * kChunkBytes), left_chunks, false);
    EXPECT_EQ(parent_chaining_value(left, right, true), hash(input));
    EXPECT_EQ(subtree_chaining_value(input, 0, true), hash(input));
    // Without ROOT the value differs: a chaining value is never a hash.
    EXPECT_NE(parent_chaining_value(left, right, false), hash(input));
  }
}

TEST(Blake3, ChunkCounterChangesTheChainingValue) {
  const auto input = random_bytes(16384, 9);
  EXPECT_NE(subtree_chaining_value(input, 0, false), subtree_chaining_value(input, 16, false));
}

TEST(Blake3, ReportsSimdDegree) {
  const auto degree = simd_degree();
  EXPECT_TRUE(degree == 1 || degree == 4 || degree == 8 || degree == 16) << degree;
}

}  // namespace
}  // namespace taho::crypto::blake3
