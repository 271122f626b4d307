// Why a rendezvous message, request or response was refused. Decoding
// errors (too_large ... bad_field) mean a broken or hostile peer: the driver
// resets the stream. bad_request / bad_response are well-formed messages in
// the wrong place. The remaining codes mirror the ResponseStatus a
// rendezvous point answered with, so a client can branch on them (drop its
// cookie on invalid_cookie, stop retrying on not_authorized, ...).
#pragma once

#include <string_view>

#include "base/error.hpp"

namespace taho::rendezvous {

enum class Errc {
  too_large,          // a frame or field over its limit (Limits, namespace_bytes_max)
  too_many_entries,   // more registrations in a response than the limits allow
  bad_length_prefix,  // the uvarint length prefix is malformed
  truncated,          // the stream ended inside a message
  bad_protobuf,       // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,          // a known field whose value is invalid (unknown message type, status out of range ...)
  bad_request,        // a request a point cannot answer (a response type, or the body for its type missing)
  bad_response,       // a response that does not answer the request (wrong type, or no body)
  bad_argument,       // a request we were asked to build or track is invalid (namespace too long, no record ...)
  timed_out,          // no response within RegistrarOptions::request_timeout
  // The point refused; the detail carries its statusText.
  invalid_namespace,
  invalid_signed_peer_record,
  invalid_ttl,
  invalid_cookie,
  not_authorized,
  internal_error,
  unavailable,
  unknown_status,     // a non-OK status this implementation does not know
};
using RendezvousError = Error<Errc>;

std::string_view to_string(Errc code);

}  // namespace taho::rendezvous
