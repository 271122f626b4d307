#include "proto/rendezvous/client.hpp"

#include <algorithm>
#include <utility>

#include "proto/identify/peer_record.hpp"
#include "proto/rendezvous/namespace_name.hpp"

namespace taho::rendezvous {
namespace {

Unexpected<RendezvousError> error(Errc code, std::string detail) {
  return unexpected(RendezvousError{code, std::move(detail)});
}

Errc errc_of(ResponseStatus status) {
  switch (status) {
    case ResponseStatus::invalid_namespace: return Errc::invalid_namespace;
    case ResponseStatus::invalid_signed_peer_record: return Errc::invalid_signed_peer_record;
    case ResponseStatus::invalid_ttl: return Errc::invalid_ttl;
    case ResponseStatus::invalid_cookie: return Errc::invalid_cookie;
    case ResponseStatus::not_authorized: return Errc::not_authorized;
    case ResponseStatus::internal_error: return Errc::internal_error;
    case ResponseStatus::unavailable: return Errc::unavailable;
    case ResponseStatus::ok: break;
  }
  return Errc::unknown_status;
}

std::chrono::seconds capped_ttl(std::optional<std::uint64_t> ttl_seconds) {
  if (!ttl_seconds) return default_ttl;
  return std::chrono::seconds(std::min<std::uint64_t>(*ttl_seconds, static_cast<std::uint64_t>(ttl_cap.count())));
}

}  // namespace

RendezvousError refusal(ResponseStatus status, std::string_view status_text) {
  std::string detail(to_string(status));
  if (errc_of(status) == Errc::unknown_status) detail = "status " + std::to_string(static_cast<std::uint32_t>(status));
  if (!status_text.empty()) detail += ": " + std::string(status_text);
  return {errc_of(status), std::move(detail)};
}

Expected<Message, RendezvousError> make_register(ByteView signed_peer_record, std::string_view ns,
                                                 std::optional<std::chrono::seconds> ttl) {
  if (!is_valid_namespace(ns)) return error(Errc::bad_argument, "namespace must be 1-255 bytes of UTF-8");
  if (signed_peer_record.empty()) return error(Errc::bad_argument, "no signed peer record");
  if (signed_peer_record.size() > Limits{}.signed_peer_record_bytes_max) {
    return error(Errc::bad_argument, "signed peer record over signed_peer_record_bytes_max");
  }
  if (ttl && ttl->count() < 0) return error(Errc::bad_argument, "negative ttl");
  Message message;
  message.type = MessageType::register_request;
  message.register_request = Register{
      .ns = std::string(ns),
      .signed_peer_record = Bytes(signed_peer_record.begin(), signed_peer_record.end()),
      .ttl_seconds = ttl ? std::optional<std::uint64_t>(static_cast<std::uint64_t>(ttl->count())) : std::nullopt};
  return message;
}

Expected<Message, RendezvousError> make_unregister(std::string_view ns) {
  if (!is_valid_namespace(ns)) return error(Errc::bad_argument, "namespace must be 1-255 bytes of UTF-8");
  Message message;
  message.type = MessageType::unregister;
  message.unregister = Unregister{.ns = std::string(ns), .id = {}};
  return message;
}

Expected<Message, RendezvousError> make_discover(std::string_view ns, std::optional<std::uint64_t> limit,
                                                 ByteView cookie) {
  if (!ns.empty() && !is_valid_namespace(ns)) return error(Errc::bad_argument, "namespace must be 1-255 bytes of UTF-8");
  if (cookie.size() > Limits{}.cookie_bytes_max) return error(Errc::bad_argument, "cookie over cookie_bytes_max");
  Message message;
  message.type = MessageType::discover;
  message.discover = Discover{.ns = std::string(ns), .limit = limit, .cookie = Bytes(cookie.begin(), cookie.end())};
  return message;
}

Expected<std::chrono::seconds, RendezvousError> read_register_response(const Message& response) {
  if (response.type != MessageType::register_response || !response.register_response) {
    return error(Errc::bad_response, "not a REGISTER_RESPONSE");
  }
  const RegisterResponse& body = *response.register_response;
  if (body.status != ResponseStatus::ok) return unexpected(refusal(body.status, body.status_text));
  // rust-libp2p always sends the TTL; a point that does not grants the default.
  return capped_ttl(body.ttl_seconds);
}

Expected<DiscoverResult, RendezvousError> read_discover_response(const Message& response,
                                                                  std::string_view requested_ns) {
  if (response.type != MessageType::discover_response || !response.discover_response) {
    return error(Errc::bad_response, "not a DISCOVER_RESPONSE");
  }
  const DiscoverResponse& body = *response.discover_response;
  if (body.status != ResponseStatus::ok) return unexpected(refusal(body.status, body.status_text));
  DiscoverResult result;
  result.cookie = body.cookie;
  for (const Register& entry : body.registrations) {
    const bool namespace_fits = requested_ns.empty() ? is_valid_namespace(entry.ns) : entry.ns == requested_ns;
    auto record = identify::open_peer_record(entry.signed_peer_record);
    if (!namespace_fits || !record) {
      ++result.rejected_registrations;
      continue;
    }
    result.registrations.push_back(Registration{.ns = entry.ns,
                                                .peer = record->peer_id,
                                                .addrs = std::move(record->addresses),
                                                .ttl = capped_ttl(entry.ttl_seconds),
                                                .record_seq = record->seq,
                                                .signed_peer_record = entry.signed_peer_record});
  }
  return result;
}

}  // namespace taho::rendezvous
