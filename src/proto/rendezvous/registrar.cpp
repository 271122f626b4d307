#include "proto/rendezvous/registrar.hpp"

#include <algorithm>
#include <vector>

#include "proto/rendezvous/namespace_name.hpp"

namespace taho::rendezvous {
namespace {

Unexpected<RendezvousError> error(Errc code, std::string detail) {
  return unexpected(RendezvousError{code, std::move(detail)});
}

}  // namespace

void Registrar::set_signed_peer_record(Instant now, Bytes envelope) {
  signed_peer_record_ = std::move(envelope);
  for (auto& [key, state] : registrations_) {
    if (state.in_flight) {
      state.record_changed = true;
    } else {
      state.due = now;
    }
  }
  handle_timeout(now);
}

Expected<void, RendezvousError> Registrar::add_registration(Instant now, const PeerId& point, std::string_view ns,
                                                            std::optional<std::chrono::seconds> ttl) {
  if (!is_valid_namespace(ns)) return error(Errc::bad_argument, "namespace must be 1-255 bytes of UTF-8");
  Key key{point, std::string(ns)};
  auto found = registrations_.find(key);
  if (found == registrations_.end()) {
    if (registrations_.size() >= options_.registrations_max) {
      return error(Errc::too_many_entries, "more than registrations_max registrations");
    }
    found = registrations_.emplace(std::move(key), RegistrationState{}).first;
  }
  RegistrationState& state = found->second;
  state.ttl = ttl;
  state.backoff = std::chrono::seconds(0);
  if (state.in_flight) {
    state.record_changed = true;  // the REGISTER under way carries the old TTL
  } else {
    state.due = now;
  }
  handle_timeout(now);
  return {};
}

bool Registrar::remove_registration(const PeerId& point, std::string_view ns) {
  const auto found = registrations_.find(Key{point, std::string(ns)});
  if (found == registrations_.end()) return false;
  const Key key = found->first;
  registrations_.erase(found);
  queue_unregister(key);
  return true;
}

Expected<void, RendezvousError> Registrar::discover(Instant now, const PeerId& point, std::string_view ns,
                                                    std::optional<std::uint64_t> limit) {
  if (!ns.empty() && !is_valid_namespace(ns)) return error(Errc::bad_argument, "namespace must be 1-255 bytes of UTF-8");
  const Key key{point, std::string(ns)};
  std::size_t discovers = 0;
  for (const auto& [id, pending] : pending_) {
    if (pending.kind != Kind::discover) continue;
    if (pending.key == key) return error(Errc::bad_argument, "a discovery of this namespace at this point is under way");
    ++discovers;
  }
  if (discovers >= options_.discovers_in_flight_max) {
    return error(Errc::too_many_entries, "more than discovers_in_flight_max discoveries");
  }
  send_discover(now, key, limit);
  return {};
}

void Registrar::forget_cookie(const PeerId& point, std::string_view ns) { cookies_.erase(Key{point, std::string(ns)}); }

RequestId Registrar::queue(const PeerId& point, Message message) {
  const RequestId id = next_id_++;
  outbound_.push_back(OutboundRequest{id, point, std::move(message)});
  return id;
}

void Registrar::emit(RegistrarEvent event) {
  if (events_.size() >= options_.events_queued_max) {
    events_.pop_front();
    ++dropped_events_;
  }
  events_.push_back(std::move(event));
}

void Registrar::send_register(Instant now, const Key& key, RegistrationState& state) {
  auto message = make_register(signed_peer_record_, key.second, state.ttl);
  if (!message) {
    registration_failed(now, key, std::move(message).error());
    return;
  }
  const RequestId id = queue(key.first, std::move(*message));
  pending_.emplace(id, Pending{Kind::register_request, key, now + options_.request_timeout, false, std::nullopt});
  state.in_flight = id;
  state.record_changed = false;
}

void Registrar::send_discover(Instant now, const Key& key, std::optional<std::uint64_t> limit) {
  Bytes cookie;
  if (const auto found = cookies_.find(key); found != cookies_.end()) {
    cookie = found->second.cookie;
    found->second.last_used = ++cookie_clock_;
  }
  auto message = make_discover(key.second, limit, cookie);
  if (!message) {
    // Only a cookie over our own limit can fail here: start over without it.
    cookies_.erase(key);
    cookie.clear();
    message = make_discover(key.second, limit, cookie);
    if (!message) return;
  }
  const RequestId id = queue(key.first, std::move(*message));
  pending_.emplace(id, Pending{Kind::discover, key, now + options_.request_timeout, !cookie.empty(), limit});
}

void Registrar::queue_unregister(const Key& key) {
  if (queued_unregisters_ >= options_.unregisters_queued_max) {
    ++dropped_unregisters_;  // the registration still expires with its TTL
    return;
  }
  auto message = make_unregister(key.second);
  if (!message) return;
  queue(key.first, std::move(*message));
  ++queued_unregisters_;
}

void Registrar::registration_failed(Instant now, const Key& key, RendezvousError failure) {
  const auto found = registrations_.find(key);
  if (found == registrations_.end()) return;
  RegistrationState& state = found->second;
  state.in_flight.reset();
  state.record_changed = false;  // the retry carries the newest record anyway
  state.backoff = state.backoff.count() == 0 ? options_.retry_initial : std::min(state.backoff * 2, options_.retry_max);
  state.due = now + state.backoff;
  emit(RegisterFailed{key.first, key.second, std::move(failure), state.due});
}

void Registrar::store_cookie(const Key& key, Bytes cookie) {
  if (!cookies_.contains(key) && cookies_.size() >= options_.cookies_max) {
    const auto oldest = std::min_element(cookies_.begin(), cookies_.end(), [](const auto& a, const auto& b) {
      return a.second.last_used < b.second.last_used;
    });
    cookies_.erase(oldest);
  }
  cookies_.insert_or_assign(key, CookieEntry{std::move(cookie), ++cookie_clock_});
}

void Registrar::handle_response(Instant now, RequestId id, const Message& response) {
  const auto found = pending_.find(id);
  if (found == pending_.end()) return;  // timed out or unknown: too late to matter
  const Pending pending = found->second;
  pending_.erase(found);
  const Key& key = pending.key;

  if (pending.kind == Kind::register_request) {
    auto granted = read_register_response(response);
    const auto state = registrations_.find(key);
    if (state == registrations_.end()) {
      // Removed while the REGISTER was under way: the UNREGISTER may have
      // arrived first, so send another.
      if (granted) queue_unregister(key);
      return;
    }
    // Removed and added again meanwhile: the newer REGISTER decides.
    if (state->second.in_flight != id) return;
    if (!granted) {
      registration_failed(now, key, std::move(granted).error());
      return;
    }
    RegistrationState& registration = state->second;
    registration.in_flight.reset();
    registration.backoff = std::chrono::seconds(0);
    registration.due = registration.record_changed ? now : now + std::max(*granted / 2, options_.refresh_min);
    emit(Registered{key.first, key.second, *granted});
    handle_timeout(now);
    return;
  }

  auto result = read_discover_response(response, key.second);
  if (!result) {
    RendezvousError failure = std::move(result).error();
    if (failure.code == Errc::invalid_cookie) {
      cookies_.erase(key);
      // A stale cookie (the point restarted): ask once more from the start.
      if (pending.had_cookie) {
        send_discover(now, key, pending.limit);
        return;
      }
    }
    emit(DiscoverFailed{key.first, key.second, std::move(failure)});
    return;
  }
  if (!result->cookie.empty()) store_cookie(key, result->cookie);
  emit(Discovered{key.first, key.second, std::move(*result)});
}

void Registrar::handle_failure(Instant now, RequestId id, const RendezvousError& failure) {
  const auto found = pending_.find(id);
  if (found == pending_.end()) return;
  const Pending pending = found->second;
  pending_.erase(found);
  if (pending.kind == Kind::register_request) {
    const auto state = registrations_.find(pending.key);
    if (state != registrations_.end() && state->second.in_flight == id) registration_failed(now, pending.key, failure);
  } else {
    emit(DiscoverFailed{pending.key.first, pending.key.second, failure});
  }
}

void Registrar::handle_timeout(Instant now) {
  std::vector<RequestId> expired;
  for (const auto& [id, pending] : pending_) {
    if (pending.deadline <= now) expired.push_back(id);
  }
  for (const RequestId id : expired) handle_failure(now, id, {Errc::timed_out, "no response within request_timeout"});

  if (signed_peer_record_.empty()) return;  // nothing to register with yet
  for (auto& [key, state] : registrations_) {
    if (!state.in_flight && state.due <= now) send_register(now, key, state);
  }
}

std::optional<Instant> Registrar::next_timeout() const {
  std::optional<Instant> earliest;
  auto consider = [&](Instant at) {
    if (!earliest || at < *earliest) earliest = at;
  };
  for (const auto& [id, pending] : pending_) consider(pending.deadline);
  if (!signed_peer_record_.empty()) {
    for (const auto& [key, state] : registrations_) {
      if (!state.in_flight) consider(state.due);
    }
  }
  return earliest;
}

std::optional<OutboundRequest> Registrar::poll_request() {
  if (outbound_.empty()) return std::nullopt;
  OutboundRequest request = std::move(outbound_.front());
  outbound_.pop_front();
  if (request.message.type == MessageType::unregister) --queued_unregisters_;
  return request;
}

std::optional<RegistrarEvent> Registrar::poll_event() {
  if (events_.empty()) return std::nullopt;
  RegistrarEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

}  // namespace taho::rendezvous
