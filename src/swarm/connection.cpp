#include "swarm/connection.hpp"

#include <algorithm>

namespace taho::swarm {

std::string_view to_string(ConnectionErrc code) {
  switch (code) {
    case ConnectionErrc::security_negotiation: return "security_negotiation";
    case ConnectionErrc::security_handshake: return "security_handshake";
    case ConnectionErrc::muxer_negotiation: return "muxer_negotiation";
    case ConnectionErrc::muxer: return "muxer";
    case ConnectionErrc::upgrade_timeout: return "upgrade_timeout";
    case ConnectionErrc::transport_closed: return "transport_closed";
    case ConnectionErrc::closed_locally: return "closed_locally";
  }
  return "unknown";
}

namespace {

// Streams read in chunks of this size while negotiating: multistream
// messages are at most 1 KiB, so one chunk holds a whole exchange.
constexpr std::size_t kNegotiationReadBytes = 4096;
// The decryption scratch buffer is kept between reads only while reads are
// at least this large (a bulk transfer) and need a quarter of it: idle
// connections, which read a few small messages, keep none.
constexpr std::size_t kBulkReadBytes = 16 * 1024;

template <class Negotiator>
void drain_into(Negotiator& negotiator, Bytes& out) {
  while (auto bytes = negotiator.poll_transmit()) append(out, *bytes);
}

}  // namespace

Connection::Connection(Instant now, ConnectionOptions options, crypto::CryptoSuite& suite, Rng& rng)
    : options_(std::move(options)), suite_(suite), rng_(rng), now_(now),
      upgrade_deadline_(now + options_.upgrade_timeout) {
  if (options_.direction == Direction::outbound) {
    // The js listener stays silent until it reads our header: we speak first.
    auto dialer = multistream::Dialer::create({kNoiseProtocol});
    security_dialer_.emplace(std::move(*dialer));
    drain_into(*security_dialer_, transmit_);
  } else {
    auto listener = multistream::Listener::create({kNoiseProtocol});
    security_listener_.emplace(std::move(*listener));
  }
}

Connection::Connection(Instant now, ConnectionOptions options, const PeerId& remote, crypto::CryptoSuite& suite,
                       Rng& rng)
    : options_(std::move(options)), suite_(suite), rng_(rng), now_(now), upgrade_deadline_(now),
      stage_(Stage::muxed), remote_peer_(remote) {
  auto muxer = std::make_unique<ExternalMuxer>(options_.muxed_streams);
  external_ = muxer.get();
  muxer_ = std::move(muxer);
  events_.push_back(event::Established{remote, {}, false});
}

void Connection::fail(ConnectionErrc code, std::string detail) {
  if (stage_ == Stage::closed) return;
  stage_ = Stage::closed;
  streams_.clear();
  events_.push_back(event::Closed{ConnectionError{code, std::move(detail)}});
}

void Connection::handle_input(Instant now, ByteView bytes) {
  now_ = std::max(now_, now);
  switch (stage_) {
    case Stage::closed:
      return;
    case Stage::security_negotiation: {
      auto result = security_dialer_ ? security_dialer_->handle_input(bytes) : security_listener_->handle_input(bytes);
      if (security_dialer_) drain_into(*security_dialer_, transmit_);
      if (security_listener_) drain_into(*security_listener_, transmit_);
      if (!result) {
        fail(ConnectionErrc::security_negotiation, result.error().detail);
        return;
      }
      if (*result) {
        Bytes leftover = std::move((*result)->leftover);
        start_noise(leftover);
      }
      return;
    }
    case Stage::security_handshake: {
      auto used = handshake_->handle_data(bytes);
      append(transmit_, handshake_->poll_transmit());
      if (!used) {
        fail(ConnectionErrc::security_handshake, std::string(noise::to_string(used.error().code)) + ": " +
                                                    used.error().detail);
        return;
      }
      if (!handshake_->is_complete()) return;
      auto outcome = handshake_->finish();
      append(transmit_, handshake_->poll_transmit());
      if (!outcome) {
        fail(ConnectionErrc::security_handshake, outcome.error().detail);
        return;
      }
      remote_peer_ = outcome->remote.peer_id;
      Bytes public_key = outcome->remote.public_key;
      secure_.emplace(std::move(outcome->session));
      handshake_.reset();
      const auto& muxers = outcome->remote_extensions.stream_muxers;
      bool early = options_.early_muxer_negotiation && outcome->remote_sent_extensions &&
                   std::find(muxers.begin(), muxers.end(), kYamuxProtocol) != muxers.end();
      events_.push_back(event::Established{*remote_peer_, std::move(public_key), early});
      if (early) {
        stage_ = Stage::muxed;
        start_muxer({});
      } else {
        stage_ = Stage::muxer_negotiation;
        if (options_.direction == Direction::outbound) {
          auto dialer = multistream::Dialer::create({kYamuxProtocol});
          muxer_dialer_.emplace(std::move(*dialer));
          Bytes out;
          drain_into(*muxer_dialer_, out);
          send_plaintext(out);
        } else {
          auto listener = multistream::Listener::create({kYamuxProtocol});
          muxer_listener_.emplace(std::move(*listener));
        }
      }
      if (*used < bytes.size()) handle_input(now, bytes.subspan(*used));
      return;
    }
    case Stage::muxer_negotiation:
    case Stage::muxed: {
      if (!secure_) return;  // a transport-multiplexed connection carries no bytes here
      // One scratch buffer serves every read of a transfer: sized once
      // (zeroed only then), decrypted into without clearing. It is taken out
      // while its plaintext is handled, in case that re-enters.
      Bytes scratch = std::move(plaintext_scratch_);
      const std::size_t room = secure_->decrypt_room(bytes.size());
      if (scratch.size() < room) scratch.resize(room);
      auto decrypted = secure_->decrypt_into(bytes, scratch);
      if (!decrypted) {
        fail(ConnectionErrc::security_handshake, "transport: " + decrypted.error().detail);
        return;
      }
      on_secure_plaintext(ByteView(scratch).first(*decrypted));
      if (room >= kBulkReadBytes && room >= scratch.size() / 4) plaintext_scratch_ = std::move(scratch);
      return;
    }
  }
}

void Connection::start_noise(ByteView leftover) {
  stage_ = Stage::security_handshake;
  security_dialer_.reset();
  security_listener_.reset();
  noise::HandshakeOptions handshake_options;
  handshake_options.identity = options_.identity;
  if (options_.early_muxer_negotiation) handshake_options.stream_muxers = {kYamuxProtocol};
  handshake_options.expected_remote_peer = options_.expected_peer;
  auto role = options_.direction == Direction::outbound ? noise::Role::initiator : noise::Role::responder;
  auto handshake = noise::Handshake::start(role, std::move(handshake_options), suite_, rng_);
  if (!handshake) {
    fail(ConnectionErrc::security_handshake, handshake.error().detail);
    return;
  }
  handshake_.emplace(std::move(*handshake));
  append(transmit_, handshake_->poll_transmit());
  if (!leftover.empty()) handle_input(now_, leftover);
}

void Connection::on_secure_plaintext(ByteView plaintext) {
  if (stage_ == Stage::muxer_negotiation) {
    auto result = muxer_dialer_ ? muxer_dialer_->handle_input(plaintext) : muxer_listener_->handle_input(plaintext);
    Bytes out;
    if (muxer_dialer_) drain_into(*muxer_dialer_, out);
    if (muxer_listener_) drain_into(*muxer_listener_, out);
    send_plaintext(out);
    if (!result) {
      fail(ConnectionErrc::muxer_negotiation, result.error().detail);
      return;
    }
    if (!*result) return;
    Bytes leftover = std::move((*result)->leftover);
    muxer_dialer_.reset();
    muxer_listener_.reset();
    stage_ = Stage::muxed;
    start_muxer(leftover);
    return;
  }
  if (stage_ != Stage::muxed || !yamux_) return;
  yamux_->handle_input(now_, plaintext);
  pump_muxer();
}

void Connection::start_muxer(ByteView leftover) {
  auto role = options_.direction == Direction::outbound ? yamux::Role::client : yamux::Role::server;
  auto muxer = std::make_unique<YamuxMuxer>(role, now_, options_.yamux);
  yamux_ = muxer.get();
  muxer_ = std::move(muxer);
  if (!leftover.empty()) yamux_->handle_input(now_, leftover);
  pump_muxer();
}

void Connection::send_plaintext(ByteView plaintext) {
  if (plaintext.empty() || !secure_) return;
  // Room for every frame first: growing transmit_ frame by frame would copy
  // what was already encrypted.
  constexpr std::size_t overhead = noise::frame_header_bytes + noise::tag_bytes;
  const std::size_t frames = (plaintext.size() + noise::frame_plaintext_bytes_max - 1) / noise::frame_plaintext_bytes_max;
  const std::size_t needed = transmit_.size() + plaintext.size() + frames * overhead;
  if (needed > transmit_.capacity()) transmit_.reserve(std::max(needed, 2 * transmit_.capacity()));
  auto encrypted = secure_->encrypt(plaintext, transmit_);
  if (!encrypted) fail(ConnectionErrc::security_handshake, "transport: " + encrypted.error().detail);
}

// Moves Yamux output through Noise and turns muxer events into ours.
void Connection::pump_muxer() {
  if (!muxer_) return;
  while (stage_ != Stage::closed) {
    while (yamux_ && transmit_.size() < options_.transmit_bytes_max) {
      const ByteView out = yamux_->peek_transmit();
      if (out.empty()) break;
      send_plaintext(out);
      yamux_->consume_transmit();
    }
    auto next = muxer_->poll_event();
    if (!next) break;
    std::visit(
        [this](auto&& e) {
          using E = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<E, muxer_event::StreamIncoming>) {
            auto id = muxer_->accept_stream();
            if (!id) return;
            auto listener = multistream::Listener::create(options_.inbound_protocols);
            if (!listener) {
              (void)muxer_->reset(*id);
              return;
            }
            Stream stream;
            stream.direction = Direction::inbound;
            stream.listener.emplace(std::move(*listener));
            stream.deadline = now_ + options_.stream_negotiation_timeout;
            streams_.emplace(*id, std::move(stream));
            pump_stream_negotiation(*id, streams_.at(*id));
          } else if constexpr (std::is_same_v<E, muxer_event::StreamReadable>) {
            auto found = streams_.find(e.stream);
            if (found == streams_.end()) return;
            if (found->second.ready) {
              events_.push_back(event::StreamReadable{e.stream});
            } else {
              pump_stream_negotiation(e.stream, found->second);
            }
          } else if constexpr (std::is_same_v<E, muxer_event::StreamWritable>) {
            auto found = streams_.find(e.stream);
            if (found == streams_.end()) return;
            flush_stream_pending(e.stream, found->second);
            if (found->second.ready) events_.push_back(event::StreamWritable{e.stream});
          } else if constexpr (std::is_same_v<E, muxer_event::StreamReset> ||
                               std::is_same_v<E, muxer_event::StreamClosed>) {
            constexpr bool kReset = std::is_same_v<E, muxer_event::StreamReset>;
            auto found = streams_.find(e.stream);
            if (found == streams_.end()) return;
            if (!kReset && found->second.ready && !found->second.prefix.empty()) {
              found->second.muxer_gone = true;  // read() reports the close once the prefix is read
              return;
            }
            if (found->second.ready) {
              events_.push_back(event::StreamClosed{e.stream, kReset});
            } else if (found->second.direction == Direction::outbound) {
              events_.push_back(event::StreamFailed{found->second.tag, found->second.protocol,
                                                    kReset ? "reset by the peer" : "closed by the peer"});
            }
            streams_.erase(found);
          } else if constexpr (std::is_same_v<E, muxer_event::Rtt>) {
            events_.push_back(event::Rtt{e.rtt});
          } else if constexpr (std::is_same_v<E, muxer_event::GoAway>) {
            // Existing streams finish; Closed follows when they have.
          } else if constexpr (std::is_same_v<E, muxer_event::Closed>) {
            fail(e.error.code, e.error.detail);
          }
        },
        *next);
  }
}

