// Why a Kademlia message or request was refused. A malformed or oversize
// message means a broken or hostile peer: the driver drops (resets) the
// stream; a refused request gets no answer.
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::kad {

enum class Errc {
  too_large,          // a message over Limits::message_bytes_max
  too_many_entries,   // more peers or addresses than the limits allow
  bad_length_prefix,  // the uvarint length prefix is malformed
  truncated,          // the stream ended inside a message
  bad_protobuf,       // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,          // a known field whose value is invalid (unknown message type, key too long ...)
  bad_request,        // a request the handler cannot answer (missing key, record for another key ...)
  rejected_record,    // PUT_VALUE refused by the validator (or no validator configured)
};
using KadError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::kad
