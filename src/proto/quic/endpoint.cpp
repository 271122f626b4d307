#include "proto/quic/endpoint.hpp"

#include <gnutls/abstract.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_map>

#include "crypto/crypto_suite.hpp"
#include "proto/quic/connection.hpp"

namespace taho::quic {
namespace {

constexpr std::size_t cid_bytes = 16;         // our connection ids
constexpr std::size_t client_dcid_bytes = 18; // the random first destination id of our dials
constexpr std::size_t datagram_bytes_max = NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE;
constexpr std::size_t stream_vecs_per_write = 16;
constexpr std::size_t close_reason_bytes_max = 256;
constexpr std::string_view alpn = "libp2p";
// TLS 1.3 only, the AEADs QUIC defines, no middlebox compatibility mode (QUIC forbids it).
constexpr const char* tls_priority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "%DISABLE_TLS13_COMPAT_MODE";

ngtcp2_tstamp timestamp(Instant now) {
  return now.since_start.count() < 0 ? 0 : static_cast<ngtcp2_tstamp>(now.since_start.count());
}

std::string key_of(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// ngtcp2 speaks the OS's sockaddr (its header brings the definitions);
// ports are in network byte order.
std::uint16_t network_order(std::uint16_t port) {
  const std::uint8_t bytes[2] = {static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)};
  std::uint16_t out = 0;
  std::memcpy(&out, bytes, 2);
  return out;
}

std::uint16_t host_order(std::uint16_t port) {
  std::uint8_t bytes[2];
  std::memcpy(bytes, &port, 2);
  return static_cast<std::uint16_t>((bytes[0] << 8) | bytes[1]);
}

struct SocketAddress {
  ngtcp2_sockaddr_union storage{};
  ngtcp2_socklen length = 0;
  ngtcp2_sockaddr* get() { return &storage.sa; }
};

SocketAddress to_socket(const UdpAddress& address) {
  SocketAddress out;
  if (address.is_ipv6) {
    out.storage.in6.sin6_family = NGTCP2_AF_INET6;
    out.storage.in6.sin6_port = network_order(address.port);
    std::memcpy(&out.storage.in6.sin6_addr, address.ip.data(), 16);
    out.length = sizeof(ngtcp2_sockaddr_in6);
  } else {
    out.storage.in.sin_family = NGTCP2_AF_INET;
    out.storage.in.sin_port = network_order(address.port);
    std::memcpy(&out.storage.in.sin_addr, address.ip.data(), 4);
    out.length = sizeof(ngtcp2_sockaddr_in);
  }
  return out;
}

std::optional<UdpAddress> from_socket(const ngtcp2_addr& address) {
  if (address.addr == nullptr) return std::nullopt;
  if (address.addr->sa_family == NGTCP2_AF_INET && address.addrlen >= sizeof(ngtcp2_sockaddr_in)) {
    const auto* in4 = reinterpret_cast<const ngtcp2_sockaddr_in*>(address.addr);
    std::array<std::uint8_t, 4> octets{};
    std::memcpy(octets.data(), &in4->sin_addr, 4);
    return UdpAddress::ipv4(octets, host_order(in4->sin_port));
  }
  if (address.addr->sa_family == NGTCP2_AF_INET6 && address.addrlen >= sizeof(ngtcp2_sockaddr_in6)) {
    const auto* in6 = reinterpret_cast<const ngtcp2_sockaddr_in6*>(address.addr);
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), &in6->sin6_addr, 16);
    return UdpAddress::ipv6(bytes, host_order(in6->sin6_port));
  }
  return std::nullopt;
}

std::string close_error_text(const ngtcp2_connection_close_error& error) {
  std::string text;
  switch (error.type) {
    case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION:
      text = "application error " + std::to_string(error.error_code);
      break;
    case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_IDLE_CLOSE:
      text = "idle timeout";
      break;
    case NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT_VERSION_NEGOTIATION:
      text = "version negotiation";
      break;
    default:
      // 0x100-0x1ff: a TLS alert (RFC 9001 4.8).
      if (error.error_code >= 0x100 && error.error_code <= 0x1ff) {
        text = "TLS alert " + std::to_string(error.error_code - 0x100);
      } else if (error.error_code == NGTCP2_NO_ERROR) {
        text = "no error";
      } else {
        text = "transport error " + std::to_string(error.error_code);
      }
  }
  if (error.reason != nullptr && error.reasonlen > 0) {
    text += ": " + std::string(reinterpret_cast<const char*>(error.reason),
                               std::min<std::size_t>(error.reasonlen, close_reason_bytes_max));
  }
  return text;
}

// Self-signature of the peer's certificate, checked with GnuTLS on spans our
// own walker found (libp2p TLS: a certificate whose self-signature does not
// verify is refused).
Result<void> check_self_signature(ByteView der) {
  auto fields = tls::parse_certificate(der);
  if (!fields) return fail(fields.error().detail);
  gnutls_x509_crt_t crt = nullptr;
  if (gnutls_x509_crt_init(&crt) < 0) return fail("out of memory");
  gnutls_pubkey_t key = nullptr;
  const gnutls_datum_t datum{const_cast<unsigned char*>(der.data()), static_cast<unsigned>(der.size())};
  Result<void> outcome;
  if (int rv = gnutls_x509_crt_import(crt, &datum, GNUTLS_X509_FMT_DER); rv < 0) {
    outcome = fail(std::string("certificate import: ") + gnutls_strerror(rv));
  } else if (const int algorithm = gnutls_x509_crt_get_signature_algorithm(crt);
             algorithm <= 0 || algorithm == GNUTLS_SIGN_UNKNOWN) {
    outcome = fail("unknown self-signature algorithm");
  } else if (gnutls_pubkey_init(&key) < 0 || gnutls_pubkey_import_x509(key, crt, 0) < 0) {
    outcome = fail("the certificate key is not usable");
  } else {
    const gnutls_datum_t tbs{const_cast<unsigned char*>(fields->tbs_certificate.data()),
                             static_cast<unsigned>(fields->tbs_certificate.size())};
    const gnutls_datum_t signature{const_cast<unsigned char*>(fields->signature.data()),
                                   static_cast<unsigned>(fields->signature.size())};
    if (gnutls_pubkey_verify_data2(key, static_cast<gnutls_sign_algorithm_t>(algorithm), 0, &tbs, &signature) < 0) {
      outcome = fail("the certificate's self-signature does not verify");
    }
  }
  if (key != nullptr) gnutls_pubkey_deinit(key);
  gnutls_x509_crt_deinit(crt);
  return outcome;
}

}  // namespace

