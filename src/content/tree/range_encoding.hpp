// Ranges with their proofs (docs/design/outboard.md), for serving content
// that the receiver verifies group by group against the root hash alone.
//
// Encoding of a range: the content size (8 bytes, little endian), then a
// pre-order walk of the tree visiting the subtrees that hold a requested
// group or the last group: a parent contributes its two children's chaining
// values (64 bytes), a group its bytes. The last group always travels along,
// which authenticates the size: a wrong size changes the tree above it.
#pragma once

#include <cstdint>
#include <vector>

#include "base/bytes.hpp"
#include "content/tree/outboard.hpp"
#include "content/tree/proof_error.hpp"

namespace taho::content {

// Bytes [offset, offset + length) of the content; offset 16 KiB aligned.
// The end is clamped to the content size; a range past the end proves the
// size only.
struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// The groups a range covers: [first, end).
struct GroupRange {
  std::uint64_t first = 0;
  std::uint64_t end = 0;
};
Expected<GroupRange, ProofError> groups_of(ByteRange range, std::uint64_t content_size);

// Bytes of the encoding of `range`, so a server can bound a response first.
Expected<std::uint64_t, ProofError> encoded_range_bytes(ByteRange range, std::uint64_t content_size);

// Encodes `range` of `content` with the proof from its outboard.
Expected<Bytes, ProofError> encode_range(ByteView content, const OutboardView& outboard, ByteRange range);

// Where one group's bytes go in an encoding.
struct GroupSlot {
  std::uint64_t content_offset = 0;
  std::uint64_t encoded_offset = 0;
  std::uint64_t length = 0;
};

// The encoding of `range` with everything but the groups' bytes in place
// (size and proof nodes), and the slots those bytes go to. A store reads
// each group from its file straight into its slot: no mapping of the whole
// file and no second copy per range served.
struct RangeLayout {
  Bytes encoded;
  std::vector<GroupSlot> groups;  // in encoding order
};
Expected<RangeLayout, ProofError> lay_out_range(const OutboardView& outboard, ByteRange range);

}  // namespace taho::content
