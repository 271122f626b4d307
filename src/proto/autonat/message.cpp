#include "proto/autonat/message.hpp"

#include <utility>

#include "base/protobuf.hpp"

namespace taho::autonat {
namespace {

// Field numbers of the spec's protobuf schema.
namespace field {
constexpr std::uint32_t type = 1;
constexpr std::uint32_t dial = 2;
constexpr std::uint32_t dial_response = 3;

constexpr std::uint32_t dial_peer = 1;

constexpr std::uint32_t peer_id = 1;
constexpr std::uint32_t peer_addrs = 2;

constexpr std::uint32_t response_status = 1;
constexpr std::uint32_t response_status_text = 2;
constexpr std::uint32_t response_addr = 3;
}  // namespace field

Unexpected<AutonatError> error(Errc code, std::string detail) {
  return unexpected(AutonatError{code, std::move(detail)});
}

Unexpected<AutonatError> protobuf_error(const pb::DecodeError& decode_error, std::string_view where) {
  return error(Errc::bad_protobuf, std::string(where) + ": " + decode_error.detail);
}

// The shared field checks' failures, in our codes.
Unexpected<AutonatError> field_error(pb::FieldError failure) {
  const Errc code = failure.code == pb::FieldErrc::too_large      ? Errc::too_large
                    : failure.code == pb::FieldErrc::out_of_range ? Errc::bad_field
                                                                  : Errc::bad_protobuf;
  return error(code, std::move(failure.detail));
}

Bytes encode_peer(const PeerInfo& peer) {
  pb::Writer writer;
  if (peer.id) writer.bytes(field::peer_id, *peer.id);
  for (const auto& addr : peer.addrs) writer.bytes(field::peer_addrs, addr);
  return writer.take();
}

Bytes encode_dial(const Dial& dial) {
  pb::Writer writer;
  if (dial.peer) writer.bytes(field::dial_peer, encode_peer(*dial.peer));
  return writer.take();
}

Bytes encode_response(const DialResponse& response) {
  pb::Writer writer;
  if (response.status) writer.varint(field::response_status, static_cast<std::uint64_t>(*response.status));
  if (!response.status_text.empty()) writer.string(field::response_status_text, response.status_text);
  if (response.addr) writer.bytes(field::response_addr, *response.addr);
  return writer.take();
}

Expected<PeerInfo, AutonatError> decode_peer(ByteView body, const Limits& limits) {
  PeerInfo peer;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "peer info");
    const pb::Field& f = *next;
    if (f.number == field::peer_id) {
      auto id = pb::bytes_of(f, limits.peer_id_bytes_max, "peer id");
      if (!id) return field_error(std::move(id).error());
      peer.id = Bytes(id->begin(), id->end());
    } else if (f.number == field::peer_addrs) {
      auto addr = pb::bytes_of(f, limits.addr_bytes_max, "address");
      if (!addr) return field_error(std::move(addr).error());
      if (peer.addrs.size() >= limits.addrs_max) return error(Errc::too_large, "more than addrs_max addresses");
      peer.addrs.emplace_back(addr->begin(), addr->end());
    }
  }
  return peer;
}

Expected<Dial, AutonatError> decode_dial(ByteView body, const Limits& limits) {
  Dial dial;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "dial");
    const pb::Field& f = *next;
    if (f.number != field::dial_peer) continue;
    auto bytes = pb::bytes_of(f, limits.message_bytes_max, "peer");
    if (!bytes) return field_error(std::move(bytes).error());
    auto peer = decode_peer(*bytes, limits);
    if (!peer) return unexpected(std::move(peer).error());
    dial.peer = std::move(*peer);
  }
  return dial;
}

Expected<DialResponse, AutonatError> decode_response(ByteView body, const Limits& limits) {
  DialResponse response;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "dial response");
    const pb::Field& f = *next;
    if (f.number == field::response_status) {
      auto status = pb::int32_enum_of(f, "status");
      if (!status) return field_error(std::move(status).error());
      response.status = static_cast<ResponseStatus>(*status);
    } else if (f.number == field::response_status_text) {
      auto text = pb::bytes_of(f, limits.status_text_bytes_max, "statusText");
      if (!text) return field_error(std::move(text).error());
      response.status_text = std::string(as_text(*text));
    } else if (f.number == field::response_addr) {
      auto addr = pb::bytes_of(f, limits.addr_bytes_max, "address");
      if (!addr) return field_error(std::move(addr).error());
      response.addr = Bytes(addr->begin(), addr->end());
    }
  }
  return response;
}

}  // namespace

