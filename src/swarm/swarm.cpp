#include "swarm/swarm.hpp"

#include <algorithm>

#include "proto/identify/peer_record.hpp"
#include "proto/identify/remote_identity.hpp"

namespace taho::swarm {
namespace {

constexpr std::size_t kStreamReadBytes = 64 * 1024;

std::string describe(const ConnectionError& error) {
  return std::string(to_string(error.code)) + ": " + error.detail;
}

}  // namespace

Swarm::Swarm(SwarmOptions options, crypto::CryptoSuite& suite, Rng& rng)
    : options_(std::move(options)), suite_(suite), rng_(rng),
      local_peer_(PeerId::from_ed25519(options_.identity.public_key())),
      protocols_{std::string(identify::protocol_id), std::string(ping::protocol_id)} {
  set_listen_addrs({});
}

void Swarm::set_listen_addrs(std::vector<Multiaddr> addrs) {
  listen_addrs_ = std::move(addrs);
  // A new record must carry a higher sequence number than the one it replaces.
  signed_record_ = identify::seal_peer_record(options_.identity, options_.peer_record_seq++, listen_addrs_);
}

void Swarm::register_protocol(std::string protocol) {
  if (std::find(protocols_.begin(), protocols_.end(), protocol) == protocols_.end()) {
    protocols_.push_back(std::move(protocol));
  }
}

bool Swarm::add_connection(Instant now, ConnectionId id, Direction direction, const Multiaddr& local_addr,
                           const Multiaddr& remote_addr, std::optional<PeerId> expected_peer) {
  if (connections_.size() >= options_.connections_max || pending_upgrades() >= options_.pending_upgrades_max ||
      connections_.contains(id)) {
    ++refused_connections_;
    events_.push_back(swarm_event::ConnectionFailed{
        id, connections_.size() >= options_.connections_max ? "connection limit reached (connections_max)"
                                                            : "too many connections still upgrading (pending_upgrades_max)"});
    return false;
  }
  ConnectionOptions connection_options = options_.connection;
  connection_options.direction = direction;
  connection_options.identity = options_.identity;
  connection_options.expected_peer = std::move(expected_peer);
  connection_options.upgrade_timeout = options_.upgrade_timeout;
  connection_options.inbound_protocols = protocols_;
  connections_.emplace(id, ConnState{id, Connection(now, std::move(connection_options), suite_, rng_), direction,
                                     local_addr, remote_addr, std::nullopt, {}, {}, false, std::nullopt});
  pump(now, id);
  return true;
}

bool Swarm::add_muxed_connection(Instant now, ConnectionId id, Direction direction, const Multiaddr& local_addr,
                                 const Multiaddr& remote_addr, const PeerId& remote_peer) {
  if (connections_.size() >= options_.connections_max || connections_.contains(id)) {
    ++refused_connections_;
    events_.push_back(swarm_event::ConnectionFailed{id, "connection limit reached (connections_max)"});
    return false;
  }
  ConnectionOptions connection_options = options_.connection;
  connection_options.direction = direction;
  connection_options.identity = options_.identity;
  connection_options.expected_peer = remote_peer;
  connection_options.inbound_protocols = protocols_;
  connections_.emplace(id, ConnState{id, Connection(now, std::move(connection_options), remote_peer, suite_, rng_),
                                     direction, local_addr, remote_addr, std::nullopt, {}, {}, false, std::nullopt});
  pump(now, id);
  return true;
}

std::optional<StreamId> Swarm::handle_stream_opened(Instant now, ConnectionId id) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return std::nullopt;
  auto stream = found->second.connection.handle_stream_opened(now);
  pump(now, id);
  return stream;
}

void Swarm::handle_stream_data(Instant now, ConnectionId id, StreamId stream, ByteView bytes) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.connection.handle_stream_data(now, stream, bytes);
  pump(now, id);
}

void Swarm::handle_stream_end(Instant now, ConnectionId id, StreamId stream) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.connection.handle_stream_end(now, stream);
  pump(now, id);
}