// ---------------------------------------------------------------------------

struct Endpoint::Impl {
  Options options;
  UdpAddress local;
  Instant created;
  std::int64_t unix_time_s_at_created = 0;
  PeerId local_id;
  Rng& rng;
  crypto::OpenSslCryptoSuite suite;
  gnutls_certificate_credentials_t credentials = nullptr;
  std::array<std::uint8_t, 32> reset_secret{};  // stateless reset tokens derive from it

  std::unordered_map<std::string, ConnectionHandle> routes;  // connection id -> connection
  std::map<ConnectionHandle, std::unique_ptr<Connection>> connections;
  std::deque<Transmit> transmits;
  std::deque<Event> events;
  ConnectionHandle next_handle = 1;
  ConnectionHandle last_polled = 0;
  EndpointStats stats;
  double handshake_tokens = 0;
  Instant tokens_refilled_at;
  Instant latest_now;  // the latest `now` seen: for callbacks and commands that get none

  Impl(Options o, const UdpAddress& l, Instant now, std::int64_t unix_s, PeerId id, Rng& r)
      : options(o), local(l), created(now), unix_time_s_at_created(unix_s), local_id(std::move(id)), rng(r),
        handshake_tokens(o.inbound_handshakes_per_second_max), tokens_refilled_at(now), latest_now(now) {}
  ~Impl() {
    connections.clear();
    if (credentials != nullptr) gnutls_certificate_free_credentials(credentials);
  }

  std::int64_t unix_now(Instant now) const {
    return unix_time_s_at_created + std::chrono::duration_cast<std::chrono::seconds>(now - created).count();
  }

  Connection* find(ConnectionHandle handle) {
    auto it = connections.find(handle);
    return it == connections.end() ? nullptr : it->second.get();
  }

  // --- callbacks from ngtcp2 and GnuTLS: record and queue, nothing else ---
  static ngtcp2_callbacks callbacks(bool server);
  static int on_verify_peer(gnutls_session_t session);

  // --- connection lifecycle ---
  Result<std::unique_ptr<Connection>> make_connection(bool inbound, const UdpAddress& remote);
  Result<void> start_tls(Connection& connection, bool server);
  ngtcp2_settings settings(Instant now) const;
  ngtcp2_transport_params transport_params() const;
  void settle(Connection& connection, Instant now);
  void report_closed(Connection& connection, std::string reason);
  void fail_connection(Connection& connection, Instant now, int liberr, std::string reason);
  void start_draining(Connection& connection, Instant now);
  void remove(ConnectionHandle handle);

  // --- datagrams ---
  void accept(Instant now, ByteView datagram, const UdpAddress& remote);
  void read_packet(Connection& connection, Instant now, ByteView datagram, const UdpAddress& remote);
  void write_packets(Connection& connection, Instant now);
  void send_version_negotiation(const ngtcp2_version_cid& ids, const UdpAddress& remote);
  void send_retry(Instant now, const ngtcp2_pkt_hd& header, const UdpAddress& remote);
  bool take_handshake_token(Instant now);
  std::size_t pending_inbound_handshakes() const;

  Expected<Stream*, QuicError> stream_of(ConnectionHandle handle, StreamId id, Connection** out);
};

// --- ngtcp2 callbacks --------------------------------------------------------

namespace {

Connection& connection_of(void* user_data) { return *static_cast<Connection*>(user_data); }

ngtcp2_conn* conn_from_ref(ngtcp2_crypto_conn_ref* ref) { return static_cast<Connection*>(ref->user_data)->conn; }

void fill_random(std::uint8_t* dest, std::size_t length, const ngtcp2_rand_ctx* context) {
  static_cast<Rng*>(context->native_handle)->fill({dest, length});
}

}  // namespace

ngtcp2_callbacks Endpoint::Impl::callbacks(bool server) {
  ngtcp2_callbacks cb{};
  if (server) {
    cb.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  } else {
    cb.client_initial = ngtcp2_crypto_client_initial_cb;
    cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
  }
  cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  cb.encrypt = ngtcp2_crypto_encrypt_cb;
  cb.decrypt = ngtcp2_crypto_decrypt_cb;
  cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
  cb.update_key = ngtcp2_crypto_update_key_cb;
  cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  cb.rand = fill_random;

  cb.handshake_completed = [](ngtcp2_conn*, void* user_data) {
    connection_of(user_data).handshake_done_pending = true;
    return 0;
  };
  cb.get_new_connection_id = [](ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token, std::size_t length,
                                void* user_data) {
    auto& connection = connection_of(user_data);
    connection.endpoint->rng.fill({cid->data, length});
    cid->datalen = length;
    const auto& secret = connection.endpoint->reset_secret;
    if (ngtcp2_crypto_generate_stateless_reset_token(token, secret.data(), secret.size(), cid) != 0) {
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    connection.route_keys_added.push_back(key_of(cid->data, cid->datalen));
    return 0;
  };
  cb.remove_connection_id = [](ngtcp2_conn*, const ngtcp2_cid* cid, void* user_data) {
    connection_of(user_data).route_keys_removed.push_back(key_of(cid->data, cid->datalen));
    return 0;
  };
  cb.stream_open = [](ngtcp2_conn*, std::int64_t stream_id, void* user_data) {
    auto& connection = connection_of(user_data);
    connection.streams.try_emplace(stream_id);
    connection.endpoint->events.push_back(StreamOpened{connection.handle, stream_id});
    return 0;
  };
  cb.recv_stream_data = [](ngtcp2_conn*, std::uint32_t flags, std::int64_t stream_id, std::uint64_t,
                           const std::uint8_t* data, std::size_t length, void* user_data, void*) {
    auto& connection = connection_of(user_data);
    auto& stream = connection.streams[stream_id];
    stream.receive.push({data, length});
    if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) stream.fin_received = true;
    if (!stream.readable_reported && (!stream.receive.empty() || stream.fin_received)) {
      stream.readable_reported = true;
      connection.endpoint->events.push_back(StreamReadable{connection.handle, stream_id});
    }
    return 0;
  };
  cb.acked_stream_data_offset = [](ngtcp2_conn*, std::int64_t stream_id, std::uint64_t offset,
                                   std::uint64_t length, void* user_data, void*) {
    auto& connection = connection_of(user_data);
    auto it = connection.streams.find(stream_id);
    if (it == connection.streams.end()) return 0;
    auto& stream = it->second;
    stream.send.acknowledge_until(offset + length);
    if (stream.write_cut_short &&
        stream.send.buffered() < connection.endpoint->options.stream_send_buffer_bytes_max) {
      stream.write_cut_short = false;
      connection.endpoint->events.push_back(StreamWritable{connection.handle, stream_id});
    }
    return 0;
  };
  cb.extend_max_local_streams_bidi = [](ngtcp2_conn*, std::uint64_t, void* user_data) {
    auto& connection = connection_of(user_data);
    connection.endpoint->events.push_back(StreamCredit{connection.handle});
    return 0;
  };
  cb.extend_max_stream_data = [](ngtcp2_conn*, std::int64_t stream_id, std::uint64_t, void* user_data, void*) {
    auto& connection = connection_of(user_data);
    if (auto it = connection.streams.find(stream_id); it != connection.streams.end()) it->second.flow_blocked = false;
    connection.wants_write = true;
    return 0;
  };
  cb.stream_reset = [](ngtcp2_conn*, std::int64_t stream_id, std::uint64_t, std::uint64_t app_error_code,
                       void* user_data, void*) {
    auto& connection = connection_of(user_data);
    auto& stream = connection.streams[stream_id];
    stream.reset_received = true;
    connection.endpoint->events.push_back(StreamReset{connection.handle, stream_id, app_error_code});
    if (!stream.readable_reported) {
      stream.readable_reported = true;  // a read now reports the reset
      connection.endpoint->events.push_back(StreamReadable{connection.handle, stream_id});
    }
    return 0;
  };
  cb.stream_close = [](ngtcp2_conn* conn, std::uint32_t flags, std::int64_t stream_id, std::uint64_t app_error_code,
                       void* user_data, void*) {
    auto& connection = connection_of(user_data);
    std::optional<std::uint64_t> code;
    if (flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) code = app_error_code;
    connection.endpoint->events.push_back(StreamClosed{connection.handle, stream_id, code});
    if (!ngtcp2_conn_is_local_stream(conn, stream_id)) ++connection.remote_streams_to_credit;
    auto it = connection.streams.find(stream_id);
    if (it != connection.streams.end()) {
      it->second.closed = true;
      it->second.send.clear();
      if (it->second.receive.empty()) connection.streams.erase(it);
    }
    return 0;
  };
  return cb;
}