std::string_view to_string(Errc code) {
  switch (code) {
    case Errc::too_large: return "too_large";
    case Errc::bad_length_prefix: return "bad_length_prefix";
    case Errc::truncated: return "truncated";
    case Errc::bad_protobuf: return "bad_protobuf";
    case Errc::bad_field: return "bad_field";
  }
  return "unknown";
}

std::string_view to_string(ResponseStatus status) {
  switch (status) {
    case ResponseStatus::ok: return "OK";
    case ResponseStatus::dial_error: return "E_DIAL_ERROR";
    case ResponseStatus::dial_refused: return "E_DIAL_REFUSED";
    case ResponseStatus::bad_request: return "E_BAD_REQUEST";
    case ResponseStatus::internal_error: return "E_INTERNAL_ERROR";
  }
  return "unknown";
}

Message make_dial(ByteView peer_id, const std::vector<Bytes>& addrs) {
  Message message;
  message.type = MessageType::dial;
  message.dial = Dial{PeerInfo{Bytes(peer_id.begin(), peer_id.end()), addrs}};
  return message;
}

Message make_response(ResponseStatus status, std::string status_text, std::optional<Bytes> addr) {
  Message message;
  message.type = MessageType::dial_response;
  message.dial_response = DialResponse{status, std::move(status_text), std::move(addr)};
  return message;
}

Bytes encode_message(const Message& message) {
  pb::Writer writer;
  if (message.type) writer.varint(field::type, static_cast<std::uint64_t>(*message.type));
  if (message.dial) writer.bytes(field::dial, encode_dial(*message.dial));
  if (message.dial_response) writer.bytes(field::dial_response, encode_response(*message.dial_response));
  return writer.take();
}

Expected<Message, AutonatError> decode_message(ByteView body, const Limits& limits) {
  if (body.size() > limits.message_bytes_max) return error(Errc::too_large, "message over message_bytes_max");
  Message message;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "message");
    const pb::Field& f = *next;
    if (f.number == field::type) {
      auto type = pb::int32_enum_of(f, "type");
      if (!type) return field_error(std::move(type).error());
      if (*type > static_cast<std::uint32_t>(MessageType::dial_response)) {
        return error(Errc::bad_field, "unknown message type " + std::to_string(*type));
      }
      message.type = static_cast<MessageType>(*type);
    } else if (f.number == field::dial) {
      auto bytes = pb::bytes_of(f, limits.message_bytes_max, "dial");
      if (!bytes) return field_error(std::move(bytes).error());
      auto dial = decode_dial(*bytes, limits);
      if (!dial) return unexpected(std::move(dial).error());
      message.dial = std::move(*dial);
    } else if (f.number == field::dial_response) {
      auto bytes = pb::bytes_of(f, limits.message_bytes_max, "dialResponse");
      if (!bytes) return field_error(std::move(bytes).error());
      auto response = decode_response(*bytes, limits);
      if (!response) return unexpected(std::move(response).error());
      message.dial_response = std::move(*response);
    }
  }
  return message;
}

Bytes encode_frame(const Message& message) { return length_prefixed(encode_message(message)); }

Expected<void, AutonatError> FrameReader::fail(AutonatError failure) {
  failure_ = failure;
  return unexpected(std::move(failure));
}

Expected<void, AutonatError> FrameReader::handle_data(ByteView bytes) {
  if (failure_) return unexpected(*failure_);
  while (!bytes.empty()) {
    // One message per direction: anything after it is a protocol violation.
    if (got_message_) return fail({Errc::too_large, "data after the one message of the stream"});
    auto body = splitter_.next(bytes);
    if (!body) {
      return fail({body.error().code == frame::Errc::too_large ? Errc::too_large : Errc::bad_length_prefix,
                   body.error().detail});
    }
    if (!*body) break;
    auto message = decode_message(**body, limits_);
    if (!message) return fail(std::move(message).error());
    ready_ = std::move(*message);
    got_message_ = true;
  }
  return {};
}

std::optional<Message> FrameReader::poll_message() {
  auto message = std::move(ready_);
  ready_.reset();
  return message;
}

Expected<void, AutonatError> FrameReader::handle_end() {
  if (failure_) return unexpected(*failure_);
  if (splitter_.mid_frame()) return fail({Errc::truncated, "stream ended inside a message"});
  if (!got_message_) return fail({Errc::truncated, "stream ended before a message"});
  return {};
}

}  // namespace taho::autonat
