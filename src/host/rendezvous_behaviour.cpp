#include "host/rendezvous_behaviour.hpp"

#include <algorithm>

namespace taho::host {

namespace {
constexpr std::size_t kReadBytes = 64 * 1024;
constexpr std::size_t kStreamBufferBytesMax = 1024 * 1024 + 16;

rendezvous::RendezvousError stream_error(const std::string& text) {
  return rendezvous::RendezvousError{rendezvous::Errc::truncated, text};
}
}  // namespace

RendezvousBehaviour::RendezvousBehaviour(const PeerId& local, Rng& rng, RendezvousOptions options)
    : local_(local),
      options_([&] {
        if (options.follow_reachability) options.server = false;  // until AutoNAT says otherwise
        return std::move(options);
      }()),
      point_(rng, options_.point),
      registrar_(options_.registrar) {}

void RendezvousBehaviour::on_identified(Instant now, const PeerId& peer, const identify::Info& info) {
  if (!points_.count(peer)) return;
  if (std::find(info.protocols.begin(), info.protocols.end(), protocol()) == info.protocols.end()) {
    // An identify-push saying the point stopped serving (its AutoNAT mode):
    // register again when a later one says it serves. A push without any
    // protocols says nothing about them.
    if (!info.protocols.empty()) connected_points_.erase(peer);
    return;
  }
  if (connected_points_.count(peer)) return;
  connected_points_.insert(peer);
  (void)registrar_.add_registration(now, peer, options_.ns);
  (void)registrar_.discover(now, peer, options_.ns);
  if (!next_discover_) next_discover_ = now + options_.discover_interval;
  pull_requests(now);
}

void RendezvousBehaviour::pull_requests(Instant now) {
  while (auto request = registrar_.poll_request()) {
    if (!connected_points_.count(request->point)) {
      registrar_.handle_failure(now, request->id, stream_error("not connected to the rendezvous point"));
      continue;
    }
    opens_.push_back(RendezvousOpen{request->id, request->point});
    waiting_.emplace(request->id, std::move(*request));
  }
  while (auto event = registrar_.poll_event()) {
    if (auto* found = std::get_if<rendezvous::Discovered>(&*event)) {
      for (const auto& registration : found->result.registrations) {
        if (registration.peer == local_ || registration.addrs.empty()) continue;
        discovered_.push_back(RendezvousDiscovered{registration.peer, registration.addrs});
      }
    }
  }
}

void RendezvousBehaviour::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                             swarm::ConnectionId connection, swarm::StreamId stream) {
  auto waiting = waiting_.find(token);
  if (waiting == waiting_.end()) {
    swarm.reset(now, connection, stream);
    return;
  }
  const StreamKey key{connection, stream};
  const bool expects_reply = waiting->second.message.type != rendezvous::MessageType::unregister;
  Exchange exchange{waiting->second.point, rendezvous::FrameReader{}, Outbox(kStreamBufferBytesMax), token,
                    expects_reply};
  exchange.outbox.push(rendezvous::encode_frame(waiting->second.message));
  waiting_.erase(waiting);
  outbound_.emplace(key, std::move(exchange));
  pump(now, swarm, key);
}

void RendezvousBehaviour::on_open_failed(Instant now, std::uint64_t token, const std::string& error) {
  if (waiting_.erase(token)) registrar_.handle_failure(now, token, stream_error(error));
  pull_requests(now);
}

void RendezvousBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                            const swarm::swarm_event::StreamOpened& opened) {
  if (!options_.server || inbound_.size() >= options_.inbound_streams_max) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  const StreamKey key{opened.connection, opened.stream};
  inbound_.emplace(key, Exchange{opened.peer, rendezvous::FrameReader{}, Outbox(kStreamBufferBytesMax), 0, true});
  pump(now, swarm, key);
}

void RendezvousBehaviour::pump(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  const bool inbound = inbound_.count(key) != 0;
  auto& table = inbound ? inbound_ : outbound_;
  auto found = table.find(key);
  if (found == table.end()) return;
  Exchange& exchange = found->second;
  if (auto flushed = exchange.outbox.flush(now, swarm, key.first, key.second); !flushed) {
    return finish(now, swarm, key, flushed.error().text);
  }
  if (!inbound && !exchange.expects_reply && exchange.outbox.empty()) {
    (void)swarm.close_write(now, key.first, key.second);
    return finish(now, swarm, key, std::nullopt);
  }
  while (true) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) return finish(now, swarm, key, chunk.error().text);
    if (!chunk->data.empty()) {
      if (auto fed = exchange.reader.handle_data(chunk->data); !fed) return finish(now, swarm, key, fed.error().detail);
    }
    if (auto message = exchange.reader.poll_message()) {
      if (inbound) {
        auto reply = point_.handle_request(now, exchange.peer, *message);
        if (!reply) return finish(now, swarm, key, reply.error().detail);
        if (*reply) exchange.outbox.push(rendezvous::encode_frame(**reply));
        (void)exchange.outbox.flush(now, swarm, key.first, key.second);
        (void)swarm.close_write(now, key.first, key.second);
        inbound_.erase(key);  // the reply is queued in the stream; the peer closes its side
        return;
      }
      registrar_.handle_response(now, exchange.request, *message);
      (void)swarm.close_write(now, key.first, key.second);
      outbound_.erase(key);
      pull_requests(now);
      return;
    }
    if (chunk->finished) return finish(now, swarm, key, "the stream ended before a message");
    if (chunk->data.empty()) return;
  }
}

void RendezvousBehaviour::finish(Instant now, swarm::Swarm& swarm, const StreamKey& key,
                                 const std::optional<std::string>& error) {
  if (error) swarm.reset(now, key.first, key.second);
  if (auto out = outbound_.find(key); out != outbound_.end()) {
    const auto request = out->second.request;
    const bool expects_reply = out->second.expects_reply;
    outbound_.erase(out);
    if (error && expects_reply) registrar_.handle_failure(now, request, stream_error(*error));
    pull_requests(now);
    return;
  }
  inbound_.erase(key);
}

bool RendezvousBehaviour::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                          swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (!inbound_.count(key) && !outbound_.count(key)) return false;
  pump(now, swarm, key);
  if (closed && (inbound_.count(key) || outbound_.count(key))) finish(now, swarm, key, "the stream closed early");
  return true;
}

void RendezvousBehaviour::handle_timeout(Instant now) {
  registrar_.handle_timeout(now);
  point_.handle_timeout(now);
  if (next_discover_ && now >= *next_discover_) {
    for (const auto& point : connected_points_) (void)registrar_.discover(now, point, options_.ns);
    next_discover_ = now + options_.discover_interval;
  }
  pull_requests(now);
}

std::optional<Instant> RendezvousBehaviour::next_timeout() const {
  std::optional<Instant> next = next_discover_;
  for (auto candidate : {registrar_.next_timeout(), point_.next_timeout()}) {
    if (candidate && (!next || *candidate < *next)) next = candidate;
  }
  return next;
}

std::optional<RendezvousOpen> RendezvousBehaviour::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = std::move(opens_.front());
  opens_.pop_front();
  return next;
}

std::optional<RendezvousDiscovered> RendezvousBehaviour::poll_discovered() {
  if (discovered_.empty()) return std::nullopt;
  auto next = std::move(discovered_.front());
  discovered_.pop_front();
  return next;
}

}  // namespace taho::host
