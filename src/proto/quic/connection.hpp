// Internal to src/proto/quic: one QUIC connection's state, shared by the
// Endpoint and the ngtcp2/GnuTLS callbacks. Not part of the public API.
#pragma once

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/quic/endpoint.hpp"
#include "proto/quic/stream_buffers.hpp"
#include "proto/tls/verify.hpp"

namespace taho::quic {

struct Stream {
  SendBuffer send;
  ReceiveBuffer receive;
  bool fin_requested = false;   // close_write() was called
  bool fin_sent = false;        // ngtcp2 took the FIN (or the write side is gone)
  bool flow_blocked = false;    // the peer's window is full: wait for MAX_STREAM_DATA
  bool write_cut_short = false; // a write() took less than offered: report StreamWritable
  bool locally_reset = false;
  bool fin_received = false;
  bool reset_received = false;
  bool readable_reported = false;
  bool closed = false;  // ngtcp2 is done with it; we keep it while unread data remains
};

enum class ConnectionState { handshaking, connected, closing };

struct Connection {
  Endpoint::Impl* endpoint = nullptr;
  ConnectionHandle handle = 0;
  bool inbound = false;
  UdpAddress remote;
  std::optional<PeerId> expected;  // outbound: the peer we dialled

  ngtcp2_conn* conn = nullptr;
  gnutls_session_t session = nullptr;
  ngtcp2_crypto_conn_ref conn_ref{};

  ConnectionState state = ConnectionState::handshaking;
  Instant drain_until;  // closing: when the state may be dropped
  bool close_reported = false;
  bool handshake_done_pending = false;  // set by the callback, handled after ngtcp2 returns
  std::optional<tls::VerifiedPeer> verified;
  std::string tls_failure;  // why our verification refused the peer

  std::map<StreamId, Stream> streams;
  std::uint64_t remote_streams_to_credit = 0;
  std::size_t stream_rotation = 0;  // fairness among sending streams
  bool wants_write = true;          // something may be ready to send

  // Connection ids routed to this connection, and changes ngtcp2 asked for
  // inside callbacks (applied by the endpoint afterwards).
  std::vector<std::string> route_keys;
  std::vector<std::string> route_keys_added;
  std::vector<std::string> route_keys_removed;

  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (conn != nullptr) ngtcp2_conn_del(conn);
    if (session != nullptr) gnutls_deinit(session);
  }
};

}  // namespace taho::quic