void Connection::pump_stream_negotiation(StreamId id, Stream& stream) {
  // Read what arrived and feed the stream's negotiator until it decides.
  for (;;) {
    auto chunk = muxer_->read(id, kNegotiationReadBytes);
    if (!chunk) {
      fail_stream(id, stream, "read failed: " + chunk.error().text);
      return;
    }
    if (!chunk->data.empty()) {
      auto result = stream.dialer ? stream.dialer->handle_input(chunk->data) : stream.listener->handle_input(chunk->data);
      if (stream.dialer) drain_into(*stream.dialer, stream.pending_out);
      if (stream.listener) drain_into(*stream.listener, stream.pending_out);
      flush_stream_pending(id, stream);
      if (!result) {
        fail_stream(id, stream, std::string(multistream::to_string(result.error().code)) + ": " + result.error().detail);
        return;
      }
      if (*result) {
        stream.ready = true;
        stream.protocol = (*result)->protocol;
        stream.prefix = std::move((*result)->leftover);
        stream.remote_finished = chunk->finished;
        stream.dialer.reset();
        stream.listener.reset();
        events_.push_back(event::StreamReady{id, stream.protocol, stream.direction, stream.tag});
        // Data or the end of the stream may already wait behind the negotiation.
        auto info = muxer_->stream_state(id);
        if (!stream.prefix.empty() || stream.remote_finished || (info && (info->buffered > 0 || info->remote_fin))) {
          events_.push_back(event::StreamReadable{id});
        }
        return;
      }
    }
    if (chunk->finished) {
      fail_stream(id, stream, "the peer closed the stream during negotiation");
      return;
    }
    if (chunk->data.empty()) return;
  }
}