int Endpoint::Impl::on_verify_peer(gnutls_session_t session) {
  auto* ref = static_cast<ngtcp2_crypto_conn_ref*>(gnutls_session_get_ptr(session));
  auto& connection = *static_cast<Connection*>(ref->user_data);
  unsigned count = 0;
  const gnutls_datum_t* certificates = gnutls_certificate_get_peers(session, &count);
  if (certificates == nullptr || count == 0) {
    connection.tls_failure = "the peer presented no certificate";
    return -1;
  }
  if (count != 1) {
    connection.tls_failure = "the peer presented " + std::to_string(count) + " certificates; libp2p allows one";
    return -1;
  }
  const ByteView der(certificates[0].data, certificates[0].size);
  Impl& endpoint = *connection.endpoint;
  auto verified = tls::verify_certificate(der, endpoint.unix_now(endpoint.latest_now), connection.expected,
                                          endpoint.suite);
  if (!verified) {
    connection.tls_failure = std::string(tls::to_string(verified.error().code)) + ": " + verified.error().detail;
    return -1;
  }
  if (auto self_signed = check_self_signature(der); !self_signed) {
    connection.tls_failure = "bad_certificate: " + self_signed.error().text;
    return -1;
  }
  connection.verified = std::move(*verified);
  return 0;
}

// --- setup -------------------------------------------------------------------

ngtcp2_settings Endpoint::Impl::settings(Instant now) const {
  ngtcp2_settings s;
  ngtcp2_settings_default(&s);
  s.initial_ts = timestamp(now);
  s.rand_ctx.native_handle = &rng;
  s.max_window = options.connection_window_max_bytes;
  s.max_stream_window = options.stream_window_max_bytes;
  s.handshake_timeout = static_cast<ngtcp2_duration>(options.handshake_timeout.count());
  s.max_tx_udp_payload_size = datagram_bytes_max;
  return s;
}

ngtcp2_transport_params Endpoint::Impl::transport_params() const {
  ngtcp2_transport_params p;
  ngtcp2_transport_params_default(&p);
  p.initial_max_stream_data_bidi_local = options.stream_window_initial_bytes;
  p.initial_max_stream_data_bidi_remote = options.stream_window_initial_bytes;
  p.initial_max_stream_data_uni = 0;
  p.initial_max_data = options.connection_window_initial_bytes;
  p.initial_max_streams_bidi = options.streams_per_connection_max;
  p.initial_max_streams_uni = 0;  // libp2p uses bidirectional streams only
  p.max_idle_timeout = static_cast<ngtcp2_duration>(options.idle_timeout.count());
  p.active_connection_id_limit = 4;
  return p;
}

Result<void> Endpoint::Impl::start_tls(Connection& connection, bool server) {
  unsigned flags = (server ? GNUTLS_SERVER : GNUTLS_CLIENT) | GNUTLS_NO_END_OF_EARLY_DATA;
  if (int rv = gnutls_init(&connection.session, flags); rv < 0) {
    return fail(std::string("gnutls_init: ") + gnutls_strerror(rv));
  }
  const char* error_at = nullptr;
  if (int rv = gnutls_priority_set_direct(connection.session, tls_priority, &error_at); rv < 0) {
    return fail(std::string("TLS priority: ") + gnutls_strerror(rv));
  }
  const int configured = server ? ngtcp2_crypto_gnutls_configure_server_session(connection.session)
                                : ngtcp2_crypto_gnutls_configure_client_session(connection.session);
  if (configured != 0) return fail("ngtcp2 could not configure the TLS session");
  connection.conn_ref.get_conn = conn_from_ref;
  connection.conn_ref.user_data = &connection;
  gnutls_session_set_ptr(connection.session, &connection.conn_ref);
  if (int rv = gnutls_credentials_set(connection.session, GNUTLS_CRD_CERTIFICATE, credentials); rv < 0) {
    return fail(std::string("TLS credentials: ") + gnutls_strerror(rv));
  }
  // libp2p TLS: the server requires the client's certificate.
  if (server) gnutls_certificate_server_set_request(connection.session, GNUTLS_CERT_REQUIRE);
  gnutls_session_set_verify_function(connection.session, on_verify_peer);
  gnutls_datum_t protocol{reinterpret_cast<unsigned char*>(const_cast<char*>(alpn.data())),
                          static_cast<unsigned>(alpn.size())};
  if (int rv = gnutls_alpn_set_protocols(connection.session, &protocol, 1, GNUTLS_ALPN_MANDATORY); rv < 0) {
    return fail(std::string("ALPN: ") + gnutls_strerror(rv));
  }
  // No SNI: libp2p TLS clients must not send one.
  ngtcp2_conn_set_tls_native_handle(connection.conn, connection.session);
  return {};
}