void Swarm::handle_stream_reset(Instant now, ConnectionId id, StreamId stream) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.connection.handle_stream_reset(now, stream);
  pump(now, id);
}

void Swarm::handle_stream_sent(Instant now, ConnectionId id, StreamId stream, std::size_t bytes) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.connection.handle_stream_sent(now, stream, bytes);
  pump(now, id);
}

std::size_t Swarm::stream_receive_room(ConnectionId id, StreamId stream) const {
  auto found = connections_.find(id);
  return found == connections_.end() ? 0 : found->second.connection.stream_receive_room(stream);
}

void Swarm::drain_stream_commands(ConnState& state) {
  while (auto command = state.connection.poll_stream_command()) {
    const ConnectionId id = state.id;
    std::visit(
        [&](auto&& c) {
          using C = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<C, stream_command::Open>) {
            outputs_.push_back(swarm_output::OpenStream{id, c.stream});
          } else if constexpr (std::is_same_v<C, stream_command::Write>) {
            outputs_.push_back(swarm_output::StreamWrite{id, c.stream, std::move(c.bytes)});
          } else if constexpr (std::is_same_v<C, stream_command::CloseWrite>) {
            outputs_.push_back(swarm_output::StreamCloseWrite{id, c.stream});
          } else if constexpr (std::is_same_v<C, stream_command::Reset>) {
            outputs_.push_back(swarm_output::StreamReset{id, c.stream});
          } else {
            static_assert(std::is_same_v<C, stream_command::ResumeReading>);
            outputs_.push_back(swarm_output::StreamResumeReading{id, c.stream});
          }
        },
        *command);
  }
}

void Swarm::handle_input(Instant now, ConnectionId id, ByteView bytes) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  found->second.connection.handle_input(now, bytes);
  pump(now, id);
}

void Swarm::handle_closed(Instant now, ConnectionId id, const std::string& reason) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  if (found->second.connection.is_transport_muxed()) {
    // The transport's reason ("idle timeout", "closed by peer: ...") says more than ours would.
    remove_connection(id, reason);
    return;
  }
  found->second.connection.handle_transport_closed(now);
  // Drain what the connection reports, then forget it whatever it said.
  pump(now, id);
  if (connections_.contains(id)) remove_connection(id, reason);
}

void Swarm::handle_timeout(Instant now) {
  // Only connections with a timer due: on the others every check below is
  // false and pump() finds nothing to do.
  std::vector<ConnectionId> ids;
  for (const auto& [deadline, id] : deadlines_) {
    if (deadline > now) break;
    ids.push_back(id);
  }
  for (ConnectionId id : ids) {
    auto found = connections_.find(id);
    if (found == connections_.end()) continue;
    auto& state = found->second;
    if (auto deadline = state.connection.next_timeout(); deadline && now >= *deadline) {
      state.connection.handle_timeout(now);
    }
    // Protocol timers: identify's response deadline, ping timeouts. Collect
    // first: driving a handler may remove it from the map.
    std::vector<StreamId> expired;
    std::vector<StreamId> due;
    for (auto& [stream, handler] : state.handlers) {
      if (auto* out = std::get_if<IdentifyOut>(&handler); out && now >= out->deadline) expired.push_back(stream);
      std::optional<Instant> deadline;
      if (auto* ping_out = std::get_if<PingOut>(&handler)) deadline = ping_out->dialer.next_timeout();
      if (auto* ping_in = std::get_if<PingIn>(&handler)) deadline = ping_in->listener.next_timeout();
      if (deadline && now >= *deadline) due.push_back(stream);
    }
    for (StreamId stream : due) {
      auto handler = state.handlers.find(stream);
      if (handler == state.handlers.end()) continue;
      if (auto* ping_out = std::get_if<PingOut>(&handler->second)) ping_out->dialer.handle_timeout(now);
      if (auto* ping_in = std::get_if<PingIn>(&handler->second)) ping_in->listener.handle_timeout(now);
      drive_handler(now, state, stream, false, {});
    }
    for (StreamId stream : expired) {
      state.handlers.erase(stream);
      state.connection.reset(stream);
    }
    pump(now, id);
  }
}

