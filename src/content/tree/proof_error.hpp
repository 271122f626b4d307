// Why an outboard, a range encoding or received data was refused.
#pragma once

#include "base/error.hpp"

namespace taho::content {

enum class ProofErrc {
  bad_range,       // range offset not 16 KiB aligned
  too_large,       // a size above kContentBytesMax
  bad_outboard,    // outboard length or size trailer does not fit the content
  hash_mismatch,   // data or a proof node does not hash to what its parent (or the root) says
  truncated,       // the encoding ended before everything the range needs arrived
  trailing_bytes,  // bytes after the end of the encoding
};
using ProofError = Error<ProofErrc>;

}  // namespace taho::content
