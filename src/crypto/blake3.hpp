// BLAKE3 over the official C implementation (runtime SIMD dispatch): the
// usual hash, keyed hash, key derivation and extendable output, plus the
// subtree chaining values the content tree needs (src/content/tree).
#pragma once

#include <blake3.h>

#include <array>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"

namespace taho::crypto::blake3 {

inline constexpr std::size_t kHashBytes = BLAKE3_OUT_LEN;
inline constexpr std::size_t kKeyBytes = BLAKE3_KEY_LEN;
inline constexpr std::size_t kBlockBytes = BLAKE3_BLOCK_LEN;
inline constexpr std::size_t kChunkBytes = BLAKE3_CHUNK_LEN;

// A 32-byte hash, or a chaining value of a subtree (same size, different use).
using Hash = std::array<std::uint8_t, kHashBytes>;
using Key = std::array<std::uint8_t, kKeyBytes>;

// Incremental hashing. Copyable: finalizing does not consume the state.
class Hasher {
 public:
  Hasher();  // plain hash
  static Hasher keyed(const Key& key);
  static Hasher derive_key(std::string_view context);

  void update(ByteView input);
  Hash finalize() const;
  // Extendable output: fills `out` with the output stream from byte `seek` on.
  void finalize_xof(MutableByteView out, std::uint64_t seek = 0) const;
  void reset();

 private:
  blake3_hasher state_{};
};

Hash hash(ByteView input);
Hash keyed_hash(const Key& key, ByteView input);
// derive_key(context, material) of the BLAKE3 paper; `out` may be any length.
void derive_key(std::string_view context, ByteView material, MutableByteView out);

// --- Subtrees (the BLAKE3 tree, exposed for verified streaming) ---
//
// BLAKE3 hashes 1 KiB chunks into a left-heavy binary tree. A subtree's
// chaining value is what its parent node consumes; the root of the whole
// input is finalized with the ROOT flag instead and is the hash itself.

// Chaining value of the subtree whose bytes are `input`, starting at chunk
// index `first_chunk` (input may be empty only for the whole empty input).
// The caller makes sure this is a real subtree: `first_chunk` is a multiple of
// the power of two covering input's chunks. With `is_root` the result is the
// hash of the whole input (first_chunk must then be 0).
Hash subtree_chaining_value(ByteView input, std::uint64_t first_chunk, bool is_root);

// Chaining value of a parent node over two child chaining values; with
// `is_root` it is the hash of the whole input.
Hash parent_chaining_value(const Hash& left, const Hash& right, bool is_root);

// Number of parallel lanes the dispatched SIMD code uses (1, 4, 8 or 16).
std::size_t simd_degree();

}  // namespace taho::crypto::blake3
