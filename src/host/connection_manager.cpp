#include "host/connection_manager.hpp"

#include <algorithm>
#include <array>

namespace taho::host {

namespace {

constexpr std::array<std::pair<Source, std::string_view>, 7> kSourceNames{{
    {Source::bootstrap, "bootstrap"},
    {Source::mdns, "mdns"},
    {Source::dht, "dht"},
    {Source::rendezvous, "rendezvous"},
    {Source::peerstore, "peerstore"},
    {Source::inbound, "inbound"},
    {Source::manual, "manual"},
}};

// Dial order among equals: a peer on the LAN first, then one we held before.
int source_rank(Source source) {
  switch (source) {
    case Source::bootstrap: return 0;
    case Source::mdns: return 1;
    case Source::peerstore: return 2;
    case Source::manual: return 3;
    case Source::rendezvous: return 4;
    case Source::dht: return 5;
    case Source::inbound: return 6;
  }
  return 7;
}

Duration scale(Duration d, double factor) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double, Duration::period>(
      static_cast<double>(d.count()) * factor));
}

}  // namespace

bool is_loopback_addr(const Multiaddr& addr) {
  for (const auto& component : addr.components()) {
    if (component.protocol() == multiaddr::Protocol::ip4) return component.value_text().rfind("127.", 0) == 0;
    if (component.protocol() == multiaddr::Protocol::ip6) return component.value_text() == "::1";
  }
  return false;
}

std::string_view to_string(Source source) {
  for (const auto& [value, name] : kSourceNames) {
    if (value == source) return name;
  }
  return "unknown";
}

std::optional<Source> parse_source(std::string_view text) {
  for (const auto& [value, name] : kSourceNames) {
    if (name == text) return value;
  }
  return std::nullopt;
}

ConnectionManager::ConnectionManager(const PeerId& local, Rng& rng, ConnectionManagerOptions options,
                                     std::function<bool(const Multiaddr&)> can_dial)
    : local_(local), rng_(rng), options_(options), can_dial_(std::move(can_dial)) {}

KnownPeer* ConnectionManager::remember(Instant now, const PeerId& peer, Source source) {
  if (peer == local_) return nullptr;
  if (!next_tick_) next_tick_ = now;
  auto found = known_.find(peer);
  if (found != known_.end()) return &found->second;
  if (known_.size() >= options_.known_peers_max) forget_one();
  if (known_.size() >= options_.known_peers_max) {
    ++stats_.known_refused;
    return nullptr;
  }
  KnownPeer known(peer);
  known.source = source;
  return &known_.emplace(peer, std::move(known)).first->second;
}

// Makes room by forgetting the least promising peer that is neither
// connected, being dialed, nor a bootstrap peer.
void ConnectionManager::forget_one() {
  auto victim = known_.end();
  for (auto it = known_.begin(); it != known_.end(); ++it) {
    const KnownPeer& known = it->second;
    if (known.connected || known.bootstrap || dialing_.count(known.peer)) continue;
    if (victim == known_.end() || known.failures > victim->second.failures ||
        (known.failures == victim->second.failures &&
         known.last_connected.value_or(Instant{}) < victim->second.last_connected.value_or(Instant{}))) {
      victim = it;
    }
  }
  if (victim != known_.end()) known_.erase(victim);
}

void ConnectionManager::add_addrs(KnownPeer& known, const std::vector<Multiaddr>& addrs) {
  for (const auto& addr : addrs) {
    if (auto id = addr.peer_id(); id && *id != known.peer) continue;
    auto plain = addr.without_peer_id();
    if (plain.empty()) continue;
    if (std::find(known.addrs.begin(), known.addrs.end(), plain) != known.addrs.end()) continue;
    if (known.addrs.size() >= options_.addrs_per_peer_max) break;
    known.addrs.push_back(std::move(plain));
  }
}

void ConnectionManager::add_known(Instant now, const PeerId& peer, const std::vector<Multiaddr>& addrs,
                                  Source source) {
  KnownPeer* known = remember(now, peer, source);
  if (!known) return;
  add_addrs(*known, addrs);
}

void ConnectionManager::add_bootstrap(Instant now, const PeerId& peer, const Multiaddr& addr) {
  KnownPeer* known = remember(now, peer, Source::bootstrap);
  if (!known) return;
  known->bootstrap = true;
  add_addrs(*known, {addr});
}

