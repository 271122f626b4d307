// What a quic::Endpoint reports through poll_event(). Per stream the order is
// StreamOpened (remote streams only), then any number of StreamReadable and
// StreamWritable, then StreamReset and/or StreamClosed. ConnectionClosed is
// the last event of a connection; its handle is dead afterwards.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "base/peer_id.hpp"
#include "proto/quic/udp_address.hpp"

namespace taho::quic {

using ConnectionHandle = std::uint64_t;  // never reused by one Endpoint
using StreamId = std::int64_t;           // the QUIC stream id

// The handshake completed and the peer's certificate proved `remote`.
struct Connected {
  ConnectionHandle connection = 0;
  PeerId remote;
  PublicKey remote_key;  // the host key from the certificate's libp2p extension
  UdpAddress remote_address;
  bool inbound = false;
};
// The peer opened a stream.
struct StreamOpened {
  ConnectionHandle connection = 0;
  StreamId stream = 0;
};
// Data (or the end of the stream) waits for read(). Reported once per
// transition from "nothing to read" to "something to read".
struct StreamReadable {
  ConnectionHandle connection = 0;
  StreamId stream = 0;
};
// A write() that was cut short may continue: acknowledgements freed room.
struct StreamWritable {
  ConnectionHandle connection = 0;
  StreamId stream = 0;
};
// The peer abandoned its sending side (RESET_STREAM) with an application code.
struct StreamReset {
  ConnectionHandle connection = 0;
  StreamId stream = 0;
  std::uint64_t error_code = 0;
};
// The peer raised how many streams we may open (MAX_STREAMS): an
// open_stream() that failed with stream_limit may succeed now.
struct StreamCredit {
  ConnectionHandle connection = 0;
};
// Both directions are finished (cleanly or not). Unread data stays readable.
struct StreamClosed {
  ConnectionHandle connection = 0;
  StreamId stream = 0;
  std::optional<std::uint64_t> error_code;  // set when it ended by a reset or stop
};
// Also reported for inbound handshakes that failed (was_connected false):
// their handle was never announced, the event is there to log the reason.
struct ConnectionClosed {
  ConnectionHandle connection = 0;
  // In words: "idle timeout", "closed locally", "closed by peer: ...",
  // "handshake failed: peer_id_mismatch: expected ..., the certificate is ...".
  std::string reason;
  bool was_connected = false;  // false: the handshake never completed
};

using Event = std::variant<Connected, StreamOpened, StreamReadable, StreamWritable, StreamReset, StreamClosed,
                           ConnectionClosed, StreamCredit>;

}  // namespace taho::quic