void Swarm::ping(Instant now, const PeerId& peer, RequestId request) {
  for (auto& [id, state] : connections_) {
    if (state.peer != peer || !state.connection.is_established()) continue;
    start_ping(now, state, request);
    return;
  }
  ping_failed(peer, request, "not connected to " + peer.to_string());
}

void Swarm::ping_connection(Instant now, ConnectionId connection, RequestId request) {
  auto found = connections_.find(connection);
  if (found == connections_.end() || !found->second.peer || !found->second.connection.is_established()) {
    events_.push_back(swarm_event::PingResult{request, local_peer_, std::nullopt,
                                              "no established connection " + std::to_string(connection), connection});
    return;
  }
  start_ping(now, found->second, request);
}

void Swarm::start_ping(Instant now, ConnState& state, RequestId request) {
  const PeerId peer = *state.peer;
  const ConnectionId id = state.id;
  StreamTag tag = next_tag_++;
  state.pending[tag] = PendingStream{Purpose::ping, request};
  if (auto opened = state.connection.open_stream(now, std::string(ping::protocol_id), tag); !opened) {
    state.pending.erase(tag);
    refresh_deadline(state);
    events_.push_back(swarm_event::PingResult{request, peer, std::nullopt, opened.error().text, id});
    return;
  }
  pump(now, id);
}

void Swarm::disconnect(const PeerId& peer) {
  std::vector<ConnectionId> ids;
  for (const auto& [id, state] : connections_) {
    if (state.peer == peer) ids.push_back(id);
  }
  for (ConnectionId id : ids) close_connection(id, "disconnected locally");
}

void Swarm::close_connection(ConnectionId id, const std::string& reason) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  auto& state = found->second;
  state.connection.close();
  // Flush the GoAway before asking the driver to close.
  while (auto bytes = state.connection.poll_transmit()) outputs_.push_back(swarm_output::Transmit{id, std::move(*bytes)});
  drain_stream_commands(state);
  remove_connection(id, reason);
}

void Swarm::ping_failed(const PeerId& peer, RequestId request, std::string error) {
  events_.push_back(swarm_event::PingResult{request, peer, std::nullopt, std::move(error), std::nullopt});
}

void Swarm::pump(Instant now, ConnectionId id) {
  drain(now, id);
  if (auto found = connections_.find(id); found != connections_.end()) refresh_deadline(found->second);
}

void Swarm::drain(Instant now, ConnectionId id) {
  for (int guard = 0; guard < 1000; ++guard) {
    auto found = connections_.find(id);
    if (found == connections_.end()) return;
    auto& state = found->second;
    bool progressed = false;
    while (auto next = state.connection.poll_event()) {
      progressed = true;
      on_event(now, id, state, *next);
      if (!connections_.contains(id)) return;
    }
    while (auto bytes = state.connection.poll_transmit()) {
      progressed = true;
      outputs_.push_back(swarm_output::Transmit{id, std::move(*bytes)});
    }
    const std::size_t before = outputs_.size();
    drain_stream_commands(state);
    progressed |= outputs_.size() != before;
    if (!progressed) return;
  }
}

