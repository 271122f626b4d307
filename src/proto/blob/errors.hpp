// Why a blob message, request or response was refused (docs/protocols/blob.md).
// The fetcher branches on the code: dont_have and remote_error mean "ask
// someone else", bad_group means "this peer sent data that does not hash to
// the content id: drop and penalise it", the framing codes mean a broken or
// hostile peer (reset the stream).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace taho::blob {

enum class Errc {
  // Framing and decoding, both directions.
  too_large,          // a length prefix above the message limit
  bad_length_prefix,  // the uvarint length prefix is malformed
  bad_protobuf,       // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,          // a known field with an invalid value (root not 32 bytes, unknown status ...)
  truncated,          // the stream ended inside a message or before the response was complete
  unexpected_data,    // bytes where the protocol allows none (after the request, after the response)
  // Answers the client receives.
  dont_have,          // the peer does not hold the content
  remote_error,       // the peer answered ERROR (BlobError::remote says why)
  bad_group,          // data or proof that does not verify against the root (BlobError::group)
  bad_response,       // a well-formed response that contradicts the protocol (size disagrees ...)
  too_many_bytes,     // more body bytes than the range encoding has
  // Commands from the local driver.
  bad_range,          // a range offset not 16 KiB aligned, or a size above the content limit
  range_too_large,    // a range above ServerOptions::range_bytes_max (answered ERROR on the wire)
  wrong_state,        // a command that does not fit the exchange's state (the driver's bug)
};

// The reason code a server sends with status ERROR. Unknown codes read as
// unspecified so that new ones can be added.
enum class RemoteErrc : std::uint8_t {
  unspecified = 0,
  bad_request = 1,      // the request did not decode or names an unaligned offset
  range_too_large = 2,  // the range is above the server's per-request limit
  busy = 3,             // the server serves too many requests now; try later or elsewhere
  internal = 4,         // the server failed to read its own store
};

struct BlobError {
  Errc code{};
  std::string detail;
  std::uint64_t group = 0;                         // bad_group: the group that failed to verify
  RemoteErrc remote = RemoteErrc::unspecified;     // remote_error: the reason the peer gave

  BlobError() = default;
  BlobError(Errc c, std::string d = {}) : code(c), detail(std::move(d)) {}
};

std::string_view to_string(Errc code);
std::string_view to_string(RemoteErrc code);

}  // namespace taho::blob
