#include "proto/rendezvous/message.hpp"

#include <algorithm>
#include <utility>

#include "base/peer_id.hpp"
#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::rendezvous {
namespace {

// Field numbers of the spec's protobuf schema.
namespace field {
constexpr std::uint32_t type = 1;
constexpr std::uint32_t register_request = 2;
constexpr std::uint32_t register_response = 3;
constexpr std::uint32_t unregister = 4;
constexpr std::uint32_t discover = 5;
constexpr std::uint32_t discover_response = 6;

constexpr std::uint32_t register_ns = 1;
constexpr std::uint32_t register_signed_peer_record = 2;
constexpr std::uint32_t register_ttl = 3;

constexpr std::uint32_t register_response_status = 1;
constexpr std::uint32_t register_response_status_text = 2;
constexpr std::uint32_t register_response_ttl = 3;

constexpr std::uint32_t unregister_ns = 1;
constexpr std::uint32_t unregister_id = 2;

constexpr std::uint32_t discover_ns = 1;
constexpr std::uint32_t discover_limit = 2;
constexpr std::uint32_t discover_cookie = 3;

constexpr std::uint32_t discover_response_registrations = 1;
constexpr std::uint32_t discover_response_cookie = 2;
constexpr std::uint32_t discover_response_status = 3;
constexpr std::uint32_t discover_response_status_text = 4;
}  // namespace field

constexpr std::uint64_t message_type_max = static_cast<std::uint64_t>(MessageType::discover_response);

Unexpected<RendezvousError> error(Errc code, std::string detail) {
  return unexpected(RendezvousError{code, std::move(detail)});
}

Unexpected<RendezvousError> protobuf_error(const pb::DecodeError& decode_error, std::string_view where) {
  return error(Errc::bad_protobuf, std::string(where) + ": " + decode_error.detail);
}

// The shared field checks' failures, in our codes.
Unexpected<RendezvousError> field_error(pb::FieldError failure) {
  const Errc code = failure.code == pb::FieldErrc::too_large      ? Errc::too_large
                    : failure.code == pb::FieldErrc::out_of_range ? Errc::bad_field
                                                                  : Errc::bad_protobuf;
  return error(code, std::move(failure.detail));
}

Expected<ResponseStatus, RendezvousError> status_field(const pb::Field& f) {
  auto status = pb::int32_enum_of(f, "status");
  if (!status) return field_error(std::move(status).error());
  return static_cast<ResponseStatus>(*status);
}

std::string text_of(ByteView bytes) { return std::string(as_text(bytes)); }

Bytes encode_register(const Register& registration) {
  pb::Writer writer;
  writer.string(field::register_ns, registration.ns);
  if (!registration.signed_peer_record.empty()) {
    writer.bytes(field::register_signed_peer_record, registration.signed_peer_record);
  }
  if (registration.ttl_seconds) writer.varint(field::register_ttl, *registration.ttl_seconds);
  return writer.take();
}

Bytes encode_register_response(const RegisterResponse& response) {
  pb::Writer writer;
  writer.varint(field::register_response_status, static_cast<std::uint64_t>(response.status));
  if (!response.status_text.empty()) writer.string(field::register_response_status_text, response.status_text);
  if (response.ttl_seconds) writer.varint(field::register_response_ttl, *response.ttl_seconds);
  return writer.take();
}

Bytes encode_unregister(const Unregister& unregister) {
  pb::Writer writer;
  writer.string(field::unregister_ns, unregister.ns);
  if (!unregister.id.empty()) writer.bytes(field::unregister_id, unregister.id);
  return writer.take();
}

Bytes encode_discover(const Discover& discover) {
  pb::Writer writer;
  if (!discover.ns.empty()) writer.string(field::discover_ns, discover.ns);
  if (discover.limit) writer.varint(field::discover_limit, *discover.limit);
  if (!discover.cookie.empty()) writer.bytes(field::discover_cookie, discover.cookie);
  return writer.take();
}

Bytes encode_discover_response(const DiscoverResponse& response) {
  pb::Writer writer;
  for (const Register& registration : response.registrations) {
    writer.bytes(field::discover_response_registrations, encode_register(registration));
  }
  if (!response.cookie.empty()) writer.bytes(field::discover_response_cookie, response.cookie);
  writer.varint(field::discover_response_status, static_cast<std::uint64_t>(response.status));
  if (!response.status_text.empty()) writer.string(field::discover_response_status_text, response.status_text);
  return writer.take();
}

Expected<Register, RendezvousError> decode_register(ByteView body, const Limits& limits) {
  Register registration;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "register");
    const pb::Field& f = *next;
    if (f.number == field::register_ns) {
      auto ns = pb::bytes_of(f, namespace_bytes_max, "namespace");
      if (!ns) return field_error(std::move(ns).error());
      registration.ns = text_of(*ns);
    } else if (f.number == field::register_signed_peer_record) {
      auto record = pb::bytes_of(f, limits.signed_peer_record_bytes_max, "signedPeerRecord");
      if (!record) return field_error(std::move(record).error());
      registration.signed_peer_record.assign(record->begin(), record->end());
    } else if (f.number == field::register_ttl) {
      auto ttl = pb::varint_of(f, "ttl");
      if (!ttl) return field_error(std::move(ttl).error());
      registration.ttl_seconds = *ttl;
    }
  }
  return registration;
}