std::size_t Endpoint::Impl::pending_inbound_handshakes() const {
  std::size_t count = 0;
  for (const auto& [handle, connection] : connections) {
    if (connection->inbound && connection->state == ConnectionState::handshaking) ++count;
  }
  return count;
}

bool Endpoint::Impl::take_handshake_token(Instant now) {
  const double rate = options.inbound_handshakes_per_second_max;
  const double elapsed = std::chrono::duration<double>(now - tokens_refilled_at).count();
  if (elapsed > 0) {
    handshake_tokens = std::min(rate, handshake_tokens + elapsed * rate);
    tokens_refilled_at = now;
  }
  if (handshake_tokens < 1.0) return false;
  handshake_tokens -= 1.0;
  return true;
}

// Applies what callbacks recorded, once ngtcp2 has returned.
void Endpoint::Impl::settle(Connection& connection, Instant now) {
  for (auto& key : connection.route_keys_added) {
    // A colliding id (a peer reusing another connection's) never steals a route.
    if (routes.try_emplace(key, connection.handle).second) connection.route_keys.push_back(std::move(key));
  }
  connection.route_keys_added.clear();
  for (const auto& key : connection.route_keys_removed) {
    if (auto it = routes.find(key); it != routes.end() && it->second == connection.handle) routes.erase(it);
  }
  connection.route_keys_removed.clear();
  if (connection.remote_streams_to_credit > 0 && connection.state != ConnectionState::closing) {
    ngtcp2_conn_extend_max_streams_bidi(connection.conn, connection.remote_streams_to_credit);
    connection.remote_streams_to_credit = 0;
  }
  if (connection.handshake_done_pending && connection.state == ConnectionState::handshaking) {
    connection.handshake_done_pending = false;
    const unsigned char* selected = nullptr;
    gnutls_datum_t protocol{};
    if (gnutls_alpn_get_selected_protocol(connection.session, &protocol) == 0) selected = protocol.data;
    const bool alpn_ok = selected != nullptr && as_text({selected, protocol.size}) == alpn;
    // Both are enforced inside the handshake already (verify function,
    // mandatory ALPN); checked again because a connection without them must
    // never be announced.
    if (!connection.verified) {
      connection.tls_failure = "handshake completed without a verified peer certificate";
      fail_connection(connection, now, NGTCP2_ERR_CRYPTO, {});
    } else if (!alpn_ok) {
      connection.tls_failure = "ALPN is not \"libp2p\"";
      fail_connection(connection, now, NGTCP2_ERR_CRYPTO, {});
    } else {
      connection.state = ConnectionState::connected;
      ngtcp2_conn_set_keep_alive_timeout(connection.conn,
                                         static_cast<ngtcp2_duration>(options.keep_alive_interval.count()));
      ++stats.handshakes_completed;
      events.push_back(Connected{connection.handle, connection.verified->peer_id, connection.verified->public_key,
                                 connection.remote, connection.inbound});
    }
  }
}

void Endpoint::Impl::report_closed(Connection& connection, std::string reason) {
  if (connection.close_reported) return;
  connection.close_reported = true;
  const bool was_connected = connection.state == ConnectionState::connected;
  if (!was_connected) ++stats.handshakes_failed;
  events.push_back(ConnectionClosed{connection.handle, std::move(reason), was_connected});
}

void Endpoint::Impl::start_draining(Connection& connection, Instant now) {
  // RFC 9000 10.2: keep absorbing the peer's packets for three PTOs.
  connection.state = ConnectionState::closing;
  connection.drain_until = now + Duration(static_cast<Duration::rep>(3 * ngtcp2_conn_get_pto(connection.conn)));
}

// Closes with a CONNECTION_CLOSE carrying `liberr` (or the TLS alert for a
// handshake failure), reports `reason` and drains.
void Endpoint::Impl::fail_connection(Connection& connection, Instant now, int liberr, std::string reason) {
  if (connection.state == ConnectionState::closing) return;
  ngtcp2_connection_close_error error;
  ngtcp2_connection_close_error_default(&error);
  const std::string phrase = connection.tls_failure.substr(0, close_reason_bytes_max);
  const auto* phrase_bytes = reinterpret_cast<const std::uint8_t*>(phrase.data());
  if (liberr == NGTCP2_ERR_CRYPTO) {
    std::uint8_t alert = ngtcp2_conn_get_tls_alert(connection.conn);
    if (alert == 0) alert = 42;  // bad_certificate: the usual reason we fail a handshake
    ngtcp2_connection_close_error_set_transport_error_tls_alert(&error, alert, phrase_bytes, phrase.size());
  } else {
    ngtcp2_connection_close_error_set_transport_error_liberr(&error, liberr, phrase_bytes, phrase.size());
  }
  std::array<std::uint8_t, datagram_bytes_max> buffer{};
  ngtcp2_path_storage path;
  ngtcp2_path_storage_zero(&path);
  ngtcp2_pkt_info info{};
  const auto written = ngtcp2_conn_write_connection_close(connection.conn, &path.path, &info, buffer.data(),
                                                          buffer.size(), &error, timestamp(now));
  if (written > 0) {
    transmits.push_back(Transmit{connection.remote, Bytes(buffer.begin(), buffer.begin() + written)});
  }
  if (!connection.tls_failure.empty()) reason = "handshake failed: " + connection.tls_failure;
  report_closed(connection, std::move(reason));
  start_draining(connection, now);
}

void Endpoint::Impl::remove(ConnectionHandle handle) {
  auto it = connections.find(handle);
  if (it == connections.end()) return;
  for (const auto& key : it->second->route_keys) {
    if (auto route = routes.find(key); route != routes.end() && route->second == handle) routes.erase(route);
  }
  connections.erase(it);
}

Result<std::unique_ptr<Connection>> Endpoint::Impl::make_connection(bool inbound, const UdpAddress& remote) {
  if (remote.is_ipv6 != local.is_ipv6) return fail("address family differs from the socket's");
  auto connection = std::make_unique<Connection>();
  connection->endpoint = this;
  connection->handle = next_handle++;
  connection->inbound = inbound;
  connection->remote = remote;
  return connection;
}

