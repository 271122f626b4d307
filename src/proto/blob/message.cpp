#include "proto/blob/message.hpp"

#include <algorithm>

#include "base/protobuf.hpp"
#include "base/varint.hpp"
#include "content/tree/tree_shape.hpp"

namespace taho::blob {
namespace {

// Field numbers (docs/protocols/blob.md).
namespace request_field {
constexpr std::uint32_t root = 1;
constexpr std::uint32_t offset = 2;
constexpr std::uint32_t length = 3;
constexpr std::uint32_t size_only = 4;
}  // namespace request_field
namespace response_field {
constexpr std::uint32_t status = 1;
constexpr std::uint32_t size = 2;
constexpr std::uint32_t error_code = 3;
constexpr std::uint32_t error = 4;
}  // namespace response_field

BlobError wrong_type(std::string_view message, std::uint32_t field) {
  return {Errc::bad_protobuf, std::string(message) + " field " + std::to_string(field) + " has the wrong wire type"};
}

// The longest prefix of `text` within `bytes_max` that does not split a UTF-8 sequence.
std::string_view clip_utf8(std::string_view text, std::size_t bytes_max) {
  if (text.size() <= bytes_max) return text;
  std::size_t end = bytes_max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end);
}

}  // namespace

Bytes encode_request(const Request& request) {
  pb::Writer writer;
  writer.bytes(request_field::root, request.root);
  writer.varint(request_field::offset, request.offset);
  writer.varint(request_field::length, request.length);
  if (request.size_only) writer.boolean(request_field::size_only, true);
  return writer.take();
}

Expected<Request, BlobError> decode_request(ByteView body) {
  Request request;
  bool has_root = false;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(BlobError{Errc::bad_protobuf, "request: " + field.error().detail});
    switch (field->number) {
      case request_field::root:
        if (field->type != pb::WireType::length_delimited) return unexpected(wrong_type("request", field->number));
        if (field->bytes.size() != root_bytes) {
          return unexpected(BlobError{Errc::bad_field, "request: root of " + std::to_string(field->bytes.size()) +
                                                           " bytes, not 32"});
        }
        std::copy(field->bytes.begin(), field->bytes.end(), request.root.begin());
        has_root = true;
        break;
      case request_field::offset:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("request", field->number));
        request.offset = field->integer;
        break;
      case request_field::length:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("request", field->number));
        request.length = field->integer;
        break;
      case request_field::size_only:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("request", field->number));
        request.size_only = field->integer != 0;
        break;
      default:
        break;  // a later version's field
    }
  }
  if (!has_root) return unexpected(BlobError{Errc::bad_field, "request: no root"});
  return request;
}

Bytes encode_response_header(const ResponseHeader& header) {
  pb::Writer writer;
  writer.varint(response_field::status, static_cast<std::uint64_t>(header.status));
  if (header.status == Status::have) writer.varint(response_field::size, header.size);
  if (header.status == Status::error) {
    writer.varint(response_field::error_code, static_cast<std::uint64_t>(header.error_code));
    if (!header.error.empty()) writer.string(response_field::error, clip_utf8(header.error, error_text_bytes_max));
  }
  return writer.take();
}

Expected<ResponseHeader, BlobError> decode_response_header(ByteView body) {
  ResponseHeader header;
  bool has_status = false;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(BlobError{Errc::bad_protobuf, "response: " + field.error().detail});
    switch (field->number) {
      case response_field::status:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("response", field->number));
        if (field->integer < 1 || field->integer > 3) {
          return unexpected(BlobError{Errc::bad_field, "response: unknown status " + std::to_string(field->integer)});
        }
        header.status = static_cast<Status>(field->integer);
        has_status = true;
        break;
      case response_field::size:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("response", field->number));
        if (field->integer > content::kContentBytesMax) {
          return unexpected(BlobError{Errc::bad_field, "response: size above the 1 PiB content limit"});
        }
        header.size = field->integer;
        break;
      case response_field::error_code:
        if (field->type != pb::WireType::varint) return unexpected(wrong_type("response", field->number));
        header.error_code = field->integer <= static_cast<std::uint64_t>(RemoteErrc::internal)
                                ? static_cast<RemoteErrc>(field->integer)
                                : RemoteErrc::unspecified;
        break;
      case response_field::error:
        if (field->type != pb::WireType::length_delimited) return unexpected(wrong_type("response", field->number));
        if (field->bytes.size() > error_text_bytes_max) {
          return unexpected(BlobError{Errc::bad_field, "response: error text above 512 bytes"});
        }
        header.error = std::string(as_text(field->bytes));
        break;
      default:
        break;
    }
  }
  if (!has_status) return unexpected(BlobError{Errc::bad_field, "response: no status"});
  // Fields that do not belong to the status are ignored, so equal headers compare equal.
  if (header.status != Status::have) header.size = 0;
  if (header.status != Status::error) {
    header.error_code = RemoteErrc::unspecified;
    header.error.clear();
  }
  return header;
}

Bytes frame(ByteView body) {
  Bytes out;
  out.reserve(varint::encoded_length(body.size()) + body.size());
  varint::encode(body.size(), out);
  append(out, body);
  return out;
}

Expected<std::size_t, BlobError> FrameReader::fail(BlobError error) {
  failure_ = error;
  buffer_.clear();
  return unexpected(std::move(error));
}

Expected<std::size_t, BlobError> FrameReader::handle_data(ByteView bytes) {
  if (failure_) return unexpected(*failure_);
  std::size_t taken = 0;
  // The prefix one byte at a time: we cannot know its end before we see it.
  while (!body_start_ && taken < bytes.size()) {
    buffer_.push_back(bytes[taken++]);
    const auto prefix = varint::decode(buffer_);
    if (!prefix) {
      if (prefix.error().code == varint::Errc::truncated) continue;
      return fail({Errc::bad_length_prefix, prefix.error().detail});
    }
    if (prefix->value > body_bytes_max_) {
      return fail({Errc::too_large, "message of " + std::to_string(prefix->value) + " bytes, limit " +
                                        std::to_string(body_bytes_max_)});
    }
    body_start_ = buffer_.size();
    body_bytes_ = static_cast<std::size_t>(prefix->value);
  }
  if (body_start_) {
    const std::size_t wanted = std::min(*body_start_ + body_bytes_ - buffer_.size(), bytes.size() - taken);
    append(buffer_, bytes.subspan(taken, wanted));
    taken += wanted;
  }
  return taken;
}

ByteView FrameReader::body() const {
  if (!complete()) return {};
  return ByteView(buffer_).subspan(*body_start_);
}

}  // namespace taho::blob