void Swarm::on_event(Instant now, ConnectionId id, ConnState& state, ConnectionEvent& next) {
  if (auto* established = std::get_if<event::Established>(&next)) {
    // A dial that reached ourselves (another host's loopback address is our
    // own): the inbound end authenticates our own key. Never keep it.
    if (established->peer == local_peer_) {
      ++self_connections_refused_;
      state.connection.close();
      return;
    }
    if (connections_to(established->peer) >= options_.connections_per_peer_max) {
      state.connection.close();
      return;  // Closed follows; reported as a failed connection
    }
    state.peer = established->peer;
    by_peer_[established->peer].push_back(id);
    auto& info = peerstore_.touch(established->peer, now);
    ++info.connections;
    if (state.direction == Direction::outbound) peerstore_.add_addr(established->peer, state.remote_addr, now);
    events_.push_back(swarm_event::PeerConnected{established->peer, id, state.direction, state.remote_addr});
    // Identify on every new connection (libp2p identify spec).
    StreamTag tag = next_tag_++;
    state.pending[tag] = PendingStream{Purpose::identify, 0};
    (void)state.connection.open_stream(now, std::string(identify::protocol_id), tag);
  } else if (auto* ready = std::get_if<event::StreamReady>(&next)) {
    on_stream_ready(now, state, *ready);
  } else if (auto* failed = std::get_if<event::StreamFailed>(&next)) {
    auto pending = state.pending.find(failed->tag);
    if (pending == state.pending.end()) return;
    if (pending->second.purpose == Purpose::ping && state.peer) {
      ping_failed(*state.peer, pending->second.request, "ping stream failed: " + failed->reason);
    }
    if (pending->second.purpose == Purpose::app && state.peer) {
      events_.push_back(swarm_event::StreamOpenFailed{pending->second.request, *state.peer, failed->protocol,
                                                      failed->reason});
    }
    state.pending.erase(pending);
  } else if (auto* readable = std::get_if<event::StreamReadable>(&next)) {
    if (auto handler = state.handlers.find(readable->stream);
        handler != state.handlers.end() && std::holds_alternative<AppStream>(handler->second)) {
      events_.push_back(swarm_event::StreamReadable{id, readable->stream});
      return;
    }
    on_readable(now, state, readable->stream);
  } else if (auto* writable = std::get_if<event::StreamWritable>(&next)) {
    if (auto handler = state.handlers.find(writable->stream);
        handler != state.handlers.end() && std::holds_alternative<AppStream>(handler->second)) {
      events_.push_back(swarm_event::StreamWritable{id, writable->stream});
    }
  } else if (auto* closed = std::get_if<event::StreamClosed>(&next)) {
    auto handler = state.handlers.find(closed->stream);
    if (handler == state.handlers.end()) return;
    if (std::holds_alternative<AppStream>(handler->second)) {
      events_.push_back(swarm_event::StreamClosed{id, closed->stream, closed->reset});
    }
    if (auto* ping_out = std::get_if<PingOut>(&handler->second); ping_out && state.peer && closed->reset &&
                                                                 ping_out->dialer.in_flight()) {
      ping_failed(*state.peer, ping_out->request, "the peer reset the ping stream");
    }
    state.handlers.erase(handler);
  } else if (auto* rtt = std::get_if<event::Rtt>(&next)) {
    if (state.peer) {
      if (auto* info = peerstore_.find(*state.peer)) info->rtt = rtt->rtt;
    }
  } else if (auto* closed_connection = std::get_if<event::Closed>(&next)) {
    remove_connection(id, describe(closed_connection->error));
  }
}

void Swarm::on_stream_ready(Instant now, ConnState& state, const event::StreamReady& ready) {
  if (ready.direction == Direction::outbound) {
    auto pending = state.pending.find(ready.tag);
    if (pending == state.pending.end()) {
      state.connection.reset(ready.stream);
      return;
    }
    PendingStream purpose = pending->second;
    state.pending.erase(pending);
    if (purpose.purpose == Purpose::app) {
      state.handlers.emplace(ready.stream, AppStream{});
      events_.push_back(swarm_event::StreamOpened{state.id, ready.stream, *state.peer, ready.protocol,
                                                  Direction::outbound, purpose.request});
      return;
    }
    if (purpose.purpose == Purpose::identify) {
      state.handlers.emplace(ready.stream, IdentifyOut{identify::Reader{}, now + identify::response_timeout});
      // We only listen: half-close our side at once, as the spec's requester does.
      (void)state.connection.close_write(ready.stream);
    } else {
      PingOut out{ping::Dialer{}, purpose.request};
      if (auto started = out.dialer.ping(now, rng_); !started) {
        if (state.peer) ping_failed(*state.peer, purpose.request, started.error().detail);
        state.connection.reset(ready.stream);
        return;
      }
      state.handlers.emplace(ready.stream, std::move(out));
      drive_handler(now, state, ready.stream, false, {});
    }
    return;
  }
  if (ready.protocol == identify::protocol_id) {
    auto message = identify::encode_message(local_info(state.remote_addr));
    if (!message) {
      state.connection.reset(ready.stream);
      return;
    }
    state.handlers.emplace(ready.stream, IdentifyIn{});
    write_all(state, ready.stream, *message);
    (void)state.connection.close_write(ready.stream);
  } else if (ready.protocol == ping::protocol_id) {
    std::size_t inbound_pings = 0;
    for (const auto& [stream, handler] : state.handlers) inbound_pings += std::holds_alternative<PingIn>(handler);
    if (inbound_pings >= ping::inbound_streams_per_connection_max) {
      state.connection.reset(ready.stream);
      return;
    }
    state.handlers.emplace(ready.stream, PingIn{ping::Listener(now)});
  } else if (state.peer && std::find(protocols_.begin(), protocols_.end(), ready.protocol) != protocols_.end()) {
    state.handlers.emplace(ready.stream, AppStream{});
    events_.push_back(swarm_event::StreamOpened{state.id, ready.stream, *state.peer, ready.protocol,
                                                Direction::inbound, 0});
  } else {
    state.connection.reset(ready.stream);
  }
}