// --- datagrams ---------------------------------------------------------------

void Endpoint::Impl::send_version_negotiation(const ngtcp2_version_cid& ids, const UdpAddress& remote) {
  std::array<std::uint8_t, 256 + 2 * 255> buffer{};
  std::uint8_t unused = 0;
  rng.fill({&unused, 1});
  const std::uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
  const auto written = ngtcp2_pkt_write_version_negotiation(buffer.data(), buffer.size(), unused, ids.scid,
                                                            ids.scidlen, ids.dcid, ids.dcidlen, versions, 1);
  if (written <= 0) return;
  ++stats.version_negotiations_sent;
  transmits.push_back(Transmit{remote, Bytes(buffer.begin(), buffer.begin() + written)});
}

void Endpoint::Impl::send_retry(Instant now, const ngtcp2_pkt_hd& header, const UdpAddress& remote) {
  ngtcp2_cid retry_scid;
  retry_scid.datalen = cid_bytes;
  rng.fill({retry_scid.data, cid_bytes});
  auto remote_socket = to_socket(remote);
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN> token{};
  const auto token_bytes = ngtcp2_crypto_generate_retry_token(token.data(), reset_secret.data(), reset_secret.size(),
                                                              header.version, remote_socket.get(),
                                                              remote_socket.length, &retry_scid, &header.dcid,
                                                              timestamp(now));
  if (token_bytes < 0) return;
  std::array<std::uint8_t, NGTCP2_MAX_UDP_PAYLOAD_SIZE> buffer{};
  const auto written = ngtcp2_crypto_write_retry(buffer.data(), buffer.size(), header.version, &header.scid, &retry_scid,
                                                 &header.dcid, token.data(), static_cast<std::size_t>(token_bytes));
  if (written <= 0) return;
  ++stats.retries_sent;
  transmits.push_back(Transmit{remote, Bytes(buffer.begin(), buffer.begin() + written)});
}

void Endpoint::Impl::accept(Instant now, ByteView datagram, const UdpAddress& remote) {
  ngtcp2_pkt_hd header{};
  if (ngtcp2_accept(&header, datagram.data(), datagram.size()) != 0) {
    ++stats.garbage_dropped;
    return;
  }
  // A Retry token proves the client owns its address; without one, and
  // under load, ask for one before committing any state.
  std::optional<ngtcp2_cid> original_dcid;
  if (header.token.len > 0 && header.token.base[0] == NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) {
    auto remote_socket = to_socket(remote);
    ngtcp2_cid odcid{};
    if (ngtcp2_crypto_verify_retry_token(&odcid, header.token.base, header.token.len, reset_secret.data(),
                                         reset_secret.size(), header.version, remote_socket.get(),
                                         remote_socket.length, &header.dcid,
                                         static_cast<ngtcp2_duration>(options.retry_token_lifetime.count()),
                                         timestamp(now)) != 0) {
      ++stats.retry_tokens_refused;
      return;
    }
    original_dcid = odcid;
  } else if (pending_inbound_handshakes() >= options.retry_above_pending_handshakes &&
             pending_inbound_handshakes() < options.pending_handshakes_max) {
    if (take_handshake_token(now)) send_retry(now, header, remote);
    else ++stats.initials_refused_rate;
    return;
  }
  if (connections.size() >= options.connections_max) {
    ++stats.initials_refused_capacity;
    return;
  }
  if (pending_inbound_handshakes() >= options.pending_handshakes_max) {
    ++stats.initials_refused_pending;
    return;
  }
  if (!take_handshake_token(now)) {
    ++stats.initials_refused_rate;
    return;
  }
  auto made = make_connection(true, remote);
  if (!made) {
    ++stats.garbage_dropped;
    return;
  }
  auto connection = std::move(*made);
  ngtcp2_cid scid;
  scid.datalen = cid_bytes;
  rng.fill({scid.data, cid_bytes});
  auto local_socket = to_socket(local);
  auto remote_socket = to_socket(remote);
  const ngtcp2_path path{{local_socket.get(), local_socket.length}, {remote_socket.get(), remote_socket.length}, nullptr};
  const auto cb = callbacks(true);
  auto s = settings(now);
  auto params = transport_params();
  params.original_dcid = header.dcid;  // ngtcp2 0.12 needs it from us (INTEROP-NOTES.md)
  if (original_dcid) {
    params.original_dcid = *original_dcid;
    params.retry_scid = header.dcid;
    params.retry_scid_present = 1;
    s.token = header.token;
  }
  params.stateless_reset_token_present = 1;
  if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token, reset_secret.data(),
                                                   reset_secret.size(), &scid) != 0) {
    return;
  }
  if (ngtcp2_conn_server_new(&connection->conn, &header.scid, &scid, &path, header.version, &cb, &s, &params, nullptr,
                             connection.get()) != 0) {
    return;
  }
  if (auto started = start_tls(*connection, true); !started) return;
  connection->route_keys_added.push_back(key_of(scid.data, scid.datalen));
  connection->route_keys_added.push_back(key_of(header.dcid.data, header.dcid.datalen));
  Connection& added = *connections.emplace(connection->handle, std::move(connection)).first->second;
  settle(added, now);
  read_packet(added, now, datagram, remote);
}

void Endpoint::Impl::read_packet(Connection& connection, Instant now, ByteView datagram, const UdpAddress& remote) {
  if (connection.state == ConnectionState::closing) return;  // draining: absorb
  auto local_socket = to_socket(local);
  auto remote_socket = to_socket(remote);
  const ngtcp2_path path{{local_socket.get(), local_socket.length}, {remote_socket.get(), remote_socket.length}, nullptr};
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(connection.conn, &path, &info, datagram.data(), datagram.size(), timestamp(now));
  settle(connection, now);
  connection.wants_write = true;
  if (rv == 0) return;
  if (rv == NGTCP2_ERR_DRAINING) {
    ngtcp2_connection_close_error error;
    ngtcp2_conn_get_connection_close_error(connection.conn, &error);
    report_closed(connection, "closed by peer: " + close_error_text(error));
    start_draining(connection, now);
    return;
  }
  if (rv == NGTCP2_ERR_DROP_CONN || rv == NGTCP2_ERR_RETRY) {
    report_closed(connection, std::string("dropped: ") + ngtcp2_strerror(rv));
    remove(connection.handle);
    return;
  }
  if (rv == NGTCP2_ERR_DISCARD_PKT) return;
  fail_connection(connection, now, rv, std::string("protocol error: ") + ngtcp2_strerror(rv));
}

