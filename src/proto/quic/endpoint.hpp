// quic::Endpoint: QUIC v1 with libp2p TLS for one UDP socket, sans-IO.
//
// The driver feeds it datagrams (handle_datagram), time (handle_timeout at
// next_timeout()) and commands; it returns datagrams to send
// (poll_transmit) and events (poll_event). It never touches a socket or a
// clock: `now` comes in as an argument; connection ids, stateless-reset
// and Retry secrets come from the injected Rng (GnuTLS draws the TLS
// handshake's own randomness, and the certificate key, from the OS). ngtcp2 0.12 and GnuTLS sit behind this interface; their
// callbacks only record state and queue events.
//
// Security (libp2p/specs tls/tls.md): TLS 1.3 only, ALPN "libp2p", both
// sides present a self-signed certificate with the libp2p extension and
// both verify the peer's (src/proto/tls). A dial names the PeerId it
// expects; a certificate of anyone else fails the handshake.
//
// Not thread-safe: one thread owns an Endpoint (STYLE.md principle 9).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "crypto/ed25519.hpp"
#include "proto/quic/certificate.hpp"
#include "proto/quic/errors.hpp"
#include "proto/quic/events.hpp"
#include "proto/quic/options.hpp"
#include "proto/quic/udp_address.hpp"

namespace taho::quic {

struct Transmit {
  UdpAddress remote;
  Bytes bytes;  // one UDP datagram
};

struct ReadResult {
  Bytes data;
  bool finished = false;  // the peer closed its side and everything was read
};

// Counted reasons (STYLE.md principle 7): what was dropped and why.
struct EndpointStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t garbage_dropped = 0;           // not QUIC, or for no connection we know
  std::uint64_t initials_refused_pending = 0;  // over pending_handshakes_max
  std::uint64_t initials_refused_rate = 0;     // over inbound_handshakes_per_second_max
  std::uint64_t initials_refused_capacity = 0; // over connections_max
  std::uint64_t version_negotiations_sent = 0;
  std::uint64_t retries_sent = 0;
  std::uint64_t retry_tokens_refused = 0;      // expired, forged, or from another address
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_failed = 0;
};

struct ConnectionInfo {
  PeerId remote;
  UdpAddress remote_address;
  bool inbound = false;
  Duration smoothed_rtt{};
};

class Endpoint {
 public:
  // `local` is the socket's bound address (what ngtcp2 records as the
  // path); `unix_time_s_at_now` is the wall clock at `now`, for
  // certificate validity (the endpoint advances it with `now`). `rng` must
  // outlive the endpoint. A certificate is generated unless one is given.
  static Result<std::unique_ptr<Endpoint>> create(Instant now, std::int64_t unix_time_s_at_now, const UdpAddress& local,
                                                   const crypto::Ed25519KeyPair& host, Rng& rng, Options options = {},
                                                   std::optional<Certificate> certificate = std::nullopt);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const PeerId& local_peer_id() const;
  const UdpAddress& local_address() const;

  // --- input ---
  // Any bytes from anyone: garbage is counted and dropped, never an error.
  void handle_datagram(Instant now, ByteView datagram, const UdpAddress& remote);
  void handle_timeout(Instant now);

  // --- output ---
  // The next datagram to send. Takes `now` because ngtcp2 stamps each packet
  // it builds (RTT, pacing, loss detection), as quinn-proto's does.
  std::optional<Transmit> poll_transmit(Instant now);
  std::optional<Event> poll_event();
  std::optional<Instant> next_timeout() const;

  // --- commands ---
  // Dials `remote`; the outcome is Connected or ConnectionClosed.
  Result<ConnectionHandle> connect(Instant now, const UdpAddress& remote, const PeerId& expected);
  // Ends the connection (CONNECTION_CLOSE with an application code); ConnectionClosed follows.
  void close(ConnectionHandle connection, std::uint64_t error_code = 0, std::string_view reason = {});

  // Fails with stream_limit while the peer's MAX_STREAMS allows no more;
  // StreamCredit follows when it raises the limit.
  Expected<StreamId, QuicError> open_stream(ConnectionHandle connection);
  // Queues up to stream_send_buffer_bytes_max unacknowledged bytes and
  // returns how many it took; StreamWritable follows when room frees up.
  Expected<std::size_t, QuicError> write(ConnectionHandle connection, StreamId stream, ByteView data);
  // Up to `bytes_max` bytes in order; `finished` once the peer's FIN was read.
  Expected<ReadResult, QuicError> read(ConnectionHandle connection, StreamId stream, std::size_t bytes_max);
  // Sends FIN after the queued bytes.
  Expected<void, QuicError> close_write(ConnectionHandle connection, StreamId stream);
  // Abandons both directions (RESET_STREAM + STOP_SENDING).
  Expected<void, QuicError> reset_stream(ConnectionHandle connection, StreamId stream, std::uint64_t error_code);

  std::optional<ConnectionInfo> connection_info(ConnectionHandle connection) const;
  std::size_t connection_count() const;
  const EndpointStats& stats() const;

  struct Impl;

 private:
  explicit Endpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace taho::quic
