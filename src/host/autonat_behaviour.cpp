#include "host/autonat_behaviour.hpp"

#include <algorithm>

namespace taho::host {

namespace {
constexpr std::size_t kReadBytes = 16 * 1024;
constexpr std::size_t kStreamBufferBytesMax = 16 * 1024;

autonat::ProbeOutcome outcome_of(const autonat::Message& message) {
  if (message.type != autonat::MessageType::dial_response || !message.dial_response ||
      !message.dial_response->status) {
    return autonat::ProbeOutcome::inconclusive;
  }
  switch (*message.dial_response->status) {
    case autonat::ResponseStatus::ok: return autonat::ProbeOutcome::dialed_back;
    case autonat::ResponseStatus::dial_error: return autonat::ProbeOutcome::dial_failed;
    default: return autonat::ProbeOutcome::inconclusive;
  }
}

bool worth_sending(const Multiaddr& addr) {
  return autonat::is_dial_back_shape(addr);
}
}  // namespace

AutonatBehaviour::AutonatBehaviour(const PeerId& local, Instant now, AutonatOptions options,
                                   std::function<bool(const Multiaddr&)> can_dial)
    : local_(local),
      options_(std::move(options)),
      can_dial_(std::move(can_dial)),
      server_(options_.server),
      tracker_(now, options_.reachability) {}

bool AutonatBehaviour::awaiting_dial_back(const PeerId& peer) const {
  return probe_ && probe_->second.server == peer;
}

bool AutonatBehaviour::claim_dial_back(Instant now, const PeerId& peer) {
  if (awaiting_dial_back(peer)) {
    probe_->second.dial_back_seen = true;
    return true;
  }
  if (!late_dial_back_ || late_dial_back_->first != peer || now > late_dial_back_->second) return false;
  late_dial_back_.reset();
  return true;
}

// ---- client

void AutonatBehaviour::set_listen_addrs(Instant now, const std::vector<Multiaddr>& addrs) {
  if (addrs == listen_addrs_) return;
  listen_addrs_ = addrs;
  if (options_.probe) tracker_.on_addresses_changed(now);
}

void AutonatBehaviour::on_identified(Instant now, const PeerId& peer, const identify::Info& info) {
  if (info.observed_addr && worth_sending(*info.observed_addr)) {
    const Multiaddr observed = info.observed_addr->without_peer_id();
    if (std::find(observed_addrs_.begin(), observed_addrs_.end(), observed) == observed_addrs_.end()) {
      observed_addrs_.push_back(observed);
      if (observed_addrs_.size() > options_.observed_addrs_max) observed_addrs_.pop_front();
    }
  }
  const bool offers = std::find(info.protocols.begin(), info.protocols.end(), protocol()) != info.protocols.end();
  if (!offers) {
    // An identify-push that drops the protocol; a push without protocols says nothing.
    if (!info.protocols.empty()) servers_.erase(peer);
    return;
  }
  const bool is_new = servers_.insert(peer).second;
  if (is_new && starved_) maybe_probe(now);  // someone to ask at last
}

void AutonatBehaviour::on_disconnected(const PeerId& peer) { servers_.erase(peer); }

std::vector<Bytes> AutonatBehaviour::our_addrs() const {
  std::vector<Bytes> addrs;
  auto add = [&](const Multiaddr& addr) {
    if (addrs.size() >= options_.addrs_sent_max || !worth_sending(addr)) return;
    const Bytes bytes = addr.without_peer_id().bytes();
    if (std::find(addrs.begin(), addrs.end(), bytes) == addrs.end()) addrs.push_back(bytes);
  };
  // Listen addresses first: they are what we announce.
  for (const auto& addr : listen_addrs_) add(addr);
  // Then where a NAT might take our connections: each IP peers see us at,
  // with our TCP listen ports (a forwarded port), and observed TCP
  // addresses (a port-preserving mapping). Never observed QUIC addresses:
  // the server's QUIC dial-back leaves from the socket our connection
  // already talks to, so any NAT lets it through and it proves nothing.
  for (auto it = observed_addrs_.rbegin(); it != observed_addrs_.rend(); ++it) {
    const auto ip = autonat::ip_component(*it);
    if (!ip) continue;
    for (const auto& listen : listen_addrs_) {
      const auto& parts = listen.components();
      if (parts.size() < 2 || parts[1].protocol() != multiaddr::Protocol::tcp) continue;
      std::vector<multiaddr::Component> rest(parts.begin() + 1, parts.end());
      Multiaddr inferred = Multiaddr().append(*ip);
      for (const auto& part : rest) inferred = inferred.append(part);
      add(inferred);
    }
    if (it->has(multiaddr::Protocol::tcp)) add(*it);
  }
  return addrs;
}

void AutonatBehaviour::maybe_probe(Instant now) {
  if (!options_.probe || probe_ || !(starved_ || tracker_.probe_due(now))) return;
  if (our_addrs().empty()) {
    tracker_.on_no_server(now);
    return;
  }
  const std::vector<PeerId> candidates(servers_.begin(), servers_.end());
  auto server = tracker_.choose_server(now, candidates);
  if (!server) {
    starved_ = candidates.empty();
    tracker_.on_no_server(now);
    return;
  }
  starved_ = false;
  tracker_.on_probe_started(now, *server);
  const std::uint64_t token = next_token_++;
  Probe probe{*server, std::nullopt, autonat::FrameReader{}, Outbox(kStreamBufferBytesMax),
              now + options_.request_timeout};
  probe_.emplace(token, std::move(probe));
  opens_.push_back(AutonatOpen{token, *server});
  ++stats_.probes_sent;
}

void AutonatBehaviour::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                          swarm::ConnectionId connection, swarm::StreamId stream) {
  if (!probe_ || probe_->first != token || probe_->second.stream) {
    swarm.reset(now, connection, stream);
    return;
  }
  Probe& probe = probe_->second;
  probe.stream = StreamKey{connection, stream};
  // Our peer id: the server checks it against the one our connection authenticated.
  probe.outbox.push(autonat::encode_frame(autonat::make_dial(local_.bytes(), our_addrs())));
  pump_probe(now, swarm);
}

