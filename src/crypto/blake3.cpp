#include "crypto/blake3.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>  // blake3_impl.h needs it; included here, outside its extern "C" block
#endif

#include <cstring>
#include <utility>
#include <vector>

extern "C" {
// The C library's internal interface: the compression function and the
// multi-input hashing its SIMD back ends provide (runtime dispatched).
#include <blake3_impl.h>
}

namespace taho::crypto::blake3 {

Hasher::Hasher() { blake3_hasher_init(&state_); }

Hasher Hasher::keyed(const Key& key) {
  Hasher hasher;
  blake3_hasher_init_keyed(&hasher.state_, key.data());
  return hasher;
}

Hasher Hasher::derive_key(std::string_view context) {
  Hasher hasher;
  blake3_hasher_init_derive_key_raw(&hasher.state_, context.data(), context.size());
  return hasher;
}

void Hasher::update(ByteView input) { blake3_hasher_update(&state_, input.data(), input.size()); }

Hash Hasher::finalize() const {
  Hash out{};
  blake3_hasher_finalize(&state_, out.data(), out.size());
  return out;
}

void Hasher::finalize_xof(MutableByteView out, std::uint64_t seek) const {
  blake3_hasher_finalize_seek(&state_, seek, out.data(), out.size());
}

void Hasher::reset() { blake3_hasher_reset(&state_); }

Hash hash(ByteView input) {
  Hasher hasher;
  hasher.update(input);
  return hasher.finalize();
}

Hash keyed_hash(const Key& key, ByteView input) {
  auto hasher = Hasher::keyed(key);
  hasher.update(input);
  return hasher.finalize();
}

void derive_key(std::string_view context, ByteView material, MutableByteView out) {
  auto hasher = Hasher::derive_key(context);
  hasher.update(material);
  hasher.finalize_xof(out);
}

namespace {

// The last compression of a node, not yet performed: finishing it without
// ROOT gives the node's chaining value, with ROOT the hash of everything.
struct PendingOutput {
  std::uint32_t cv[8];
  std::uint8_t block[kBlockBytes];
  std::uint8_t block_len;
  std::uint64_t counter;
  std::uint8_t flags;
};

Hash finish(PendingOutput output, bool is_root) {
  const std::uint8_t flags = static_cast<std::uint8_t>(output.flags | (is_root ? ROOT : 0));
  blake3_compress_in_place(output.cv, output.block, output.block_len, output.counter, flags);
  Hash out{};
  store_cv_words(out.data(), output.cv);
  return out;
}

// A chunk of at most 1 KiB (the only possibly partial chunk is the last one).
PendingOutput chunk_output(ByteView chunk, std::uint64_t chunk_index) {
  PendingOutput output{};
  std::memcpy(output.cv, IV, sizeof output.cv);
  output.counter = chunk_index;
  std::uint8_t start = CHUNK_START;
  while (chunk.size() > kBlockBytes) {
    blake3_compress_in_place(output.cv, chunk.data(), kBlockBytes, chunk_index, start);
    chunk = chunk.subspan(kBlockBytes);
    start = 0;
  }
  if (!chunk.empty()) std::memcpy(output.block, chunk.data(), chunk.size());  // data() may be null when empty
  output.block_len = static_cast<std::uint8_t>(chunk.size());
  output.flags = static_cast<std::uint8_t>(start | CHUNK_END);
  return output;
}

PendingOutput parent_output(const std::uint8_t* left_and_right) {
  PendingOutput output{};
  std::memcpy(output.cv, IV, sizeof output.cv);
  std::memcpy(output.block, left_and_right, kBlockBytes);
  output.block_len = kBlockBytes;
  output.counter = 0;
  output.flags = PARENT;
  return output;
}

}  // namespace

Hash subtree_chaining_value(ByteView input, std::uint64_t first_chunk, bool is_root) {
  const std::size_t chunk_count = input.empty() ? 1 : (input.size() + kChunkBytes - 1) / kChunkBytes;
  if (chunk_count == 1) return finish(chunk_output(input, first_chunk), is_root);

  // A 16 KiB chunk group (the common case) needs no allocation.
  constexpr std::size_t kInlineChunks = 16;
  std::uint8_t inline_cvs[2][kInlineChunks * kHashBytes];
  const std::uint8_t* inline_starts[kInlineChunks];
  std::vector<std::uint8_t> heap_cvs[2];
  std::vector<const std::uint8_t*> heap_starts;
  std::uint8_t* cvs = inline_cvs[0];
  std::uint8_t* next = inline_cvs[1];
  const std::uint8_t** starts = inline_starts;
  if (chunk_count > kInlineChunks) {
    heap_cvs[0].resize(chunk_count * kHashBytes);
    heap_cvs[1].resize(chunk_count * kHashBytes);
    heap_starts.resize(chunk_count);
    cvs = heap_cvs[0].data();
    next = heap_cvs[1].data();
    starts = heap_starts.data();
  }

  // Chaining values of every chunk: the whole ones through the SIMD back end
  // in one call, a partial last one by itself.
  const std::size_t whole_chunks = input.size() / kChunkBytes;
  for (std::size_t i = 0; i < whole_chunks; ++i) starts[i] = input.data() + i * kChunkBytes;
  blake3_hash_many(starts, whole_chunks, kChunkBytes / kBlockBytes, IV, first_chunk, true, 0, CHUNK_START,
                   CHUNK_END, cvs);
  if (whole_chunks < chunk_count) {
    const auto last = finish(chunk_output(input.subspan(whole_chunks * kChunkBytes), first_chunk + whole_chunks),
                             false);
    std::memcpy(cvs + whole_chunks * kHashBytes, last.data(), kHashBytes);
  }

  // Pairing neighbours level by level, an odd last one moving up unchanged,
  // builds exactly BLAKE3's left-heavy tree.
  std::size_t count = chunk_count;
  while (count > 2) {
    const std::size_t parents = count / 2;
    for (std::size_t i = 0; i < parents; ++i) starts[i] = cvs + 2 * i * kHashBytes;
    blake3_hash_many(starts, parents, 1, IV, 0, false, PARENT, 0, 0, next);
    if (count % 2 == 1) std::memcpy(next + parents * kHashBytes, cvs + (count - 1) * kHashBytes, kHashBytes);
    count = parents + count % 2;
    std::swap(cvs, next);
  }
  return finish(parent_output(cvs), is_root);
}

Hash parent_chaining_value(const Hash& left, const Hash& right, bool is_root) {
  std::uint8_t block[kBlockBytes];
  std::memcpy(block, left.data(), kHashBytes);
  std::memcpy(block + kHashBytes, right.data(), kHashBytes);
  return finish(parent_output(block), is_root);
}

std::size_t simd_degree() { return blake3_simd_degree(); }

}  // namespace taho::crypto::blake3
