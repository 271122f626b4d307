// The UDP driver of a quic::Endpoint on the event loop: one socket, batched
// receive (recvmmsg) and send (sendmmsg), the endpoint's timer, and its
// events delivered as callbacks. The QUIC logic itself is sans-IO in
// src/proto/quic; this file only moves datagrams and time.
//
// Threading: every method must be called on the event loop's thread, and
// the event handler runs there. The handler may call any Endpoint command
// (open_stream, write, read, close ...) through endpoint(); the socket
// flushes after the handler returns. Commands issued outside a handler need
// a flush() afterwards. Never destroy the QuicSocket inside the handler.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/time.hpp"
#include "crypto/ed25519.hpp"
#include "proto/quic/endpoint.hpp"

namespace taho::runtime::asio {

class EventLoop;

struct QuicSocketOptions {
  // Large kernel buffers absorb bursts (a full congestion window arrives at once).
  int socket_buffer_bytes = 8 * 1024 * 1024;
  std::size_t batch_datagrams = 32;                 // per recvmmsg / sendmmsg call
  std::size_t datagrams_per_wakeup_max = 1024;      // then yield to other work on the loop
  std::size_t receive_datagram_bytes_max = 65536;   // one receive slot
  quic::Options quic;
  // The TLS certificate to present; generated fresh when absent (tests
  // pass broken ones to prove peers refuse them).
  std::optional<quic::Certificate> certificate;
};

struct QuicSocketStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t datagrams_sent = 0;
  std::uint64_t receive_batches = 0;
  std::uint64_t send_batches = 0;
  std::uint64_t send_errors = 0;  // datagrams the kernel refused (dropped; QUIC recovers)
};

class QuicSocket {
 public:
  using EventHandler = std::function<void(const quic::Event&)>;

  // Binds /ip4|ip6/<address>/udp/<port>/quic-v1 (port 0 picks a free one)
  // and creates the endpoint with `host` as the node identity. `rng` must
  // outlive the socket.
  static Result<std::unique_ptr<QuicSocket>> open(EventLoop& loop, const Multiaddr& listen,
                                                  const crypto::Ed25519KeyPair& host, Rng& rng,
                                                  QuicSocketOptions options, EventHandler on_event);
  ~QuicSocket();
  QuicSocket(const QuicSocket&) = delete;
  QuicSocket& operator=(const QuicSocket&) = delete;

  // The bound address with the real port, e.g. /ip4/127.0.0.1/udp/40123/quic-v1.
  const Multiaddr& listen_address() const;
  // Dials /ip4|ip6/<addr>/udp/<port>/quic-v1/p2p/<id>; the /p2p/ part is
  // required (the handshake checks the peer is that one).
  Result<quic::ConnectionHandle> dial(const Multiaddr& address);

  quic::Endpoint& endpoint();
  // Sends what the endpoint has to send and re-arms its timer.
  void flush();
  QuicSocketStats stats() const;

  struct State;  // shared with pending socket operations (defined in the .cpp)

 private:
  explicit QuicSocket(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace taho::runtime::asio
