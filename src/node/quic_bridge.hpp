// Joins QUIC endpoints to the host: a QUIC connection is a swarm connection
// that arrives secured (TLS proved the peer) and multiplexed (QUIC streams
// are the libp2p streams). The bridge turns endpoint stream events into the
// host's handle_stream_* inputs and carries out the host's stream outputs
// (OpenStream, StreamWrite, StreamCloseWrite, StreamReset,
// StreamResumeReading, Close) on the endpoints. Connection-level events go
// back to the owner, who knows which dial they answer.
//
// Sans-IO like the endpoint: the owner moves datagrams and time (the Asio
// QuicTransport on real sockets, an EndpointPair in tests). Bounded: a
// stream's unsent bytes here are at most the swarm's send credit
// (ExternalMuxerOptions::stream_send_bytes_max), and the bridge reads from
// the endpoint only what the swarm has room for.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "host/host.hpp"
#include "proto/quic/endpoint.hpp"

namespace taho::node {

namespace quic_link {
// A handshake completed: the owner adds the connection to the host, then
// calls connection_added() (or close() if the host refused it).
struct Up {
  swarm::ConnectionId id;
  std::size_t endpoint;
  quic::ConnectionHandle handle;
  bool inbound;
  Multiaddr local;   // the endpoint's address, /ip4/../udp/N/quic-v1
  Multiaddr remote;  // the peer's, same form
  PeerId peer;
};
// A connection ended, or a dial failed (id unset: it never came up).
struct Down {
  std::optional<swarm::ConnectionId> id;
  std::size_t endpoint;
  quic::ConnectionHandle handle;
  std::string reason;
};
}  // namespace quic_link
using QuicLinkEvent = std::variant<quic_link::Up, quic_link::Down>;

class QuicBridge {
 public:
  // Connection ids count up from `first_id`: pick a range no other
  // transport of the host uses.
  QuicBridge(host::Host& host, swarm::ConnectionId first_id) : host_(host), first_id_(first_id), next_id_(first_id) {}

  // Returns the index events and dials of this endpoint are known by.
  std::size_t add_endpoint(quic::Endpoint& endpoint, Multiaddr local);
  std::size_t endpoint_count() const { return endpoints_.size(); }

  // Every event of endpoint `index`; connection-level ones come back.
  std::optional<QuicLinkEvent> handle_event(Instant now, std::size_t index, const quic::Event& event);
  // Carries out a host output of one of our connections; false when the
  // output is not ours (another transport's connection, or a Dial).
  bool handle_output(Instant now, const host::HostOutput& output);
  // The host has the connection: streams the peer opened in the packets
  // that completed the handshake (reported before it) reach the host now.
  void connection_added(Instant now, swarm::ConnectionId id);
  void close(swarm::ConnectionId id, std::string_view reason = {});

  // A live connection of ours (was_ours: also one that closed already).
  bool owns(swarm::ConnectionId id) const { return connections_.count(id) != 0; }
  bool was_ours(swarm::ConnectionId id) const { return id >= first_id_ && id < next_id_; }
  std::size_t connection_count() const { return connections_.size(); }

 private:
  struct Stream {
    quic::StreamId quic_id = 0;  // meaningless while `waiting_for_credit`
    Bytes unsent;  // StreamWrite bytes the endpoint could not take yet
    bool close_write_pending = false;
    bool read_finished = false;  // the end was handed to the host
    bool quic_closed = false;    // the endpoint is done with it
    // An outbound stream the peer's MAX_STREAMS did not allow yet: it opens
    // when StreamCredit arrives. Its bytes wait in `unsent` meanwhile.
    bool waiting_for_credit = false;
    // How much of `unsent`'s front was taken since it was last compacted:
    // erasing each taken piece at once moved the rest (up to the swarm's
    // 1 MiB of credit) for every few KiB the endpoint took.
    std::size_t unsent_taken = 0;
  };
  struct Connection {
    std::size_t endpoint = 0;
    quic::ConnectionHandle handle = 0;
    std::map<swarm::StreamId, Stream> streams;
    std::map<quic::StreamId, swarm::StreamId> by_quic;
    // Streams waiting for credit, in the order the host opened them. At
    // most kWaitingOpensMax; they give up with the swarm's
    // stream_negotiation_timeout, which resets them (StreamReset output).
    std::deque<swarm::StreamId> waiting_opens;
  };
  struct Endpoint {
    quic::Endpoint* endpoint;
    Multiaddr local;
  };

  Connection* find(std::size_t index, quic::ConnectionHandle handle, swarm::ConnectionId* id_out);
  // Moves what the swarm has room for from the endpoint into the host.
  void deliver(Instant now, swarm::ConnectionId id, Connection& connection, swarm::StreamId stream);
  void send_unsent(Instant now, swarm::ConnectionId id, Connection& connection, swarm::StreamId stream);
  void forget(Connection& connection, swarm::StreamId stream);
  // Opens waiting streams, oldest first, while the peer's limit allows.
  void open_waiting(Instant now, swarm::ConnectionId id, Connection& connection);
  quic::Endpoint& endpoint_of(const Connection& connection) { return *endpoints_[connection.endpoint].endpoint; }

  host::Host& host_;
  swarm::ConnectionId first_id_;
  swarm::ConnectionId next_id_;
  std::vector<Endpoint> endpoints_;
  std::map<swarm::ConnectionId, Connection> connections_;
  std::map<std::pair<std::size_t, quic::ConnectionHandle>, swarm::ConnectionId> by_handle_;
  // Streams opened before their connection was reported (bounded by the
  // endpoint's streams_per_connection_max); their bytes wait in the endpoint.
  std::map<std::pair<std::size_t, quic::ConnectionHandle>, std::vector<quic::StreamId>> early_streams_;
  void announce_stream(Instant now, swarm::ConnectionId id, quic::StreamId quic_stream);
};

}  // namespace taho::node
