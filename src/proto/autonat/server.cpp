#include "proto/autonat/server.hpp"

#include <algorithm>

namespace taho::autonat {

using multiaddr::Protocol;

std::optional<multiaddr::Component> ip_component(const Multiaddr& addr) {
  if (addr.components().empty()) return std::nullopt;
  const auto& first = addr.components().front();
  if (first.protocol() != Protocol::ip4 && first.protocol() != Protocol::ip6) return std::nullopt;
  return first;
}

bool is_dial_back_shape(const Multiaddr& addr) {
  const Multiaddr plain = addr.without_peer_id();
  const auto& parts = plain.components();
  if (!ip_component(plain) || parts.size() < 2) return false;
  if (parts[1].protocol() == Protocol::tcp) {
    return parts.size() == 2 || (parts.size() == 3 && parts[2].protocol() == Protocol::ws);
  }
  return parts[1].protocol() == Protocol::udp && parts.size() == 3 && parts[2].protocol() == Protocol::quic_v1;
}

void Server::forget_before(Instant cutoff) {
  while (!recent_.empty() && recent_.front() < cutoff) recent_.pop_front();
  for (auto it = per_peer_.begin(); it != per_peer_.end();) {
    auto& times = it->second;
    while (!times.empty() && times.front() < cutoff) times.pop_front();
    it = times.empty() ? per_peer_.erase(it) : std::next(it);
  }
}

Decision Server::handle_request(Instant now, const PeerId& requester, const Multiaddr& observed,
                                const Message& request, const std::function<bool(const Multiaddr&)>& can_dial) {
  ++stats_.requests;
  if (request.type != MessageType::dial || !request.dial || !request.dial->peer) {
    ++stats_.bad_requests;
    return Refusal{ResponseStatus::bad_request, "expected a DIAL message with peer info"};
  }
  const PeerInfo& info = *request.dial->peer;
  if (info.id && *info.id != requester.bytes()) {
    ++stats_.bad_requests;
    return Refusal{ResponseStatus::bad_request, "peer id does not match the requester"};
  }

  if (now.since_start >= options_.rate_window) forget_before(now + -options_.rate_window);
  auto peer_times = per_peer_.find(requester);
  const std::size_t peer_count = peer_times == per_peer_.end() ? 0 : peer_times->second.size();
  if (recent_.size() >= options_.requests_global_max || peer_count >= options_.requests_per_peer_max ||
      (peer_times == per_peer_.end() && per_peer_.size() >= options_.peers_tracked_max)) {
    ++stats_.refused_rate;
    return Refusal{ResponseStatus::dial_refused, "too many dial requests"};
  }

  const auto observed_ip = ip_component(observed);
  std::vector<Multiaddr> chosen;
  for (const auto& raw : info.addrs) {
    if (chosen.size() >= options_.dial_addrs_max) break;
    auto parsed = Multiaddr::from_bytes(raw);
    if (!parsed || !is_dial_back_shape(*parsed)) continue;
    // Anti-amplification: the requester can only make us dial the IP it talks to us from.
    if (!observed_ip || ip_component(*parsed) != observed_ip) continue;
    Multiaddr plain = parsed->without_peer_id();
    // Our QUIC dial-back would leave from the socket the requester's
    // connection already uses: to the very address we see it at, any NAT
    // lets it through, so it would prove nothing.
    if (plain.has(Protocol::udp) && plain == observed.without_peer_id()) continue;
    if (can_dial && !can_dial(plain)) continue;
    if (std::find(chosen.begin(), chosen.end(), plain) == chosen.end()) chosen.push_back(std::move(plain));
  }
  if (chosen.empty()) {
    ++stats_.refused_addresses;
    return Refusal{ResponseStatus::dial_refused, "no dialable address on the IP the request came from"};
  }
  recent_.push_back(now);
  per_peer_[requester].push_back(now);
  return DialBack{std::move(chosen)};
}

Message response_for(const Refusal& refusal) { return make_response(refusal.status, refusal.text); }

Message response_ok(const Multiaddr& reached) { return make_response(ResponseStatus::ok, "OK", reached.bytes()); }

Message response_dial_error(std::string text) { return make_response(ResponseStatus::dial_error, std::move(text)); }

}  // namespace taho::autonat
