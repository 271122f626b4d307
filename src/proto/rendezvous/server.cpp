#include "proto/rendezvous/server.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "base/varint.hpp"
#include "proto/identify/peer_record.hpp"
#include "proto/rendezvous/cookie.hpp"
#include "proto/rendezvous/namespace_name.hpp"

namespace taho::rendezvous {
namespace {

Unexpected<RendezvousError> bad_request(std::string detail) {
  return unexpected(RendezvousError{Errc::bad_request, std::move(detail)});
}

Message register_refusal(ResponseStatus status, std::string text) {
  Message reply;
  reply.type = MessageType::register_response;
  reply.register_response = RegisterResponse{.status = status, .status_text = std::move(text), .ttl_seconds = {}};
  return reply;
}

Message discover_refusal(ResponseStatus status, std::string text) {
  Message reply;
  reply.type = MessageType::discover_response;
  reply.discover_response =
      DiscoverResponse{.registrations = {}, .cookie = {}, .status = status, .status_text = std::move(text)};
  return reply;
}

// Whole seconds left, rounded up: a registration alive now never reads as 0.
std::uint64_t seconds_left(Instant now, Instant expires_at) {
  const auto left = std::chrono::ceil<std::chrono::seconds>(expires_at - now);
  return static_cast<std::uint64_t>(std::max<std::chrono::seconds::rep>(left.count(), 1));
}

// A DiscoverResponse's bytes besides its registrations: type, the
// sub-message's tag and length, cookie, status (no text on OK).
std::size_t discover_reply_overhead(std::size_t cookie_bytes) {
  return 2 + 1 + varint::kEncodedBytesMax + 1 + varint::kEncodedBytesMax + cookie_bytes + 1 + varint::kEncodedBytesMax;
}

}  // namespace

Server::Server(Rng& rng, const ServerOptions& options) : options_(options) {
  std::array<std::uint8_t, 2> epoch{};
  rng.fill(epoch);
  epoch_ = static_cast<std::uint16_t>((epoch[0] << 8) | epoch[1]);
}

std::size_t Server::registration_count(const PeerId& peer) const {
  const auto found = per_peer_.find(peer);
  return found == per_peer_.end() ? 0 : found->second;
}

Expected<std::optional<Message>, RendezvousError> Server::handle_request(Instant now, const PeerId& sender,
                                                                         const Message& request) {
  handle_timeout(now);
  switch (request.type) {
    case MessageType::register_request:
      if (!request.register_request) return bad_request("REGISTER without its body");
      return std::optional<Message>{register_reply(now, sender, *request.register_request)};
    case MessageType::unregister:
      if (!request.unregister) return bad_request("UNREGISTER without its body");
      unregister(sender, request.unregister->ns);
      return std::optional<Message>{};
    case MessageType::discover:
      if (!request.discover) return bad_request("DISCOVER without its body");
      return std::optional<Message>{discover_reply(now, *request.discover)};
    case MessageType::register_response:
    case MessageType::discover_response:
      break;
  }
  return bad_request("a response sent as a request");
}

Message Server::register_reply(Instant now, const PeerId& sender, const Register& request) {
  auto refuse = [this](ResponseStatus status, std::string text) {
    ++stats_.registers_refused;
    return register_refusal(status, std::move(text));
  };
  if (!is_valid_namespace(request.ns)) return refuse(ResponseStatus::invalid_namespace, "namespace must be 1-255 bytes of UTF-8");
  const std::uint64_t ttl_seconds =
      request.ttl_seconds.value_or(static_cast<std::uint64_t>(options_.ttl_default.count()));
  if (ttl_seconds < static_cast<std::uint64_t>(options_.ttl_min.count()) ||
      ttl_seconds > static_cast<std::uint64_t>(options_.ttl_max.count())) {
    return refuse(ResponseStatus::invalid_ttl, "ttl must be between " + std::to_string(options_.ttl_min.count()) +
                                                   " and " + std::to_string(options_.ttl_max.count()) + " seconds");
  }
  auto record = identify::open_peer_record(request.signed_peer_record);
  if (!record) return refuse(ResponseStatus::invalid_signed_peer_record, record.error().detail);
  // Only a peer itself may register: the record must be signed by the
  // stream's authenticated peer, not merely name it.
  if (record->peer_id != sender) return refuse(ResponseStatus::not_authorized, "the record is not the sender's");

  if (last_sequence_ >= cookie_position_max) return refuse(ResponseStatus::internal_error, "sequence exhausted");

  const Key key{request.ns, sender};
  const auto existing = by_key_.find(key);
  const bool refresh = existing != by_key_.end();
  if (refresh) {
    erase(existing->second);
  } else {
    if (registration_count(sender) >= options_.registrations_per_peer_max) {
      return refuse(ResponseStatus::not_authorized, "too many registrations for this peer");
    }
    if (entries_.size() >= options_.registrations_max) {
      return refuse(ResponseStatus::unavailable, "registration table full");
    }
    if (!by_namespace_.contains(request.ns) && by_namespace_.size() >= options_.namespaces_max) {
      return refuse(ResponseStatus::unavailable, "too many namespaces");
    }
  }
  const std::uint64_t sequence = ++last_sequence_;
  const Instant expires_at = now + std::chrono::seconds(ttl_seconds);
  entries_.emplace(sequence, Entry{request.ns, sender, request.signed_peer_record, expires_at});
  by_key_.emplace(key, sequence);
  by_namespace_[request.ns].insert(sequence);
  ++per_peer_[sender];
  by_expiry_.emplace(expires_at, sequence);
  ++(refresh ? stats_.refreshed : stats_.registered);

  Message reply;
  reply.type = MessageType::register_response;
  reply.register_response = RegisterResponse{.status = ResponseStatus::ok, .status_text = {}, .ttl_seconds = ttl_seconds};
  return reply;
}

void Server::unregister(const PeerId& sender, const std::string& ns) {
  const auto found = by_key_.find(Key{ns, sender});
  if (found == by_key_.end()) return;
  erase(found->second);
  ++stats_.unregistered;
}

Message Server::discover_reply(Instant now, const Discover& request) {
  auto refuse = [this](ResponseStatus status, std::string text) {
    ++stats_.discovers_refused;
    return discover_refusal(status, std::move(text));
  };
  // An empty namespace asks for all of them.
  if (!request.ns.empty() && !is_valid_namespace(request.ns)) {
    return refuse(ResponseStatus::invalid_namespace, "namespace must be 1-255 bytes of UTF-8");
  }
  std::uint64_t position = 0;
  if (!request.cookie.empty()) {
    const auto cookie = decode_cookie(request.cookie);
    if (!cookie || cookie->epoch != epoch_ || cookie->position > last_sequence_ || cookie->ns != request.ns) {
      return refuse(ResponseStatus::invalid_cookie, "cookie not issued by this point for this namespace");
    }
    position = cookie->position;
  }
  const std::size_t limit =
      request.limit && *request.limit > 0 ? static_cast<std::size_t>(std::min<std::uint64_t>(*request.limit, options_.discover_limit_max))
                                          : options_.discover_limit_max;
  const std::size_t overhead = discover_reply_overhead(8 + request.ns.size());
  const std::size_t budget = options_.response_bytes_max > overhead ? options_.response_bytes_max - overhead : 0;

  DiscoverResponse response;
  std::size_t used = 0;
  // Adds one registration unless the reply is full; the first always fits,
  // so a client can never be stuck behind a registration too large to send.
  auto add = [&](std::uint64_t sequence) {
    const Entry& entry = entries_.find(sequence)->second;  // every indexed sequence has its entry
    Register registration{.ns = entry.ns,
                          .signed_peer_record = entry.signed_peer_record,
                          .ttl_seconds = seconds_left(now, entry.expires_at)};
    const std::size_t bytes = encoded_registration_bytes(registration);
    if (response.registrations.size() >= limit || (!response.registrations.empty() && used + bytes > budget)) {
      return false;
    }
    used += bytes;
    response.registrations.push_back(std::move(registration));
    position = sequence;
    return true;
  };
  if (request.ns.empty()) {
    for (auto it = entries_.upper_bound(position); it != entries_.end() && add(it->first); ++it) {
    }
  } else if (const auto found = by_namespace_.find(request.ns); found != by_namespace_.end()) {
    const std::set<std::uint64_t>& sequences = found->second;
    for (auto it = sequences.upper_bound(position); it != sequences.end() && add(*it); ++it) {
    }
  }
  response.cookie = encode_cookie(Cookie{.epoch = epoch_, .position = position, .ns = request.ns});
  ++stats_.discovers_answered;

  Message reply;
  reply.type = MessageType::discover_response;
  reply.discover_response = std::move(response);
  return reply;
}

void Server::erase(std::uint64_t sequence) {
  const auto found = entries_.find(sequence);
  if (found == entries_.end()) return;
  const Entry& entry = found->second;
  by_key_.erase(Key{entry.ns, entry.peer});
  if (const auto ns = by_namespace_.find(entry.ns); ns != by_namespace_.end()) {
    ns->second.erase(sequence);
    if (ns->second.empty()) by_namespace_.erase(ns);
  }
  if (const auto count = per_peer_.find(entry.peer); count != per_peer_.end() && --count->second == 0) {
    per_peer_.erase(count);
  }
  by_expiry_.erase({entry.expires_at, sequence});
  entries_.erase(found);
}

void Server::handle_timeout(Instant now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    erase(by_expiry_.begin()->second);
    ++stats_.expired;
  }
}

std::optional<Instant> Server::next_timeout() const {
  if (by_expiry_.empty()) return std::nullopt;
  return by_expiry_.begin()->first;
}

}  // namespace taho::rendezvous