void Swarm::open_stream(Instant now, const PeerId& peer, std::string protocol, RequestId request,
                        Negotiation negotiation) {
  for (auto& [id, state] : connections_) {
    if (state.peer != peer || !state.connection.is_established()) continue;
    StreamTag tag = next_tag_++;
    state.pending[tag] = PendingStream{Purpose::app, request, protocol};
    if (auto opened = state.connection.open_stream(now, protocol, tag, negotiation); !opened) {
      state.pending.erase(tag);
      refresh_deadline(state);
      events_.push_back(swarm_event::StreamOpenFailed{request, peer, protocol, opened.error().text});
      return;
    }
    pump(now, id);
    return;
  }
  events_.push_back(swarm_event::StreamOpenFailed{request, peer, std::move(protocol), "not connected to " + peer.to_string()});
}

Result<std::size_t> Swarm::write(Instant now, ConnectionId connection, StreamId stream, ByteView bytes) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return fail("no such connection");
  auto written = found->second.connection.write(stream, bytes);
  pump(now, connection);
  return written;
}

Result<StreamRead> Swarm::read(Instant now, ConnectionId connection, StreamId stream, std::size_t bytes_max) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return fail("no such connection");
  auto chunk = found->second.connection.read(stream, bytes_max);
  pump(now, connection);
  return chunk;
}

Result<void> Swarm::close_write(Instant now, ConnectionId connection, StreamId stream) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return fail("no such connection");
  auto closed = found->second.connection.close_write(stream);
  pump(now, connection);
  return closed;
}

void Swarm::reserve_receive_window(Instant now, ConnectionId connection, StreamId stream, std::size_t bytes) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return;
  found->second.connection.reserve_receive_window(stream, bytes);
  pump(now, connection);
}

void Swarm::reset(Instant now, ConnectionId connection, StreamId stream) {
  auto found = connections_.find(connection);
  if (found == connections_.end()) return;
  found->second.handlers.erase(stream);
  found->second.connection.reset(stream);
  pump(now, connection);
}

void Swarm::on_readable(Instant now, ConnState& state, StreamId stream) {
  for (;;) {
    auto chunk = state.connection.read(stream, kStreamReadBytes);
    if (!chunk) return;
    if (!state.handlers.contains(stream)) return;  // nothing to do with it: let it drain
    drive_handler(now, state, stream, chunk->finished, chunk->data);
    if (chunk->finished || chunk->data.empty()) return;
  }
}