void Connection::flush_stream_pending(StreamId id, Stream& stream) {
  if (stream.pending_out.empty()) return;
  auto written = muxer_->write(id, stream.pending_out);
  if (!written) return;
  stream.pending_out.erase(stream.pending_out.begin(), stream.pending_out.begin() + static_cast<std::ptrdiff_t>(*written));
}

void Connection::fail_stream(StreamId id, Stream& stream, std::string reason) {
  if (stream.direction == Direction::outbound) {
    events_.push_back(event::StreamFailed{stream.tag, stream.protocol, std::move(reason)});
  }
  (void)muxer_->reset(id);
  streams_.erase(id);
}

Result<void> Connection::open_stream(Instant now, std::string protocol, StreamTag tag, Negotiation negotiation) {
  // The negotiation deadline counts from now, not from the last input: a
  // connection may have been idle for longer than the timeout.
  now_ = std::max(now_, now);
  if (stage_ != Stage::muxed) return taho::fail("the connection is not established");
  multistream::DialerOptions dialer_options;
  if (negotiation == Negotiation::lazy) dialer_options.mode = multistream::DialerMode::lazy;
  auto dialer = multistream::Dialer::create({protocol}, dialer_options);
  if (!dialer) return taho::fail("bad protocol id '" + protocol + "': " + dialer.error().detail);
  auto id = muxer_->open_stream();
  if (!id) return taho::fail("cannot open a stream: " + id.error().text);
  Stream stream;
  stream.direction = Direction::outbound;
  stream.tag = tag;
  stream.protocol = std::move(protocol);
  stream.dialer.emplace(std::move(*dialer));
  stream.deadline = now_ + options_.stream_negotiation_timeout;
  drain_into(*stream.dialer, stream.pending_out);
  stream.ready = negotiation == Negotiation::lazy;
  auto [it, inserted] = streams_.emplace(*id, std::move(stream));
  flush_stream_pending(*id, it->second);
  if (it->second.ready) events_.push_back(event::StreamReady{*id, it->second.protocol, Direction::outbound, tag});
  pump_muxer();
  return {};
}

