// The /taho/blob/1.0.0 messages (docs/protocols/blob.md): one request from
// the client and one response header from the server, each a protobuf
// message behind a uvarint length prefix. For status HAVE the header is
// followed by the range encoding (content/tree/range_encoding.hpp), which is
// not a protobuf message and is read by the client core, not here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.hpp"
#include "base/expected.hpp"
#include "content/tree/content_id.hpp"
#include "proto/blob/errors.hpp"

namespace taho::blob {

inline constexpr std::string_view protocol_id = "/taho/blob/1.0.0";

// A request is 32 + 2 varints + a flag (about 60 bytes); the slack is for
// fields a later version may add.
inline constexpr std::size_t request_bytes_max = 256;
// A response header is small too; most of the bound is the error text.
inline constexpr std::size_t response_header_bytes_max = 1024;
inline constexpr std::size_t error_text_bytes_max = 512;
inline constexpr std::size_t root_bytes = 32;

struct Request {
  content::Hash root{};
  std::uint64_t offset = 0;   // 16 KiB aligned (the server answers ERROR bad_request otherwise)
  std::uint64_t length = 0;   // clamped to the content's end; 0 asks for the size proof only
  bool size_only = false;     // HEAD: only the header, no encoding

  bool operator==(const Request&) const = default;
};

enum class Status : std::uint8_t {
  have = 1,       // the encoding of the range follows (nothing for a size-only request)
  dont_have = 2,  // the server does not hold the content
  error = 3,      // refused; error_code and error say why
};

struct ResponseHeader {
  Status status = Status::error;
  std::uint64_t size = 0;                          // HAVE: the content's size
  RemoteErrc error_code = RemoteErrc::unspecified;  // ERROR only
  std::string error;                               // ERROR only, at most error_text_bytes_max

  bool operator==(const ResponseHeader&) const = default;
};

// Protobuf bodies, without the length prefix. Unknown fields are skipped;
// known fields with the wrong wire type, a root that is not 32 bytes, a
// status outside the enum or a size above the content limit are errors.
Bytes encode_request(const Request& request);
Expected<Request, BlobError> decode_request(ByteView body);
// Truncates the error text to error_text_bytes_max (at a UTF-8 boundary).
Bytes encode_response_header(const ResponseHeader& header);
Expected<ResponseHeader, BlobError> decode_response_header(ByteView body);

// uvarint length prefix + body, as written to the stream.
Bytes frame(ByteView body);

// Reads the one length-prefixed message at the start of a stream in any
// fragmentation, taking no byte beyond it (what follows a response header is
// the encoding). Memory: one prefix plus at most body_bytes_max.
class FrameReader {
 public:
  explicit FrameReader(std::size_t body_bytes_max) : body_bytes_max_(body_bytes_max) {}

  // Takes bytes up to the end of the frame; returns how many it took.
  // After an error every call returns that error again.
  Expected<std::size_t, BlobError> handle_data(ByteView bytes);
  bool complete() const { return body_start_ && buffer_.size() == *body_start_ + body_bytes_; }
  bool started() const { return !buffer_.empty(); }
  // The message body, once complete().
  ByteView body() const;

 private:
  Expected<std::size_t, BlobError> fail(BlobError error);

  std::size_t body_bytes_max_;
  Bytes buffer_;
  std::optional<std::size_t> body_start_;  // set once the prefix is read
  std::size_t body_bytes_ = 0;
  std::optional<BlobError> failure_;
};

}  // namespace taho::blob