void AutonatBehaviour::on_open_failed(Instant now, std::uint64_t token) {
  if (probe_ && probe_->first == token) finish_probe(now, autonat::ProbeOutcome::inconclusive, std::nullopt);
}

void AutonatBehaviour::pump_probe(Instant now, swarm::Swarm& swarm) {
  if (!probe_ || !probe_->second.stream) return;
  Probe& probe = probe_->second;
  const StreamKey key = *probe.stream;
  auto give_up = [&] {
    swarm.reset(now, key.first, key.second);
    finish_probe(now, autonat::ProbeOutcome::inconclusive, std::nullopt);
  };
  if (!probe.outbox.flush(now, swarm, key.first, key.second)) return give_up();
  while (true) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) return give_up();
    if (!chunk->data.empty() && !probe.reader.handle_data(chunk->data)) return give_up();
    if (auto message = probe.reader.poll_message()) {
      (void)swarm.close_write(now, key.first, key.second);
      ++stats_.probes_answered;
      std::optional<autonat::ResponseStatus> status;
      if (message->dial_response) status = message->dial_response->status;
      return finish_probe(now, outcome_of(*message), status);
    }
    if (chunk->finished) return give_up();
    if (chunk->data.empty()) return;
  }
}

void AutonatBehaviour::finish_probe(Instant now, autonat::ProbeOutcome outcome,
                                    std::optional<autonat::ResponseStatus> status) {
  if (!probe_) return;
  const PeerId server = probe_->second.server;
  const bool dial_back_due = status == autonat::ResponseStatus::ok && !probe_->second.dial_back_seen;
  probe_.reset();
  late_dial_back_.reset();
  if (dial_back_due) late_dial_back_.emplace(server, now + options_.late_dial_back_window);
  if (status) stats_.last_status = status;
  if (tracker_.on_probe_result(now, server, outcome)) events_.push_back(ReachabilityChanged{tracker_.reachability()});
}

// ---- server

void AutonatBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                         const swarm::swarm_event::StreamOpened& opened, const Multiaddr& observed) {
  if (!options_.serve || serving_.size() >= options_.inbound_streams_max) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  const StreamKey key{opened.connection, opened.stream};
  Serving serving{opened.peer, observed, autonat::FrameReader{}, Outbox(kStreamBufferBytesMax), {}, std::nullopt,
                  {}, std::nullopt, false};
  serving_.emplace(key, std::move(serving));
  pump_serving(now, swarm, key);
}

void AutonatBehaviour::pump_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = serving_.find(key);
  if (found == serving_.end()) return;
  Serving& serving = found->second;
  auto drop = [&] {
    swarm.reset(now, key.first, key.second);
    serving_.erase(key);  // a dial-back under way finds nobody to answer
  };
  if (!serving.outbox.flush(now, swarm, key.first, key.second)) return drop();
  if (serving.answered) {
    if (serving.outbox.empty()) {
      (void)swarm.close_write(now, key.first, key.second);
      serving_.erase(key);
    }
    return;
  }
  if (serving.deadline) return;  // reading is done; the dial-back is under way
  while (true) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) return drop();
    if (!chunk->data.empty() && !serving.reader.handle_data(chunk->data)) {
      return answer(now, swarm, key, autonat::make_response(autonat::ResponseStatus::bad_request, "malformed message"));
    }
    if (auto message = serving.reader.poll_message()) {
      auto decision = server_.handle_request(now, serving.peer, serving.observed, *message, can_dial_);
      if (auto* refusal = std::get_if<autonat::Refusal>(&decision)) {
        return answer(now, swarm, key, autonat::response_for(*refusal));
      }
      serving.to_dial = std::move(std::get<autonat::DialBack>(decision).addrs);
      serving.deadline = now + options_.dial_back_timeout;
      return next_dial_back(now, swarm, key);
    }
    if (chunk->finished) return drop();
    if (chunk->data.empty()) return;
  }
}