void Swarm::drive_handler(Instant now, ConnState& state, StreamId stream, bool finished, ByteView data) {
  auto found = state.handlers.find(stream);
  if (found == state.handlers.end()) return;
  auto& handler = found->second;
  if (auto* out = std::get_if<IdentifyOut>(&handler)) {
    if (!data.empty()) {
      if (auto fed = out->reader.handle_data(data); !fed) {
        state.handlers.erase(found);
        state.connection.reset(stream);
        return;
      }
    }
    if (finished) finish_identify(now, state, stream, out->reader);
    return;
  }
  if (std::holds_alternative<IdentifyIn>(handler)) {
    return;  // the requester sends nothing; we wrote and closed already
  }
  if (auto* ping_out = std::get_if<PingOut>(&handler)) {
    if (!data.empty()) ping_out->dialer.handle_data(now, data);
    if (finished) ping_out->dialer.handle_end(now);
    if (auto bytes = ping_out->dialer.poll_transmit()) write_all(state, stream, *bytes);
    while (auto outcome = ping_out->dialer.poll_event()) {
      RequestId request = ping_out->request;
      if (auto* pong = std::get_if<ping::Pong>(&*outcome)) {
        if (state.peer) {
          if (auto* info = peerstore_.find(*state.peer)) info->rtt = pong->rtt;
          events_.push_back(swarm_event::PingResult{request, *state.peer, pong->rtt, {}, state.id});
        }
        (void)state.connection.close_write(stream);
      } else if (auto* failed = std::get_if<ping::Failed>(&*outcome)) {
        if (state.peer) ping_failed(*state.peer, request, failed->error.detail);
        state.handlers.erase(stream);
        state.connection.reset(stream);
        return;
      }
    }
    return;
  }
  if (auto* ping_in = std::get_if<PingIn>(&handler)) {
    if (!data.empty()) ping_in->listener.handle_data(now, data);
    if (finished) ping_in->listener.handle_end(now);
    if (auto bytes = ping_in->listener.poll_transmit()) write_all(state, stream, *bytes);
    while (auto outcome = ping_in->listener.poll_event()) {
      if (std::holds_alternative<ping::Finished>(*outcome)) {
        (void)state.connection.close_write(stream);
      } else {
        state.handlers.erase(stream);
        state.connection.reset(stream);
        return;
      }
    }
  }
}

void Swarm::finish_identify(Instant now, ConnState& state, StreamId stream, identify::Reader& reader) {
  auto info = reader.handle_end();
  state.handlers.erase(stream);
  if (!info || !state.peer) return;
  auto record = identify::verify_remote(*info, *state.peer);
  if (!record) return;  // contradicts the authenticated identity: ignore what it claims
  auto& peer = peerstore_.touch(*state.peer, now);
  peer.agent_version = info->agent_version.value_or("");
  peer.protocol_version = info->protocol_version.value_or("");
  peer.protocols = info->protocols;
  // A signed record's addresses are the trustworthy ones; fall back to listenAddrs.
  const auto& addrs = *record ? (*record)->addresses : info->listen_addrs;
  for (const auto& addr : addrs) peerstore_.add_addr(*state.peer, addr, now);
  events_.push_back(swarm_event::Identified{*state.peer, std::move(*info)});
}

void Swarm::write_all(ConnState& state, StreamId stream, ByteView bytes) {
  // Identify and ping messages are small: they fit in the initial 256 KiB window.
  (void)state.connection.write(stream, bytes);
}

identify::Info Swarm::local_info(const Multiaddr& observed) const {
  identify::Info info;
  info.protocol_version = std::string(identify::protocol_version_default);
  info.agent_version = options_.agent_version;
  info.public_key = PublicKey::ed25519(options_.identity.public_key());
  info.listen_addrs = listen_addrs_;
  info.observed_addr = observed;
  info.protocols = protocols_;
  info.signed_peer_record = signed_record_;
  return info;
}

std::size_t Swarm::pending_upgrades() const {
  return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(), [](const auto& entry) {
    return !entry.second.connection.is_established();
  }));
}

std::size_t Swarm::connections_to(const PeerId& peer) const {
  const auto found = by_peer_.find(peer);
  return found == by_peer_.end() ? 0 : found->second.size();
}