void Endpoint::Impl::write_packets(Connection& connection, Instant now) {
  connection.wants_write = false;
  if (connection.state == ConnectionState::closing) return;
  const ngtcp2_tstamp ts = timestamp(now);

  // Streams with something to send, starting at a rotating position.
  std::vector<StreamId> order;
  for (const auto& [id, stream] : connection.streams) {
    if (!stream.closed && !stream.locally_reset && !stream.flow_blocked && !stream.fin_sent &&
        (stream.send.unsent() > 0 || stream.fin_requested)) {
      order.push_back(id);
    }
  }
  if (!order.empty()) {
    std::rotate(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(connection.stream_rotation++ % order.size()),
                order.end());
  }
  const auto sendable = [](const Stream& stream) {
    return !stream.closed && !stream.locally_reset && !stream.flow_blocked && !stream.fin_sent &&
           (stream.send.unsent() > 0 || stream.fin_requested);
  };

  std::array<std::uint8_t, datagram_bytes_max> buffer{};
  ngtcp2_path_storage path;
  ngtcp2_path_storage_zero(&path);
  ngtcp2_pkt_info info{};
  std::size_t cursor = 0;
  std::size_t produced = 0;
  while (produced < options.datagrams_per_round_max) {
    Stream* stream = nullptr;
    StreamId stream_id = -1;
    while (cursor < order.size()) {
      auto it = connection.streams.find(order[cursor]);
      if (it != connection.streams.end() && sendable(it->second)) {
        stream = &it->second;
        stream_id = it->first;
        break;
      }
      ++cursor;
    }
    std::array<ByteView, stream_vecs_per_write> views;
    std::array<ngtcp2_vec, stream_vecs_per_write> vecs{};
    std::size_t vec_count = 0;
    std::size_t vec_bytes = 0;
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_NONE;
    if (stream != nullptr) {
      vec_count = stream->send.unsent_views(views);
      for (std::size_t i = 0; i < vec_count; ++i) {
        vecs[i] = ngtcp2_vec{const_cast<std::uint8_t*>(views[i].data()), views[i].size()};
        vec_bytes += views[i].size();
      }
      if (stream->fin_requested && vec_bytes == stream->send.unsent()) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
      // Never MORE with nothing to add (INTEROP-NOTES.md): a bare FIN closes the packet.
      if (vec_bytes > 0) flags |= NGTCP2_WRITE_STREAM_FLAG_MORE;
    }
    ngtcp2_ssize stream_bytes = -1;
    const ngtcp2_ssize written =
        ngtcp2_conn_writev_stream(connection.conn, &path.path, &info, buffer.data(), buffer.size(), &stream_bytes,
                                  flags, stream_id, vec_count > 0 ? vecs.data() : nullptr, vec_count, ts);
    const auto account = [&] {
      if (stream == nullptr || stream_bytes < 0) return;
      stream->send.mark_sent(static_cast<std::size_t>(stream_bytes));
      if ((flags & NGTCP2_WRITE_STREAM_FLAG_FIN) && static_cast<std::size_t>(stream_bytes) == vec_bytes) {
        stream->fin_sent = true;
      }
    };
    if (written == NGTCP2_ERR_WRITE_MORE) {
      // The packet has room left: keep filling it (it must be finished
      // before any other ngtcp2 call).
      account();
      if (stream_bytes <= 0 && !(stream != nullptr && stream->fin_sent)) ++cursor;  // no progress: next stream
      continue;
    }
    if (written == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
      stream->flow_blocked = true;
      ++cursor;
      continue;
    }
    if (written == NGTCP2_ERR_STREAM_SHUT_WR || written == NGTCP2_ERR_STREAM_NOT_FOUND) {
      stream->fin_sent = true;  // nothing more can go out on it
      ++cursor;
      continue;
    }
    if (written == NGTCP2_ERR_IDLE_CLOSE) {
      report_closed(connection, "idle timeout");
      start_draining(connection, now);
      connection.drain_until = now;
      return;
    }
    if (written < 0) {
      fail_connection(connection, now, static_cast<int>(written),
                      std::string("cannot write: ") + ngtcp2_strerror(static_cast<int>(written)));
      return;
    }
    account();
    if (written == 0) break;  // congestion- or pacing-limited, or nothing to send
    const auto destination = from_socket(path.path.remote);
    transmits.push_back(Transmit{destination.value_or(connection.remote),
                                 Bytes(buffer.begin(), buffer.begin() + written)});
    ++produced;
  }
  // Pacing starts once connected: before the first RTT sample ngtcp2 paces
  // at initial_rtt (333 ms), which would hold our handshake flight back by
  // tens of milliseconds.
  if (connection.state == ConnectionState::connected) ngtcp2_conn_update_pkt_tx_time(connection.conn, ts);
  connection.wants_write = produced == options.datagrams_per_round_max;
}

Expected<Stream*, QuicError> Endpoint::Impl::stream_of(ConnectionHandle handle, StreamId id, Connection** out) {
  Connection* connection = find(handle);
  if (connection == nullptr || connection->state == ConnectionState::closing) {
    return unexpected(QuicError{Errc::unknown_connection, "no open connection " + std::to_string(handle)});
  }
  auto it = connection->streams.find(id);
  if (it == connection->streams.end()) {
    return unexpected(QuicError{Errc::unknown_stream, "no stream " + std::to_string(id)});
  }
  *out = connection;
  return &it->second;
}

// --- Endpoint ----------------------------------------------------------------

Result<std::unique_ptr<Endpoint>> Endpoint::create(Instant now, std::int64_t unix_time_s_at_now,
                                                   const UdpAddress& local, const crypto::Ed25519KeyPair& host,
                                                   Rng& rng, Options options, std::optional<Certificate> certificate) {
  if (!certificate) {
    auto generated = generate_certificate(host);
    if (!generated) return unexpected(std::move(generated).error());
    certificate = std::move(*generated);
  }
  auto impl = std::make_unique<Impl>(options, local, now, unix_time_s_at_now, PeerId::from_ed25519(host.public_key()),
                                     rng);
  impl->latest_now = now;
  rng.fill(impl->reset_secret);
  if (int rv = gnutls_certificate_allocate_credentials(&impl->credentials); rv < 0) {
    return fail(std::string("TLS credentials: ") + gnutls_strerror(rv));
  }
  const gnutls_datum_t cert{certificate->der.data(), static_cast<unsigned>(certificate->der.size())};
  const gnutls_datum_t key{certificate->private_key_pkcs8_der.data(),
                           static_cast<unsigned>(certificate->private_key_pkcs8_der.size())};
  if (int rv = gnutls_certificate_set_x509_key_mem2(impl->credentials, &cert, &key, GNUTLS_X509_FMT_DER, nullptr,
                                                    GNUTLS_PKCS_PLAIN);
      rv < 0) {
    return fail(std::string("TLS certificate: ") + gnutls_strerror(rv));
  }
  return std::unique_ptr<Endpoint>(new Endpoint(std::move(impl)));
}