void AutonatBehaviour::next_dial_back(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = serving_.find(key);
  if (found == serving_.end()) return;
  Serving& serving = found->second;
  if (serving.to_dial.empty()) {
    ++stats_.dial_backs_failed;
    return answer(now, swarm, key, autonat::response_dial_error("no address could be dialed back"));
  }
  const std::uint64_t token = next_token_++;
  serving.dialing = token;
  serving.dialing_addr = serving.to_dial.front();
  serving.to_dial.erase(serving.to_dial.begin());
  dial_backs_[token] = key;
  dial_back_outputs_.push_back(AutonatDialBack{token, serving.peer, serving.dialing_addr});
}

void AutonatBehaviour::on_dial_back_result(Instant now, swarm::Swarm& swarm, std::uint64_t token, bool connected,
                                           const std::string& detail) {
  (void)detail;
  auto found = dial_backs_.find(token);
  if (found == dial_backs_.end()) return;
  const StreamKey key = found->second;
  dial_backs_.erase(found);
  auto serving = serving_.find(key);
  if (serving == serving_.end() || serving->second.dialing != token) return;
  serving->second.dialing.reset();
  if (connected) {
    ++stats_.dial_backs_ok;
    return answer(now, swarm, key, autonat::response_ok(serving->second.dialing_addr));
  }
  next_dial_back(now, swarm, key);
}

void AutonatBehaviour::answer(Instant now, swarm::Swarm& swarm, const StreamKey& key,
                              const autonat::Message& response) {
  auto found = serving_.find(key);
  if (found == serving_.end()) return;
  found->second.answered = true;
  found->second.outbox.push(autonat::encode_frame(response));
  ++stats_.requests_served;
  pump_serving(now, swarm, key);
}

// ---- both

bool AutonatBehaviour::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                       swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (probe_ && probe_->second.stream == key) {
    pump_probe(now, swarm);
    if (closed && probe_ && probe_->second.stream == key) finish_probe(now, autonat::ProbeOutcome::inconclusive, std::nullopt);
    return true;
  }
  if (!serving_.count(key)) return false;
  pump_serving(now, swarm, key);
  if (closed) serving_.erase(key);
  return true;
}

void AutonatBehaviour::handle_timeout(Instant now, swarm::Swarm& swarm) {
  if (probe_ && now >= probe_->second.deadline) {
    if (auto stream = probe_->second.stream) swarm.reset(now, stream->first, stream->second);
    finish_probe(now, autonat::ProbeOutcome::inconclusive, std::nullopt);
  }
  std::vector<StreamKey> late;
  for (const auto& [key, serving] : serving_) {
    if (!serving.answered && serving.deadline && now >= *serving.deadline) late.push_back(key);
  }
  for (const auto& key : late) {
    auto& serving = serving_.at(key);
    if (serving.dialing) dial_backs_.erase(*serving.dialing);
    serving.dialing.reset();
    ++stats_.dial_backs_failed;
    answer(now, swarm, key, autonat::response_dial_error("dial-back timed out"));
  }
  maybe_probe(now);
}

std::optional<Instant> AutonatBehaviour::next_timeout() const {
  std::optional<Instant> next;
  auto consider = [&](Instant candidate) {
    if (!next || candidate < *next) next = candidate;
  };
  if (options_.probe && !probe_) consider(tracker_.next_probe());
  if (probe_) consider(probe_->second.deadline);
  for (const auto& [key, serving] : serving_) {
    if (!serving.answered && serving.deadline) consider(*serving.deadline);
  }
  return next;
}

std::optional<AutonatOpen> AutonatBehaviour::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = opens_.front();
  opens_.pop_front();
  return next;
}

std::optional<AutonatDialBack> AutonatBehaviour::poll_dial_back() {
  if (dial_back_outputs_.empty()) return std::nullopt;
  auto next = std::move(dial_back_outputs_.front());
  dial_back_outputs_.pop_front();
  return next;
}

std::optional<ReachabilityChanged> AutonatBehaviour::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto next = events_.front();
  events_.pop_front();
  return next;
}

}  // namespace taho::host