Expected<RegisterResponse, RendezvousError> decode_register_response(ByteView body, const Limits& limits) {
  RegisterResponse response;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "register response");
    const pb::Field& f = *next;
    if (f.number == field::register_response_status) {
      auto status = status_field(f);
      if (!status) return unexpected(std::move(status).error());
      response.status = *status;
    } else if (f.number == field::register_response_status_text) {
      auto text = pb::bytes_of(f, limits.status_text_bytes_max, "statusText");
      if (!text) return field_error(std::move(text).error());
      response.status_text = text_of(*text);
    } else if (f.number == field::register_response_ttl) {
      auto ttl = pb::varint_of(f, "ttl");
      if (!ttl) return field_error(std::move(ttl).error());
      response.ttl_seconds = *ttl;
    }
  }
  return response;
}

Expected<Unregister, RendezvousError> decode_unregister(ByteView body) {
  Unregister unregister;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "unregister");
    const pb::Field& f = *next;
    if (f.number == field::unregister_ns) {
      auto ns = pb::bytes_of(f, namespace_bytes_max, "namespace");
      if (!ns) return field_error(std::move(ns).error());
      unregister.ns = text_of(*ns);
    } else if (f.number == field::unregister_id) {
      auto id = pb::bytes_of(f, peer_id::kBytesMax, "id");
      if (!id) return field_error(std::move(id).error());
      unregister.id.assign(id->begin(), id->end());
    }
  }
  return unregister;
}

Expected<Discover, RendezvousError> decode_discover(ByteView body, const Limits& limits) {
  Discover discover;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "discover");
    const pb::Field& f = *next;
    if (f.number == field::discover_ns) {
      auto ns = pb::bytes_of(f, namespace_bytes_max, "namespace");
      if (!ns) return field_error(std::move(ns).error());
      discover.ns = text_of(*ns);
    } else if (f.number == field::discover_limit) {
      auto limit = pb::varint_of(f, "limit");
      if (!limit) return field_error(std::move(limit).error());
      discover.limit = *limit;
    } else if (f.number == field::discover_cookie) {
      auto cookie = pb::bytes_of(f, limits.cookie_bytes_max, "cookie");
      if (!cookie) return field_error(std::move(cookie).error());
      discover.cookie.assign(cookie->begin(), cookie->end());
    }
  }
  return discover;
}

Expected<DiscoverResponse, RendezvousError> decode_discover_response(ByteView body, const Limits& limits) {
  DiscoverResponse response;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "discover response");
    const pb::Field& f = *next;
    if (f.number == field::discover_response_registrations) {
      auto entry = pb::message_of(f, "registration");
      if (!entry) return field_error(std::move(entry).error());
      if (response.registrations.size() >= limits.registrations_per_response_max) {
        return error(Errc::too_many_entries, "more than registrations_per_response_max registrations");
      }
      auto registration = decode_register(*entry, limits);
      if (!registration) return unexpected(std::move(registration).error());
      response.registrations.push_back(std::move(*registration));
    } else if (f.number == field::discover_response_cookie) {
      auto cookie = pb::bytes_of(f, limits.cookie_bytes_max, "cookie");
      if (!cookie) return field_error(std::move(cookie).error());
      response.cookie.assign(cookie->begin(), cookie->end());
    } else if (f.number == field::discover_response_status) {
      auto status = status_field(f);
      if (!status) return unexpected(std::move(status).error());
      response.status = *status;
    } else if (f.number == field::discover_response_status_text) {
      auto text = pb::bytes_of(f, limits.status_text_bytes_max, "statusText");
      if (!text) return field_error(std::move(text).error());
      response.status_text = text_of(*text);
    }
  }
  return response;
}