// A lazy stream's first reads: the peer's echo of our proposal comes before
// any data, and a refusal ends the stream.
Result<void> Connection::read_lazy_confirmation(StreamId id, Stream& stream) {
  while (stream.dialer) {
    auto chunk = muxer_->read(id, kNegotiationReadBytes);
    if (!chunk) return taho::fail("read failed: " + chunk.error().text);
    if (!chunk->data.empty()) {
      auto result = stream.dialer->handle_input(chunk->data);
      if (!result) {
        return taho::fail(std::string(multistream::to_string(result.error().code)) + ": " + result.error().detail);
      }
      if (*result) {
        stream.prefix = std::move((*result)->leftover);
        stream.remote_finished = chunk->finished;
        stream.dialer.reset();
        return {};
      }
    }
    if (chunk->finished) return taho::fail("the peer closed the stream before confirming " + stream.protocol);
    if (chunk->data.empty()) return {};  // the confirmation is still on its way
  }
  return {};
}

Result<std::size_t> Connection::write(StreamId id, ByteView bytes) {
  auto found = streams_.find(id);
  if (found == streams_.end() || !found->second.ready || found->second.muxer_gone) return taho::fail("no such stream");
  // A lazy stream's proposal goes first; StreamWritable follows if it waits.
  flush_stream_pending(id, found->second);
  if (!found->second.pending_out.empty()) return std::size_t{0};
  auto written = muxer_->write(id, bytes);
  if (!written) return taho::fail(written.error().text);
  pump_muxer();
  return *written;
}