void Swarm::remove_connection(ConnectionId id, const std::string& reason) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  auto& state = found->second;
  if (state.peer) {
    for (const auto& [stream, handler] : state.handlers) {
      if (auto* ping_out = std::get_if<PingOut>(&handler); ping_out && ping_out->dialer.in_flight()) {
        ping_failed(*state.peer, ping_out->request, "connection closed: " + reason);
      }
    }
    for (const auto& [tag, pending] : state.pending) {
      if (pending.purpose == Purpose::ping) ping_failed(*state.peer, pending.request, "connection closed: " + reason);
      // The owner of an open waits for its outcome: this is it.
      if (pending.purpose == Purpose::app) {
        events_.push_back(
            swarm_event::StreamOpenFailed{pending.request, *state.peer, pending.protocol, "connection closed: " + reason});
      }
    }
    // The connection takes its streams along; their owners hear of each,
    // as when the peer resets one, before the disconnect itself.
    for (const auto& [stream, handler] : state.handlers) {
      if (std::holds_alternative<AppStream>(handler)) events_.push_back(swarm_event::StreamClosed{id, stream, true});
    }
    if (auto* info = peerstore_.find(*state.peer); info && info->connections > 0) --info->connections;
    events_.push_back(swarm_event::PeerDisconnected{*state.peer, id, reason});
  } else {
    events_.push_back(swarm_event::ConnectionFailed{id, reason});
  }
  forget_deadline(state);
  if (state.peer) {
    auto& ids = by_peer_[*state.peer];
    std::erase(ids, id);
    if (ids.empty()) by_peer_.erase(*state.peer);
  }
  connections_.erase(found);
  outputs_.push_back(swarm_output::Close{id});
}

std::optional<Instant> Swarm::compute_deadline(const ConnState& state) const {
  std::optional<Instant> earliest;
  auto consider = [&earliest](std::optional<Instant> t) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  };
  consider(state.connection.next_timeout());
  for (const auto& [stream, handler] : state.handlers) {
    if (auto* out = std::get_if<IdentifyOut>(&handler)) consider(out->deadline);
    if (auto* ping_out = std::get_if<PingOut>(&handler)) consider(ping_out->dialer.next_timeout());
    if (auto* ping_in = std::get_if<PingIn>(&handler)) consider(ping_in->listener.next_timeout());
  }
  return earliest;
}

void Swarm::refresh_deadline(ConnState& state) {
  const std::optional<Instant> deadline = compute_deadline(state);
  if (deadline == state.deadline) return;
  forget_deadline(state);
  state.deadline = deadline;
  if (deadline) deadlines_.emplace(*deadline, state.id);
}

void Swarm::forget_deadline(ConnState& state) {
  if (state.deadline) deadlines_.erase({*state.deadline, state.id});
  state.deadline.reset();
}

std::optional<SwarmOutput> Swarm::poll_output() {
  if (outputs_.empty()) return std::nullopt;
  SwarmOutput next = std::move(outputs_.front());
  outputs_.pop_front();
  return next;
}

std::optional<SwarmEvent> Swarm::poll_event() {
  if (events_.empty()) return std::nullopt;
  SwarmEvent next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::optional<Instant> Swarm::next_timeout() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<ConnectionSummary> Swarm::connections() const {
  std::vector<ConnectionSummary> all;
  for (const auto& [id, state] : connections_) {
    std::optional<Duration> rtt = state.connection.rtt();
    if (state.peer) {
      if (const auto* info = peerstore_.find(*state.peer); info && info->rtt) rtt = info->rtt;
    }
    all.push_back(ConnectionSummary{id, state.peer, state.direction, state.remote_addr,
                                    state.connection.is_established(), rtt, state.connection.stream_count(),
                                    state.connection.is_transport_muxed()});
  }
  return all;
}

bool Swarm::is_connected(const PeerId& peer) const {
  const auto found = by_peer_.find(peer);
  if (found == by_peer_.end()) return false;
  return std::any_of(found->second.begin(), found->second.end(), [&](ConnectionId id) {
    const auto connection = connections_.find(id);
    return connection != connections_.end() && connection->second.connection.is_established();
  });
}

}  // namespace taho::swarm