// Decodes the body of a sub-message field into `slot` (the last one wins, as
// for any repeated non-repeated protobuf field we do not merge).
template <class T, class Decode>
Expected<void, RendezvousError> decode_into(const pb::Field& f, std::optional<T>& slot, std::string_view name,
                                            Decode decode) {
  auto body = pb::message_of(f, name);
  if (!body) return field_error(std::move(body).error());
  auto decoded = decode(*body);
  if (!decoded) return unexpected(std::move(decoded).error());
  slot = std::move(*decoded);
  return {};
}

}  // namespace

std::string_view to_string(ResponseStatus status) {
  switch (status) {
    case ResponseStatus::ok: return "OK";
    case ResponseStatus::invalid_namespace: return "E_INVALID_NAMESPACE";
    case ResponseStatus::invalid_signed_peer_record: return "E_INVALID_SIGNED_PEER_RECORD";
    case ResponseStatus::invalid_ttl: return "E_INVALID_TTL";
    case ResponseStatus::invalid_cookie: return "E_INVALID_COOKIE";
    case ResponseStatus::not_authorized: return "E_NOT_AUTHORIZED";
    case ResponseStatus::internal_error: return "E_INTERNAL_ERROR";
    case ResponseStatus::unavailable: return "E_UNAVAILABLE";
  }
  return "unknown status";
}

Bytes encode_message(const Message& message) {
  pb::Writer writer;
  writer.varint(field::type, static_cast<std::uint64_t>(message.type));
  if (message.register_request) writer.bytes(field::register_request, encode_register(*message.register_request));
  if (message.register_response) {
    writer.bytes(field::register_response, encode_register_response(*message.register_response));
  }
  if (message.unregister) writer.bytes(field::unregister, encode_unregister(*message.unregister));
  if (message.discover) writer.bytes(field::discover, encode_discover(*message.discover));
  if (message.discover_response) {
    writer.bytes(field::discover_response, encode_discover_response(*message.discover_response));
  }
  return writer.take();
}

std::size_t encoded_registration_bytes(const Register& registration) {
  const std::size_t body = encode_register(registration).size();
  return 1 + varint::encoded_length(body) + body;  // one-byte tag: field 1
}

Expected<Message, RendezvousError> decode_message(ByteView body, const Limits& limits) {
  if (body.size() > limits.message_bytes_max) return error(Errc::too_large, "message over message_bytes_max");
  Message message;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "message");
    const pb::Field& f = *next;
    Expected<void, RendezvousError> decoded;
    switch (f.number) {
      case field::type: {
        auto type = pb::varint_of(f, "type");
        if (!type) return field_error(std::move(type).error());
        if (*type > message_type_max) return error(Errc::bad_field, "unknown message type");
        message.type = static_cast<MessageType>(*type);
        break;
      }
      case field::register_request:
        decoded = decode_into(f, message.register_request, "register",
                              [&](ByteView bytes) { return decode_register(bytes, limits); });
        break;
      case field::register_response:
        decoded = decode_into(f, message.register_response, "registerResponse",
                              [&](ByteView bytes) { return decode_register_response(bytes, limits); });
        break;
      case field::unregister:
        decoded = decode_into(f, message.unregister, "unregister", [](ByteView bytes) { return decode_unregister(bytes); });
        break;
      case field::discover:
        decoded = decode_into(f, message.discover, "discover",
                              [&](ByteView bytes) { return decode_discover(bytes, limits); });
        break;
      case field::discover_response:
        decoded = decode_into(f, message.discover_response, "discoverResponse",
                              [&](ByteView bytes) { return decode_discover_response(bytes, limits); });
        break;
      default:
        break;  // unknown fields are skipped
    }
    if (!decoded) return unexpected(std::move(decoded).error());
  }
  return message;
}

Bytes encode_frame(const Message& message) { return length_prefixed(encode_message(message)); }

Expected<void, RendezvousError> FrameReader::handle_data(ByteView bytes) {
  return frames_.handle_data(bytes, [this](ByteView body) -> Expected<Message, RendezvousError> {
    // Counted before decoding: a flood of tiny frames costs no decoding work.
    if (messages_read_ >= limits_.messages_per_stream_max) {
      return error(Errc::too_many_entries, "more than messages_per_stream_max messages");
    }
    ++messages_read_;
    return decode_message(body, limits_);
  });
}

std::optional<Message> FrameReader::poll_message() { return frames_.poll_message(); }

Expected<void, RendezvousError> FrameReader::handle_end() { return frames_.handle_end(); }

}  // namespace taho::rendezvous