Result<StreamRead> Connection::read(StreamId id, std::size_t bytes_max) {
  auto found = streams_.find(id);
  if (found == streams_.end() || !found->second.ready) return taho::fail("no such stream");
  auto& stream = found->second;
  StreamRead result;
  if (stream.dialer) {
    if (auto confirmed = read_lazy_confirmation(id, stream); !confirmed) {
      (void)muxer_->reset(id);
      streams_.erase(found);
      pump_muxer();
      return taho::fail(confirmed.error().text);
    }
    if (stream.dialer) {
      pump_muxer();
      return result;  // nothing for the caller yet
    }
  }
  auto& prefix = stream.prefix;
  if (!prefix.empty()) {
    std::size_t take = std::min(bytes_max, prefix.size());
    result.data.assign(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(take));
    prefix.erase(prefix.begin(), prefix.begin() + static_cast<std::ptrdiff_t>(take));
    if (!prefix.empty()) return result;
    bytes_max -= take;
  }
  if (stream.remote_finished || stream.muxer_gone) {
    // The muxer has nothing more for this stream: its end was already read.
    result.finished = true;
    if (stream.muxer_gone) {
      events_.push_back(event::StreamClosed{id, false});
      streams_.erase(found);
    }
    return result;
  }
  if (bytes_max == 0) return result;
  auto chunk = muxer_->read(id, bytes_max);
  if (!chunk) return taho::fail(chunk.error().text);
  // The muxer hands whole chunks over by move: no copy unless a prefix came first.
  if (result.data.empty()) {
    result.data = std::move(chunk->data);
  } else {
    append(result.data, chunk->data);
  }
  result.finished = chunk->finished;
  pump_muxer();
  return result;
}

Result<void> Connection::close_write(StreamId id) {
  auto found = streams_.find(id);
  if (found == streams_.end()) return taho::fail("no such stream");
  if (found->second.muxer_gone) return {};
  auto closed = muxer_->close_write(id);
  if (!closed) return taho::fail(closed.error().text);
  pump_muxer();
  return {};
}

void Connection::reserve_receive_window(StreamId id, std::size_t bytes) {
  const auto found = streams_.find(id);
  if (found == streams_.end() || found->second.muxer_gone || !muxer_) return;
  muxer_->reserve_receive_window(id, bytes);
  pump_muxer();
}

void Connection::reset(StreamId id) {
  if (streams_.erase(id) == 0 || !muxer_) return;
  (void)muxer_->reset(id);
  pump_muxer();
}