void ConnectionManager::handle_connected(Instant now, const PeerId& peer, bool inbound) {
  KnownPeer* known = remember(now, peer, inbound ? Source::inbound : Source::manual);
  dialing_.erase(peer);
  if (!known || known->connected) return;
  known->connected = true;
  known->last_connected = now;
  known->failures = 0;
  known->keepalive_interval = options_.keepalive_initial;
  known->next_ping = now + options_.keepalive_initial;
  known->ping_in_flight = false;
  known->ping_failures = 0;
  ++connected_;
}

void ConnectionManager::handle_disconnected(Instant now, const PeerId& peer) {
  auto found = known_.find(peer);
  if (found == known_.end() || !found->second.connected) return;
  KnownPeer& known = found->second;
  known.connected = false;
  known.last_connected = now;
  known.ping_in_flight = false;
  --connected_;
  // Re-dial soon, not at once: the peer may be restarting.
  known.next_dial = now + jittered(options_.backoff_initial);
}

void ConnectionManager::handle_dial_failed(Instant now, const PeerId& peer) {
  dialing_.erase(peer);
  auto found = known_.find(peer);
  if (found == known_.end() || found->second.connected) return;
  ++stats_.dial_failures;
  schedule_retry(now, found->second);
}

void ConnectionManager::schedule_retry(Instant now, KnownPeer& known) {
  ++known.failures;
  ++known.next_addr;  // the next attempt tries another address
  Duration backoff = options_.backoff_initial;
  for (std::size_t i = 1; i < known.failures && backoff < options_.backoff_max; ++i) backoff *= 2;
  known.next_dial = now + jittered(std::min(backoff, options_.backoff_max));
}

Duration ConnectionManager::jittered(Duration base) {
  const double unit = static_cast<double>(rng_.next_u64() >> 11) / static_cast<double>(1ULL << 53);  // [0, 1)
  return scale(base, 1.0 + options_.backoff_jitter * (2.0 * unit - 1.0));
}

void ConnectionManager::handle_ping(Instant now, const PeerId& peer, std::optional<Duration> rtt) {
  auto found = known_.find(peer);
  // Late answers (after keepalive_ping_timeout) were counted as failures already.
  if (found == known_.end() || !found->second.connected || !found->second.ping_in_flight) return;
  ping_finished(now, found->second, rtt);
}

void ConnectionManager::ping_finished(Instant now, KnownPeer& known, std::optional<Duration> rtt) {
  const PeerId& peer = known.peer;
  known.ping_in_flight = false;
  if (rtt) {
    known.ping_failures = 0;
    if (!known.rtt) {
      known.rtt = *rtt;
      known.rtt_variation = *rtt / 2;
    } else {
      const auto deviation = *rtt > *known.rtt ? *rtt - *known.rtt : *known.rtt - *rtt;
      known.rtt_variation = scale(*known.rtt_variation, 0.75) + scale(deviation, 0.25);
      known.rtt = scale(*known.rtt, 0.875) + scale(*rtt, 0.125);
    }
    // A link whose RTT swings by more than its mean is suspect: look more
    // often. A steady one needs less traffic.
    const bool unsteady = *known.rtt_variation > *known.rtt;
    known.keepalive_interval = unsteady ? std::max(scale(known.keepalive_interval, 0.5), options_.keepalive_min)
                                        : std::min(scale(known.keepalive_interval, 1.5), options_.keepalive_max);
  } else {
    ++known.ping_failures;
    known.keepalive_interval = std::max(known.keepalive_interval / 2, options_.keepalive_min);
    if (known.ping_failures >= options_.keepalive_failures_max) {
      ++stats_.dropped_unresponsive;
      actions_.push_back(action::Disconnect{peer, std::to_string(known.ping_failures) + " keep-alive pings failed"});
    }
  }
  known.next_ping = now + known.keepalive_interval;
}

void ConnectionManager::handle_timeout(Instant now) {
  if (!next_tick_ || now < *next_tick_) return;
  for (auto it = dialing_.begin(); it != dialing_.end();) {
    if (now < it->second) {
      ++it;
      continue;
    }
    const PeerId peer = it->first;
    it = dialing_.erase(it);
    if (auto found = known_.find(peer); found != known_.end() && !found->second.connected) {
      ++stats_.dial_failures;
      schedule_retry(now, found->second);
    }
  }
  keep_alive(now);
  fill_up(now);
  trim(now);
  next_tick_ = now + options_.tick_interval;
}

