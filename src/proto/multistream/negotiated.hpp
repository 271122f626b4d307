// What a finished multistream-select negotiation hands to the next layer.
#pragma once

#include <string>

#include "base/bytes.hpp"

namespace taho::multistream {

struct Negotiated {
  std::string protocol;  // the agreed protocol id
  Bytes leftover;        // bytes that followed the last negotiation message: the next layer's
};

}  // namespace taho::multistream