Endpoint::Endpoint(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Endpoint::~Endpoint() = default;

const PeerId& Endpoint::local_peer_id() const { return impl_->local_id; }
const UdpAddress& Endpoint::local_address() const { return impl_->local; }
std::size_t Endpoint::connection_count() const { return impl_->connections.size(); }
const EndpointStats& Endpoint::stats() const { return impl_->stats; }

void Endpoint::handle_datagram(Instant now, ByteView datagram, const UdpAddress& remote) {
  Impl& impl = *impl_;
  impl.latest_now = std::max(impl.latest_now, now);
  ++impl.stats.datagrams_received;
  if (datagram.empty()) {
    ++impl.stats.garbage_dropped;
    return;
  }
  ngtcp2_version_cid ids{};
  const int rv = ngtcp2_pkt_decode_version_cid(&ids, datagram.data(), datagram.size(), cid_bytes);
  if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
    // Only for datagrams a client could have sent as a first Initial, and
    // within the handshake rate: a reply is no amplification tool.
    if (datagram.size() >= NGTCP2_MAX_UDP_PAYLOAD_SIZE && impl.take_handshake_token(now)) {
      impl.send_version_negotiation(ids, remote);
    } else {
      ++impl.stats.garbage_dropped;
    }
    return;
  }
  if (rv != 0 || ids.dcidlen > NGTCP2_MAX_CIDLEN) {
    ++impl.stats.garbage_dropped;
    return;
  }
  if (auto route = impl.routes.find(key_of(ids.dcid, ids.dcidlen)); route != impl.routes.end()) {
    if (Connection* connection = impl.find(route->second)) {
      impl.read_packet(*connection, now, datagram, remote);
      return;
    }
  }
  if (ids.version != 0) {  // a long header for no connection: maybe a new client
    impl.accept(now, datagram, remote);
    return;
  }
  ++impl.stats.garbage_dropped;
}

void Endpoint::handle_timeout(Instant now) {
  Impl& impl = *impl_;
  impl.latest_now = std::max(impl.latest_now, now);
  std::vector<ConnectionHandle> handles;
  handles.reserve(impl.connections.size());
  for (const auto& [handle, connection] : impl.connections) handles.push_back(handle);
  for (const ConnectionHandle handle : handles) {
    Connection* connection = impl.find(handle);
    if (connection == nullptr) continue;
    if (connection->state == ConnectionState::closing) {
      if (now >= connection->drain_until) impl.remove(handle);
      continue;
    }
    if (ngtcp2_conn_get_expiry(connection->conn) > timestamp(now)) continue;
    const int rv = ngtcp2_conn_handle_expiry(connection->conn, timestamp(now));
    impl.settle(*connection, now);
    connection->wants_write = true;
    if (rv == NGTCP2_ERR_IDLE_CLOSE || rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
      impl.report_closed(*connection, rv == NGTCP2_ERR_IDLE_CLOSE ? "idle timeout" : "handshake timed out");
      impl.remove(handle);  // silently: the peer has given up too, or will
    } else if (rv < 0) {
      impl.fail_connection(*connection, now, rv, std::string("timer: ") + ngtcp2_strerror(rv));
    }
  }
}

std::optional<Transmit> Endpoint::poll_transmit(Instant now) {
  Impl& impl = *impl_;
  impl.latest_now = std::max(impl.latest_now, now);
  if (impl.transmits.empty() && !impl.connections.empty()) {
    // Round-robin over connections so one busy sender cannot starve the rest.
    auto start = impl.connections.upper_bound(impl.last_polled);
    for (std::size_t visited = 0; visited < impl.connections.size() && impl.transmits.empty(); ++visited) {
      if (start == impl.connections.end()) start = impl.connections.begin();
      Connection& connection = *start->second;
      impl.last_polled = start->first;
      ++start;
      if (connection.wants_write) impl.write_packets(connection, now);
    }
  }
  if (impl.transmits.empty()) return std::nullopt;
  Transmit next = std::move(impl.transmits.front());
  impl.transmits.pop_front();
  ++impl.stats.datagrams_sent;
  return next;
}

std::optional<Event> Endpoint::poll_event() {
  if (impl_->events.empty()) return std::nullopt;
  Event next = std::move(impl_->events.front());
  impl_->events.pop_front();
  return next;
}

std::optional<Instant> Endpoint::next_timeout() const {
  std::optional<Instant> earliest;
  for (const auto& [handle, connection] : impl_->connections) {
    Instant when;
    if (connection->state == ConnectionState::closing) {
      when = connection->drain_until;
    } else {
      const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(connection->conn);
      if (expiry == UINT64_MAX) continue;
      when = Instant{Duration(static_cast<Duration::rep>(expiry))};
    }
    if (!earliest || when < *earliest) earliest = when;
  }
  return earliest;
}

Result<ConnectionHandle> Endpoint::connect(Instant now, const UdpAddress& remote, const PeerId& expected) {
  Impl& impl = *impl_;
  impl.latest_now = std::max(impl.latest_now, now);
  if (impl.connections.size() >= impl.options.connections_max) return fail("over connections_max");
  auto made = impl.make_connection(false, remote);
  if (!made) return unexpected(std::move(made).error());
  auto connection = std::move(*made);
  connection->expected = expected;
  ngtcp2_cid scid;
  ngtcp2_cid dcid;
  scid.datalen = cid_bytes;
  dcid.datalen = client_dcid_bytes;
  impl.rng.fill({scid.data, cid_bytes});
  impl.rng.fill({dcid.data, client_dcid_bytes});
  auto local_socket = to_socket(impl.local);
  auto remote_socket = to_socket(remote);
  const ngtcp2_path path{{local_socket.get(), local_socket.length}, {remote_socket.get(), remote_socket.length}, nullptr};
  const auto cb = Impl::callbacks(false);
  const auto s = impl.settings(now);
  const auto params = impl.transport_params();
  if (int rv = ngtcp2_conn_client_new(&connection->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &s, &params,
                                      nullptr, connection.get());
      rv != 0) {
    return fail(std::string("ngtcp2_conn_client_new: ") + ngtcp2_strerror(rv));
  }
  if (auto started = impl.start_tls(*connection, false); !started) return unexpected(std::move(started).error());
  connection->route_keys_added.push_back(key_of(scid.data, scid.datalen));
  const ConnectionHandle handle = connection->handle;
  Connection& added = *impl.connections.emplace(handle, std::move(connection)).first->second;
  impl.settle(added, now);
  return handle;
}