void ConnectionManager::keep_alive(Instant now) {
  for (auto& [peer, known] : known_) {
    if (!known.connected) continue;
    if (known.ping_in_flight && now - known.ping_sent >= options_.keepalive_ping_timeout) {
      ping_finished(now, known, std::nullopt);
    }
    if (known.ping_in_flight || now < known.next_ping) continue;
    known.ping_in_flight = true;
    known.ping_sent = now;
    actions_.push_back(action::Ping{peer});
  }
}

bool ConnectionManager::dialable(const KnownPeer& known, Instant now) const {
  if (known.connected || dialing_.count(known.peer) || now < known.next_dial) return false;
  return std::any_of(known.addrs.begin(), known.addrs.end(), can_dial_);
}

void ConnectionManager::fill_up(Instant now) {
  const std::size_t busy = connected_ + dialing_.size();
  if (busy >= options_.min_peers || dialing_.size() >= options_.dials_in_flight_max) return;
  std::vector<const KnownPeer*> candidates;
  for (const auto& [peer, known] : known_) {
    if (dialable(known, now)) candidates.push_back(&known);
  }
  const auto recently_good = [&](const KnownPeer* known) {
    return known->last_connected && now - *known->last_connected < options_.recently_good;
  };
  std::sort(candidates.begin(), candidates.end(), [&](const KnownPeer* a, const KnownPeer* b) {
    if (a->bootstrap != b->bootstrap) return a->bootstrap;
    if (recently_good(a) != recently_good(b)) return recently_good(a);
    if (a->failures != b->failures) return a->failures < b->failures;
    if (source_rank(a->source) != source_rank(b->source)) return source_rank(a->source) < source_rank(b->source);
    return a->peer < b->peer;
  });
  std::size_t wanted = std::min(options_.min_peers - busy, options_.dials_in_flight_max - dialing_.size());
  for (const KnownPeer* candidate : candidates) {
    if (wanted == 0) break;
    std::vector<Multiaddr> usable;
    std::copy_if(candidate->addrs.begin(), candidate->addrs.end(), std::back_inserter(usable), can_dial_);
    // Loopback last: a remote host's 127.0.0.1 is usually our own.
    std::stable_partition(usable.begin(), usable.end(), [](const Multiaddr& addr) { return !is_loopback_addr(addr); });
    const Multiaddr& addr = usable[candidate->next_addr % usable.size()];
    dialing_.insert_or_assign(candidate->peer, now + options_.dial_timeout);
    actions_.push_back(action::Dial{candidate->peer, addr.with_peer_id(candidate->peer)});
    ++stats_.dials;
    --wanted;
  }
}

void ConnectionManager::trim(Instant now) {
  (void)now;
  if (connected_ <= options_.max_peers) return;
  std::vector<const KnownPeer*> candidates;
  for (const auto& [peer, known] : known_) {
    if (known.connected && !protected_.count(peer)) candidates.push_back(&known);
  }
  // Least useful first: peers that dialed us before peers we chose, then
  // the slowest links.
  std::sort(candidates.begin(), candidates.end(), [](const KnownPeer* a, const KnownPeer* b) {
    if (a->bootstrap != b->bootstrap) return b->bootstrap;
    if ((a->source == Source::inbound) != (b->source == Source::inbound)) return a->source == Source::inbound;
    return a->rtt.value_or(Duration::max()) > b->rtt.value_or(Duration::max());
  });
  std::size_t excess = connected_ - options_.max_peers;
  for (const KnownPeer* candidate : candidates) {
    if (excess == 0) break;
    actions_.push_back(action::Disconnect{candidate->peer, "over max_peers"});
    ++stats_.trimmed;
    --excess;
  }
}

std::optional<Action> ConnectionManager::poll_action() {
  if (actions_.empty()) return std::nullopt;
  Action next = std::move(actions_.front());
  actions_.pop_front();
  return next;
}

const KnownPeer* ConnectionManager::find(const PeerId& peer) const {
  auto found = known_.find(peer);
  return found == known_.end() ? nullptr : &found->second;
}

}  // namespace taho::host
