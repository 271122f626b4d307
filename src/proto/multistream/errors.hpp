// Why a multistream-select negotiation failed. Callers branch on the code
// (e.g. `no_protocol_agreed` means "try another transport/stack", the others
// mean the peer is broken or hostile).
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::multistream {

enum class Errc {
  bad_varint,          // a length prefix is malformed (overlong or not minimal)
  message_too_long,    // a length prefix above message_bytes_max
  missing_newline,     // a message is empty or does not end in '\n'
  bad_utf8,            // a message is not valid UTF-8
  bad_header,          // the first message was not `/multistream/1.0.0`
  unexpected_message,  // a well-formed message that makes no sense now
  no_protocol_agreed,  // every proposal was answered with `na`
  too_many_proposals,  // our list exceeds proposals_max, or the peer made more
  invalid_argument,    // our own misuse: bad protocol name, lazy with many protocols
  finished,            // input after negotiation had completed or failed
};
using NegotiationError = Error<Errc>;

// A stable name for logs and metrics.
std::string_view to_string(Errc code);

}  // namespace taho::multistream