void Endpoint::close(ConnectionHandle handle, std::uint64_t error_code, std::string_view reason) {
  Impl& impl = *impl_;
  Connection* connection = impl.find(handle);
  if (connection == nullptr || connection->state == ConnectionState::closing) return;
  ngtcp2_connection_close_error error;
  ngtcp2_connection_close_error_default(&error);
  const std::string phrase(reason.substr(0, close_reason_bytes_max));
  ngtcp2_connection_close_error_set_application_error(
      &error, error_code, reinterpret_cast<const std::uint8_t*>(phrase.data()), phrase.size());
  std::array<std::uint8_t, datagram_bytes_max> buffer{};
  ngtcp2_path_storage path;
  ngtcp2_path_storage_zero(&path);
  ngtcp2_pkt_info info{};
  const Instant now = impl.latest_now;
  const auto written = ngtcp2_conn_write_connection_close(connection->conn, &path.path, &info, buffer.data(),
                                                          buffer.size(), &error, timestamp(now));
  if (written > 0) {
    impl.transmits.push_back(Transmit{connection->remote, Bytes(buffer.begin(), buffer.begin() + written)});
  }
  impl.report_closed(*connection, "closed locally");
  impl.start_draining(*connection, now);
}

Expected<StreamId, QuicError> Endpoint::open_stream(ConnectionHandle handle) {
  Connection* connection = impl_->find(handle);
  if (connection == nullptr || connection->state == ConnectionState::closing) {
    return unexpected(QuicError{Errc::unknown_connection, "no open connection " + std::to_string(handle)});
  }
  if (connection->state != ConnectionState::connected) {
    return unexpected(QuicError{Errc::not_connected, "the handshake has not completed"});
  }
  std::int64_t id = -1;
  const int rv = ngtcp2_conn_open_bidi_stream(connection->conn, &id, nullptr);
  if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
    return unexpected(QuicError{Errc::stream_limit, "the peer allows no more streams for now"});
  }
  if (rv != 0) return unexpected(QuicError{Errc::internal, ngtcp2_strerror(rv)});
  connection->streams.try_emplace(id);
  return id;
}

Expected<std::size_t, QuicError> Endpoint::write(ConnectionHandle handle, StreamId id, ByteView data) {
  Connection* connection = nullptr;
  auto stream = impl_->stream_of(handle, id, &connection);
  if (!stream) return unexpected(std::move(stream).error());
  Stream& s = **stream;
  if (s.fin_requested || s.locally_reset || s.closed) {
    return unexpected(QuicError{Errc::stream_closed, "the stream's write side is closed"});
  }
  const std::size_t limit = impl_->options.stream_send_buffer_bytes_max;
  const std::size_t room = s.send.buffered() >= limit ? 0 : limit - s.send.buffered();
  const std::size_t taken = std::min(room, data.size());
  s.send.push(data.first(taken));
  if (taken < data.size()) s.write_cut_short = true;
  if (taken > 0) connection->wants_write = true;
  return taken;
}

Expected<ReadResult, QuicError> Endpoint::read(ConnectionHandle handle, StreamId id, std::size_t bytes_max) {
  Connection* connection = nullptr;
  auto stream = impl_->stream_of(handle, id, &connection);
  if (!stream) return unexpected(std::move(stream).error());
  Stream& s = **stream;
  if (s.reset_received && s.receive.empty()) {
    if (s.closed) connection->streams.erase(id);
    return unexpected(QuicError{Errc::stream_reset, "the peer reset the stream"});
  }
  ReadResult result;
  result.data = s.receive.take(bytes_max);
  if (!result.data.empty() && !s.closed && connection->state == ConnectionState::connected) {
    // Reading is what grants the peer more window: the buffer stays bounded.
    ngtcp2_conn_extend_max_stream_offset(connection->conn, id, result.data.size());
    ngtcp2_conn_extend_max_offset(connection->conn, result.data.size());
    connection->wants_write = true;
  } else if (!result.data.empty() && connection->state == ConnectionState::connected) {
    ngtcp2_conn_extend_max_offset(connection->conn, result.data.size());
    connection->wants_write = true;
  }
  result.finished = s.fin_received && s.receive.empty();
  if (s.receive.empty()) s.readable_reported = false;
  if (s.closed && s.receive.empty()) connection->streams.erase(id);
  return result;
}

Expected<void, QuicError> Endpoint::close_write(ConnectionHandle handle, StreamId id) {
  Connection* connection = nullptr;
  auto stream = impl_->stream_of(handle, id, &connection);
  if (!stream) return unexpected(std::move(stream).error());
  (*stream)->fin_requested = true;
  connection->wants_write = true;
  return {};
}

Expected<void, QuicError> Endpoint::reset_stream(ConnectionHandle handle, StreamId id, std::uint64_t error_code) {
  Connection* connection = nullptr;
  auto stream = impl_->stream_of(handle, id, &connection);
  if (!stream) return unexpected(std::move(stream).error());
  Stream& s = **stream;
  if (!s.closed) ngtcp2_conn_shutdown_stream(connection->conn, id, error_code);
  s.locally_reset = true;
  s.send.clear();  // ngtcp2 dropped its references to unacknowledged data
  connection->wants_write = true;
  return {};
}

std::optional<ConnectionInfo> Endpoint::connection_info(ConnectionHandle handle) const {
  Connection* connection = impl_->find(handle);
  if (connection == nullptr || connection->state != ConnectionState::connected || !connection->verified) {
    return std::nullopt;
  }
  ngtcp2_conn_stat stat{};
  ngtcp2_conn_get_conn_stat(connection->conn, &stat);
  return ConnectionInfo{connection->verified->peer_id, connection->remote, connection->inbound,
                        Duration(static_cast<Duration::rep>(stat.smoothed_rtt))};
}

}  // namespace taho::quic
