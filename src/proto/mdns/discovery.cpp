#include "proto/mdns/discovery.hpp"

#include <algorithm>

namespace taho::mdns {
namespace {

using multiaddr::Protocol;

constexpr std::string_view kPeerNameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
// A peer that announces an hour-long TTL is still forgotten after this.
constexpr std::uint32_t kPeerTtlSecondsMax = 75 * 60;
constexpr std::uint16_t kOpcodeMask = 0x7800;
constexpr std::uint16_t kClassMask = 0x7fff;  // without the mDNS top bit
constexpr std::uint16_t kClassAny = 255;

bool is_private_ipv4(ByteView ip, bool allow_loopback) {
  if (ip[0] == 10) return true;                              // 10/8
  if (ip[0] == 172 && (ip[1] & 0xF0) == 16) return true;     // 172.16/12
  if (ip[0] == 192 && ip[1] == 168) return true;             // 192.168/16
  if (ip[0] == 169 && ip[1] == 254) return true;             // 169.254/16 link-local
  if (ip[0] == 100 && (ip[1] & 0xC0) == 64) return true;     // 100.64/10 shared (carrier NAT)
  return allow_loopback && ip[0] == 127;                     // 127/8
}

bool is_private_ipv6(ByteView ip, bool allow_loopback) {
  if ((ip[0] & 0xFE) == 0xFC) return true;                   // fc00::/7 unique local
  if (ip[0] == 0xFE && (ip[1] & 0xC0) == 0x80) return true;  // fe80::/10 link-local
  const bool loopback = std::all_of(ip.begin(), ip.end() - 1, [](std::uint8_t b) { return b == 0; }) && ip[15] == 1;
  return allow_loopback && loopback;
}

bool same_addresses(std::vector<Multiaddr> a, std::vector<Multiaddr> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

bool asks_for_service(const dns::Question& question, const dns::Name& service) {
  const std::uint16_t qclass = question.qclass & kClassMask;
  const bool type_ok = question.qtype == dns::type::ptr || question.qtype == dns::type::any;
  const bool class_ok = qclass == dns::class_in || qclass == kClassAny;
  return type_ok && class_ok && question.name.equals(service);
}

}  // namespace

bool is_local_network_address(const Multiaddr& address, bool allow_loopback) {
  const auto& components = address.components();
  if (components.empty()) return false;
  const auto ip = components.front().value();
  switch (components.front().protocol()) {
    case Protocol::ip4: return ip.size() == 4 && is_private_ipv4(ip, allow_loopback);
    case Protocol::ip6: return ip.size() == 16 && is_private_ipv6(ip, allow_loopback);
    default: return false;
  }
}

bool is_loopback_address(const Multiaddr& address) {
  return !address.components().empty() && is_local_network_address(address, true) &&
         !is_local_network_address(address, false);
}

Discovery::Discovery(Instant now, PeerId local_peer, Rng& rng, Options options)
    : options_(std::move(options)),
      local_peer_(std::move(local_peer)),
      rng_(rng),
      next_query_(now),
      window_start_(now) {
  Bytes random(peer_name_chars);
  rng_.fill(random);
  for (const auto byte : random) peer_name_ += kPeerNameAlphabet[byte % kPeerNameAlphabet.size()];
  service_ = *dns::Name::parse(service_name);
  instance_ = service_;
  instance_.labels.insert(instance_.labels.begin(), peer_name_);
  for (const auto delay : options_.startup_queries) startup_queries_.push_back(now + delay);
  std::sort(startup_queries_.begin(), startup_queries_.end());
}

void Discovery::set_listen_addrs(std::span<const Multiaddr> addrs) {
  announced_.clear();
  for (const auto& address : addrs) {
    if (announced_.size() >= options_.announced_addrs_max) break;
    if (!is_local_network_address(address, options_.announce_loopback)) continue;
    const auto owner = address.peer_id();
    if (owner && *owner != local_peer_) continue;  // not ours to announce
    Multiaddr full = owner ? address : address.with_peer_id(local_peer_);
    // A TXT string holds at most 255 bytes, "dnsaddr=" included.
    if (dnsaddr_prefix.size() + full.to_string().size() > dns::txt_string_bytes_max) continue;
    if (std::find(announced_.begin(), announced_.end(), full) == announced_.end()) {
      announced_.push_back(std::move(full));
    }
  }
}

void Discovery::set_loopback_interfaces(std::span<const InterfaceIndex> interfaces) {
  loopback_interfaces_.assign(interfaces.begin(), interfaces.end());
}

bool Discovery::is_loopback_interface(InterfaceIndex index) const {
  return std::find(loopback_interfaces_.begin(), loopback_interfaces_.end(), index) != loopback_interfaces_.end();
}

void Discovery::handle_datagram(Instant now, ByteView datagram, InterfaceIndex from_interface) {
  ++stats_.datagrams_received;
  auto message = dns::decode(datagram, options_.message_limits);
  // RFC 6762 §18.3: messages with another opcode are ignored; §18.11: so are
  // responses with a non-zero rcode. Both count as not ours to understand.
  if (!message || (message->header.flags & kOpcodeMask) != 0 ||
      (message->is_response() && (message->header.flags & 0x000F) != 0)) {
    ++stats_.malformed;
    return;
  }
  if (message->is_response()) {
    handle_response(now, *message, from_interface);
  } else {
    handle_query(now, *message, from_interface);
  }
}

void Discovery::handle_query(Instant now, const dns::Message& query, InterfaceIndex from_interface) {
  const bool for_us = std::any_of(query.questions.begin(), query.questions.end(),
                                  [&](const dns::Question& q) { return asks_for_service(q, service_); });
  if (!for_us) return;
  ++stats_.queries_received;
  if (announced_.empty()) return;
  // Known-answer suppression (RFC 6762 §7.1): the asker already holds our
  // PTR record with at least half its lifetime left.
  const bool known = std::any_of(query.answers.begin(), query.answers.end(), [&](const dns::Record& record) {
    const auto* ptr = std::get_if<dns::PtrData>(&record.data);
    return ptr != nullptr && record.name.equals(service_) && ptr->target.equals(instance_) &&
           record.ttl >= options_.record_ttl_seconds / 2;
  });
  if (known) return;

  auto found = interfaces_.find(from_interface);
  if (found == interfaces_.end()) {
    if (interfaces_.size() >= options_.interfaces_max) {
      // Forget an interface with nothing pending; the OS names few of them.
      auto idle = std::find_if(interfaces_.begin(), interfaces_.end(),
                               [](const auto& entry) { return !entry.second.response_due; });
      if (idle == interfaces_.end()) return;
      interfaces_.erase(idle);
    }
    found = interfaces_.emplace(from_interface, InterfaceState{}).first;
  }
  auto& state = found->second;
  if (state.response_due) return;  // an answer is already on its way
  Instant due = now + random_response_delay();
  if (state.last_response && *state.last_response + options_.response_interval_min > due) {
    due = *state.last_response + options_.response_interval_min;
    ++stats_.responses_deferred;
  }
  state.response_due = due;
}

void Discovery::handle_response(Instant now, const dns::Message& response, InterfaceIndex from_interface) {
  const bool loopback_ok = is_loopback_interface(from_interface);
  for (const auto& answer : response.answers) {
    const auto* ptr = std::get_if<dns::PtrData>(&answer.data);
    if (ptr == nullptr || !answer.name.equals(service_)) continue;
    if (ptr->target.equals(instance_)) {
      ++stats_.own_answers_ignored;
      continue;
    }
    std::optional<PeerId> peer;
    std::vector<Multiaddr> addrs;
    std::size_t strings_read = 0;
    bool over_limit = false;
    for (const auto* section : {&response.answers, &response.additionals}) {
      for (const auto& record : *section) {
        const auto* txt = std::get_if<dns::TxtData>(&record.data);
        if (txt == nullptr || !record.name.equals(ptr->target)) continue;
        for (const auto& text : txt->strings) {
          if (!std::string_view(text).starts_with(dnsaddr_prefix)) continue;
          if (++strings_read > options_.dnsaddr_strings_per_peer_max || addrs.size() >= options_.addrs_per_peer_max) {
            over_limit = true;
            continue;
          }
          auto address = Multiaddr::parse(std::string_view(text).substr(dnsaddr_prefix.size()));
          const auto owner = address ? address->peer_id() : std::nullopt;
          if (!owner) {
            ++stats_.bad_dnsaddr;
            continue;
          }
          if (!peer) peer = *owner;
          if (*owner != *peer) {
            ++stats_.peer_id_mismatch;
            continue;
          }
          if (!loopback_ok && is_loopback_address(*address)) {
            ++stats_.loopback_addrs_dropped;
            continue;
          }
          if (std::find(addrs.begin(), addrs.end(), *address) == addrs.end()) addrs.push_back(std::move(*address));
        }
      }
    }
    if (over_limit) ++stats_.addrs_over_limit;
    if (!peer) continue;
    if (*peer == local_peer_) {
      ++stats_.own_answers_ignored;
      continue;
    }
    if (addrs.empty()) continue;  // only loopback addresses, heard on a LAN
    learn_peer(now, *peer, std::move(addrs), answer.ttl);
  }
}

void Discovery::learn_peer(Instant now, const PeerId& peer, std::vector<Multiaddr> addrs, std::uint32_t ttl_seconds) {
  if (ttl_seconds == 0) {  // RFC 6762 §10.1: a goodbye
    if (peers_.erase(peer) > 0) ++stats_.goodbyes;
    return;
  }
  const Instant expires = now + std::chrono::seconds(std::min(ttl_seconds, kPeerTtlSecondsMax));
  auto found = peers_.find(peer);
  if (found == peers_.end()) {
    if (now - window_start_ >= options_.query_interval) {
      window_start_ = now;
      new_peers_in_window_ = 0;
    }
    if (new_peers_in_window_ >= options_.new_peers_per_interval_max) {
      ++stats_.new_peers_over_limit;
      return;
    }
    if (peers_.size() >= options_.peers_max) forget_expired(now);
    if (peers_.size() >= options_.peers_max) {
      ++stats_.peers_table_full;
      return;
    }
    ++new_peers_in_window_;
    peers_.emplace(peer, Peer{addrs, expires, now});
    queue_event(PeerDiscovered{peer, std::move(addrs)});
    return;
  }
  auto& known = found->second;
  known.expires = expires;
  const bool changed = !same_addresses(known.addrs, addrs);
  if (changed || now - known.last_reported >= options_.query_interval) {
    known.addrs = addrs;
    known.last_reported = now;
    queue_event(PeerDiscovered{peer, std::move(addrs)});
  }
}

void Discovery::handle_timeout(Instant now) {
  bool query_due = false;
  while (!startup_queries_.empty() && startup_queries_.front() <= now) {
    startup_queries_.pop_front();
    query_due = true;
  }
  if (next_query_ <= now) {
    query_due = true;
    next_query_ = now + options_.query_interval;
  }
  if (query_due) send_query();
  for (auto& [index, state] : interfaces_) {
    if (state.response_due && *state.response_due <= now) {
      state.response_due.reset();
      state.last_response = now;
      send_response(index);
    }
  }
  forget_expired(now);
}

void Discovery::query_now(Instant now) {
  send_query();
  next_query_ = now + options_.query_interval;
}

std::optional<Transmit> Discovery::poll_transmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit out = std::move(transmits_.front());
  transmits_.pop_front();
  return out;
}

std::optional<PeerDiscovered> Discovery::poll_event() {
  if (events_.empty()) return std::nullopt;
  PeerDiscovered out = std::move(events_.front());
  events_.pop_front();
  return out;
}

std::optional<Instant> Discovery::next_timeout() const {
  Instant next = next_query_;
  if (!startup_queries_.empty()) next = std::min(next, startup_queries_.front());
  for (const auto& [index, state] : interfaces_) {
    if (state.response_due) next = std::min(next, *state.response_due);
  }
  return next;
}

void Discovery::send_query() {
  dns::Message query;
  query.questions.push_back(dns::Question{service_, dns::type::ptr, dns::class_in});
  auto bytes = dns::encode(query);
  if (!bytes) return;  // cannot happen: the service name is valid
  ++stats_.queries_sent;
  queue_transmit(Transmit{std::move(*bytes), std::nullopt});
}

void Discovery::send_response(InterfaceIndex interface_index) {
  const bool loopback_ok = is_loopback_interface(interface_index);
  std::vector<const Multiaddr*> addrs;
  for (const auto& address : announced_) {
    if (loopback_ok || !is_loopback_address(address)) addrs.push_back(&address);
  }
  if (addrs.empty()) return;
  const dns::Record ptr{service_, dns::type::ptr, dns::class_in, options_.record_ttl_seconds,
                        dns::PtrData{instance_}};
  const std::size_t header_bytes = 12;
  const std::size_t ptr_bytes = service_.wire_bytes() + 10 + instance_.wire_bytes();
  auto start_message = [&] {
    dns::Message message;
    message.header.flags = dns::flag_response | dns::flag_authoritative;
    message.answers.push_back(ptr);
    return message;
  };
  auto flush = [&](dns::Message& message) {
    auto bytes = dns::encode(message);
    if (!bytes) return;  // cannot happen: every name and string was checked
    ++stats_.responses_sent;
    queue_transmit(Transmit{std::move(*bytes), interface_index});
  };
  dns::Message message = start_message();
  std::size_t size = header_bytes + ptr_bytes;
  for (const auto* address : addrs) {
    std::string text = std::string(dnsaddr_prefix) + address->to_string();
    const std::size_t record_bytes = instance_.wire_bytes() + 10 + 1 + text.size();
    if (message.answers.size() > 1 && size + record_bytes > options_.response_datagram_bytes_target) {
      flush(message);
      message = start_message();
      size = header_bytes + ptr_bytes;
    }
    message.answers.push_back(dns::Record{instance_, dns::type::txt, dns::class_in, options_.record_ttl_seconds,
                                          dns::TxtData{{std::move(text)}}});
    size += record_bytes;
  }
  flush(message);
}

void Discovery::queue_transmit(Transmit transmit) {
  if (transmits_.size() >= options_.transmit_queue_max) {
    ++stats_.transmits_dropped;
    return;
  }
  transmits_.push_back(std::move(transmit));
}

void Discovery::queue_event(PeerDiscovered event) {
  if (events_.size() >= options_.events_max) {
    ++stats_.events_dropped;
    return;
  }
  events_.push_back(std::move(event));
}

void Discovery::forget_expired(Instant now) {
  std::erase_if(peers_, [now](const auto& entry) { return entry.second.expires <= now; });
}

Duration Discovery::random_response_delay() {
  const auto spread = options_.response_delay_max - options_.response_delay_min;
  if (spread <= Duration::zero()) return options_.response_delay_min;
  const auto steps = static_cast<std::uint64_t>(spread.count()) + 1;
  return options_.response_delay_min + Duration(static_cast<Duration::rep>(rng_.next_u64() % steps));
}

}  // namespace taho::mdns
