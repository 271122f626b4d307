#include "node/quic_bridge.hpp"

#include <algorithm>

namespace taho::node {
namespace {

constexpr std::size_t kReadChunkBytes = 256 * 1024;
constexpr std::uint64_t kResetCode = 0;  // libp2p defines no stream error codes
// Outbound streams per connection waiting for the peer's stream credit;
// past this an open fails at once.
constexpr std::size_t kWaitingOpensMax = 256;

}  // namespace

std::size_t QuicBridge::add_endpoint(quic::Endpoint& endpoint, Multiaddr local) {
  endpoints_.push_back(Endpoint{&endpoint, std::move(local)});
  return endpoints_.size() - 1;
}

QuicBridge::Connection* QuicBridge::find(std::size_t index, quic::ConnectionHandle handle,
                                          swarm::ConnectionId* id_out) {
  auto found = by_handle_.find({index, handle});
  if (found == by_handle_.end()) return nullptr;
  *id_out = found->second;
  return &connections_.at(found->second);
}

std::optional<QuicLinkEvent> QuicBridge::handle_event(Instant now, std::size_t index, const quic::Event& event) {
  if (index >= endpoints_.size()) return std::nullopt;
  if (const auto* connected = std::get_if<quic::Connected>(&event)) {
    const swarm::ConnectionId id = next_id_++;
    connections_[id] = Connection{index, connected->connection, {}, {}, {}};
    by_handle_[{index, connected->connection}] = id;
    return quic_link::Up{id,
                         index,
                         connected->connection,
                         connected->inbound,
                         endpoints_[index].local,
                         connected->remote_address.to_quic_multiaddr(),
                         connected->remote};
  }
  if (const auto* closed = std::get_if<quic::ConnectionClosed>(&event)) {
    early_streams_.erase({index, closed->connection});
    quic_link::Down down{std::nullopt, index, closed->connection, closed->reason};
    if (auto found = by_handle_.find({index, closed->connection}); found != by_handle_.end()) {
      down.id = found->second;
      connections_.erase(found->second);
      by_handle_.erase(found);
    }
    return down;
  }

  const auto [handle, quic_stream] = std::visit(
      [](const auto& e) -> std::pair<quic::ConnectionHandle, quic::StreamId> {
        if constexpr (requires { e.stream; }) {
          return {e.connection, e.stream};
        } else {
          return {e.connection, 0};
        }
      },
      event);
  swarm::ConnectionId id = 0;
  Connection* connection = find(index, handle, &id);
  if (!connection) {
    // The server learns of the handshake's end after reading the packet
    // that also carried the client's first streams: keep them for later.
    if (std::holds_alternative<quic::StreamOpened>(event)) early_streams_[{index, handle}].push_back(quic_stream);
    return std::nullopt;
  }
  if (std::holds_alternative<quic::StreamOpened>(event)) {
    announce_stream(now, id, quic_stream);
    return std::nullopt;
  }
  if (std::holds_alternative<quic::StreamCredit>(event)) {
    open_waiting(now, id, *connection);
    return std::nullopt;
  }
  auto mapped = connection->by_quic.find(quic_stream);
  if (mapped == connection->by_quic.end()) return std::nullopt;
  const swarm::StreamId stream = mapped->second;

  if (std::holds_alternative<quic::StreamReadable>(event)) {
    deliver(now, id, *connection, stream);
  } else if (std::holds_alternative<quic::StreamWritable>(event)) {
    send_unsent(now, id, *connection, stream);
  } else if (std::holds_alternative<quic::StreamReset>(event)) {
    forget(*connection, stream);
    host_.handle_stream_reset(now, id, stream);
  } else if (const auto* stream_closed = std::get_if<quic::StreamClosed>(&event)) {
    auto& state = connection->streams.at(stream);
    if (stream_closed->error_code && !state.read_finished) {
      // Stopped or reset before the peer's end arrived: the stream is broken.
      forget(*connection, stream);
      host_.handle_stream_reset(now, id, stream);
      return std::nullopt;
    }
    state.quic_closed = true;
    deliver(now, id, *connection, stream);  // whatever is unread, then forgotten once finished
  }
  return std::nullopt;
}

void QuicBridge::announce_stream(Instant now, swarm::ConnectionId id, quic::StreamId quic_stream) {
  auto stream = host_.handle_stream_opened(now, id);
  auto connection = connections_.find(id);  // the host may have closed it meanwhile
  if (connection == connections_.end()) return;
  if (!stream) {
    (void)endpoint_of(connection->second).reset_stream(connection->second.handle, quic_stream, kResetCode);
    return;
  }
  connection->second.streams[*stream] = Stream{quic_stream, {}, false, false, false, false};
  connection->second.by_quic[quic_stream] = *stream;
  deliver(now, id, connection->second, *stream);
}

void QuicBridge::connection_added(Instant now, swarm::ConnectionId id) {
  auto connection = connections_.find(id);
  if (connection == connections_.end()) return;
  auto early = early_streams_.extract({connection->second.endpoint, connection->second.handle});
  if (early.empty()) return;
  for (const auto quic_stream : early.mapped()) announce_stream(now, id, quic_stream);
}

void QuicBridge::deliver(Instant now, swarm::ConnectionId id, Connection& connection, swarm::StreamId stream) {
  const std::size_t index = connection.endpoint;
  const quic::ConnectionHandle handle = connection.handle;
  for (;;) {
    // Re-find each round: handing data to the host runs the protocols, which
    // may reset the stream or close the connection.
    swarm::ConnectionId current = 0;
    Connection* live = find(index, handle, &current);
    if (!live) return;
    auto found = live->streams.find(stream);
    if (found == live->streams.end() || found->second.read_finished || found->second.waiting_for_credit) return;
    const std::size_t room = host_.swarm().stream_receive_room(id, stream);
    if (room == 0) return;  // StreamResumeReading follows when the host has read
    auto chunk = endpoint_of(*live).read(handle, found->second.quic_id, std::min(room, kReadChunkBytes));
    if (!chunk) {
      if (chunk.error().code == quic::Errc::stream_reset) {
        forget(*live, stream);
        host_.handle_stream_reset(now, id, stream);
      } else if (chunk.error().code == quic::Errc::unknown_stream && found->second.quic_closed) {
        // Closed cleanly with nothing left to read: the endpoint dropped
        // the stream, so its end is this (both directions finished).
        forget(*live, stream);
        host_.handle_stream_end(now, id, stream);
      }
      return;
    }
    const bool finished = chunk->finished;
    const bool empty = chunk->data.empty();
    if (finished) {
      found->second.read_finished = true;
      if (found->second.quic_closed) forget(*live, stream);
    }
    if (!empty) host_.handle_stream_data(now, id, stream, chunk->data);
    if (finished) {
      host_.handle_stream_end(now, id, stream);
      return;
    }
    if (empty) return;
  }
}

void QuicBridge::send_unsent(Instant now, swarm::ConnectionId id, Connection& connection, swarm::StreamId stream) {
  auto found = connection.streams.find(stream);
  if (found == connection.streams.end()) return;
  Stream& state = found->second;
  if (state.waiting_for_credit) return;  // sent once the stream opens
  const quic::ConnectionHandle handle = connection.handle;
  std::size_t sent = 0;
  while (state.unsent_taken < state.unsent.size()) {
    auto written = endpoint_of(connection).write(handle, state.quic_id, ByteView(state.unsent).subspan(state.unsent_taken));
    if (!written) {
      state.unsent_taken = state.unsent.size();  // the stream is gone on the QUIC side; its end reaches us as an event
      state.close_write_pending = false;
      break;
    }
    if (*written == 0) break;  // StreamWritable follows
    state.unsent_taken += *written;
    sent += *written;
  }
  // Compact once half is taken: each byte moves at most once on average.
  if (state.unsent_taken == state.unsent.size()) {
    state.unsent.clear();
    state.unsent_taken = 0;
  } else if (state.unsent_taken >= state.unsent.size() / 2) {
    state.unsent.erase(state.unsent.begin(), state.unsent.begin() + static_cast<std::ptrdiff_t>(state.unsent_taken));
    state.unsent_taken = 0;
  }
  if (state.unsent.empty() && state.close_write_pending) {
    state.close_write_pending = false;
    (void)endpoint_of(connection).close_write(handle, state.quic_id);
  }
  // Last: returning credit lets the host write again, which may re-enter here.
  if (sent > 0) host_.handle_stream_sent(now, id, stream, sent);
}

void QuicBridge::forget(Connection& connection, swarm::StreamId stream) {
  auto found = connection.streams.find(stream);
  if (found == connection.streams.end()) return;
  if (found->second.waiting_for_credit) {
    std::erase(connection.waiting_opens, stream);
  } else {
    connection.by_quic.erase(found->second.quic_id);
  }
  connection.streams.erase(found);
}

void QuicBridge::open_waiting(Instant now, swarm::ConnectionId id, Connection& connection) {
  std::vector<swarm::StreamId> opened_now;
  std::vector<swarm::StreamId> failed;
  while (!connection.waiting_opens.empty()) {
    const swarm::StreamId stream = connection.waiting_opens.front();
    auto opened = endpoint_of(connection).open_stream(connection.handle);
    if (!opened && opened.error().code == quic::Errc::stream_limit) break;  // until the next StreamCredit
    connection.waiting_opens.pop_front();
    auto found = connection.streams.find(stream);
    if (found == connection.streams.end()) continue;  // never: forget() dequeues
    Stream& state = found->second;
    state.waiting_for_credit = false;
    if (!opened) {  // the connection is going away
      connection.streams.erase(found);
      failed.push_back(stream);
      continue;
    }
    state.quic_id = *opened;
    connection.by_quic[*opened] = stream;
    opened_now.push_back(stream);
  }
  // Host calls last, each after finding the connection again: they run protocols.
  for (const auto stream : opened_now) {
    auto live = connections_.find(id);
    if (live == connections_.end()) return;
    send_unsent(now, id, live->second, stream);
  }
  for (const auto stream : failed) host_.handle_stream_reset(now, id, stream);
}

bool QuicBridge::handle_output(Instant now, const host::HostOutput& output) {
  using namespace swarm::swarm_output;
  if (const auto* close_output = std::get_if<Close>(&output)) {
    if (!was_ours(close_output->connection)) return false;
    close(close_output->connection);  // a no-op once the transport closed it
    return true;
  }
  const auto target = std::visit(
      [](const auto& o) -> std::optional<std::pair<swarm::ConnectionId, swarm::StreamId>> {
        if constexpr (requires { o.stream; }) {
          return std::pair{o.connection, o.stream};
        } else {
          return std::nullopt;
        }
      },
      output);
  if (!target) return false;
  const auto [id, stream] = *target;
  auto found = connections_.find(id);
  // Stream outputs exist only for transport-multiplexed connections: one
  // unknown here was ours and is closed already.
  if (found == connections_.end()) return true;
  Connection& connection = found->second;
  quic::Endpoint& endpoint = endpoint_of(connection);

  if (std::holds_alternative<OpenStream>(output)) {
    // Streams already waiting keep their turn: a new one queues behind them.
    auto opened = connection.waiting_opens.empty()
                      ? endpoint.open_stream(connection.handle)
                      : Expected<quic::StreamId, quic::QuicError>(
                            unexpected(quic::QuicError{quic::Errc::stream_limit, "streams are waiting for credit"}));
    if (opened) {
      connection.streams[stream] = Stream{*opened, {}, false, false, false, false};
      connection.by_quic[*opened] = stream;
      return true;
    }
    if (opened.error().code == quic::Errc::stream_limit && connection.waiting_opens.size() < kWaitingOpensMax) {
      // The peer allows no more streams for now: wait for its MAX_STREAMS
      // (StreamCredit). The swarm's stream_negotiation_timeout bounds the wait.
      connection.streams[stream] = Stream{0, {}, false, false, false, true};
      connection.waiting_opens.push_back(stream);
      return true;
    }
    // Too many waiting, or the connection is going: the swarm fails the
    // negotiation of this stream.
    host_.handle_stream_reset(now, id, stream);
    return true;
  }
  auto state = connection.streams.find(stream);
  if (state == connection.streams.end()) return true;  // already gone on the QUIC side
  if (const auto* write = std::get_if<StreamWrite>(&output)) {
    append(state->second.unsent, write->bytes);
    send_unsent(now, id, connection, stream);
  } else if (std::holds_alternative<StreamCloseWrite>(output)) {
    state->second.close_write_pending = true;
    send_unsent(now, id, connection, stream);
  } else if (std::holds_alternative<StreamReset>(output)) {
    if (!state->second.waiting_for_credit) {
      (void)endpoint.reset_stream(connection.handle, state->second.quic_id, kResetCode);
    }
    forget(connection, stream);
  } else if (std::holds_alternative<StreamResumeReading>(output)) {
    deliver(now, id, connection, stream);
  }
  return true;
}

void QuicBridge::close(swarm::ConnectionId id, std::string_view reason) {
  auto found = connections_.find(id);
  if (found == connections_.end()) return;
  endpoint_of(found->second).close(found->second.handle, 0, reason);
  by_handle_.erase({found->second.endpoint, found->second.handle});
  early_streams_.erase({found->second.endpoint, found->second.handle});
  connections_.erase(found);
}

}  // namespace taho::node