void Connection::close() {
  if (stage_ == Stage::closed) return;
  if (muxer_) {
    muxer_->go_away();
    pump_muxer();
  }
  fail(ConnectionErrc::closed_locally, "closed locally");
}

void Connection::handle_timeout(Instant now) {
  now_ = std::max(now_, now);
  if (stage_ == Stage::closed) return;
  if (stage_ != Stage::muxed) {
    if (now_ >= upgrade_deadline_) {
      fail(ConnectionErrc::upgrade_timeout, "the security and muxer upgrade did not finish in " +
                                                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                   options_.upgrade_timeout).count()) + " ms");
    }
    return;
  }
  std::vector<StreamId> expired;
  for (const auto& [id, stream] : streams_) {
    if (!stream.ready && now_ >= stream.deadline) expired.push_back(id);
  }
  for (StreamId id : expired) fail_stream(id, streams_.at(id), "protocol negotiation timed out");
  if (auto deadline = muxer_->next_timeout(); deadline && now_ >= *deadline) muxer_->handle_timeout(now_);
  pump_muxer();
}

void Connection::handle_transport_closed(Instant now) {
  now_ = std::max(now_, now);
  if (muxer_ && stage_ == Stage::muxed) {
    muxer_->handle_transport_closed(now_);
    pump_muxer();
  }
  fail(ConnectionErrc::transport_closed, "the connection was closed by the remote");
}

std::optional<Bytes> Connection::poll_transmit() {
  if (muxer_ && stage_ == Stage::muxed) pump_muxer();
  if (transmit_.empty()) return std::nullopt;
  Bytes out = std::move(transmit_);
  transmit_ = Bytes();
  if (muxer_ && stage_ == Stage::muxed) pump_muxer();  // refill up to transmit_bytes_max
  return out;
}

std::optional<ConnectionEvent> Connection::poll_event() {
  if (events_.empty()) return std::nullopt;
  ConnectionEvent next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::optional<Instant> Connection::next_timeout() const {
  if (stage_ == Stage::closed) return std::nullopt;
  if (stage_ != Stage::muxed) return upgrade_deadline_;
  std::optional<Instant> earliest = muxer_->next_timeout();
  for (const auto& [id, stream] : streams_) {
    if (!stream.ready && (!earliest || stream.deadline < *earliest)) earliest = stream.deadline;
  }
  return earliest;
}

}  // namespace taho::swarm

namespace taho::swarm {

std::optional<StreamId> Connection::handle_stream_opened(Instant now) {
  now_ = std::max(now_, now);
  if (!external_ || stage_ == Stage::closed) return std::nullopt;
  auto id = external_->handle_opened();
  pump_muxer();
  return id;
}

void Connection::handle_stream_data(Instant now, StreamId stream, ByteView bytes) {
  now_ = std::max(now_, now);
  if (!external_ || stage_ == Stage::closed) return;
  external_->handle_data(stream, bytes);
  pump_muxer();
}

void Connection::handle_stream_end(Instant now, StreamId stream) {
  now_ = std::max(now_, now);
  if (!external_ || stage_ == Stage::closed) return;
  external_->handle_end(stream);
  pump_muxer();
}

void Connection::handle_stream_reset(Instant now, StreamId stream) {
  now_ = std::max(now_, now);
  if (!external_ || stage_ == Stage::closed) return;
  external_->handle_reset(stream);
  pump_muxer();
}

void Connection::handle_stream_sent(Instant now, StreamId stream, std::size_t bytes) {
  now_ = std::max(now_, now);
  if (!external_ || stage_ == Stage::closed) return;
  external_->handle_sent(stream, bytes);
  pump_muxer();
}

std::size_t Connection::stream_receive_room(StreamId stream) const {
  if (!external_ || stage_ == Stage::closed) return 0;
  return external_->receive_room(stream);
}

std::optional<StreamCommand> Connection::poll_stream_command() {
  if (!external_) return std::nullopt;
  return external_->poll_command();
}

}  // namespace taho::swarm
