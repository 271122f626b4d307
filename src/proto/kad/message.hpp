// The Kademlia DHT wire message (libp2p/specs kad-dht/README.md): one
// uvarint-length-prefixed protobuf `Message` per direction, one request per
// stream. Decoding is strict about structure and bounds, lenient about
// content we merely cannot use: unknown fields are skipped, addresses taho
// cannot parse and peers whose id is not a peer id are dropped and counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/length_prefixed.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "proto/kad/errors.hpp"

namespace taho::kad {

inline constexpr std::string_view default_protocol_id = "/taho/kad/1.0.0";
inline constexpr std::string_view ipfs_protocol_id = "/ipfs/kad/1.0.0";

enum class MessageType : std::uint8_t {
  put_value = 0,
  get_value = 1,
  add_provider = 2,
  get_providers = 3,
  find_node = 4,
  ping = 5,
};

// Advisory only; values we do not know read as not_connected.
enum class ConnectionType : std::uint8_t {
  not_connected = 0,
  connected = 1,
  can_connect = 2,
  cannot_connect = 3,
};

struct Limits {
  // go-libp2p and js-libp2p read kad messages of up to 4 MiB; so do we (one
  // message per stream, so this is also the per-stream buffer bound).
  std::size_t message_bytes_max = 4 * 1024 * 1024;
  // Keys are multihashes, CIDs or namespaced names ("/ipns/<id>").
  std::size_t key_bytes_max = 1024;
  // A response carries k = 20 closer peers plus providers; 256 per list
  // leaves room for generous peers and bounds our work per message.
  std::size_t peers_per_list_max = 256;
  std::size_t addrs_per_peer_max = 32;
};

struct Record {
  Bytes key;
  Bytes value;
  std::string time_received;  // RFC 3339, set by the receiver; may be empty

  bool operator==(const Record&) const = default;
};

struct Peer {
  PeerId id;
  std::vector<Multiaddr> addrs;
  ConnectionType connection = ConnectionType::not_connected;
  std::size_t unreadable_addrs = 0;  // decoded addresses we skipped

  bool operator==(const Peer&) const = default;
};

struct Message {
  MessageType type = MessageType::put_value;  // proto3 default (0)
  std::int32_t cluster_level_raw = 0;  // unused by every implementation; kept for round trips
  Bytes key;
  std::optional<Record> record;
  std::vector<Peer> closer_peers;
  std::vector<Peer> provider_peers;
  std::size_t unreadable_peers = 0;  // decoded peers we skipped (id not a peer id)

  bool operator==(const Message&) const = default;
};

// The protobuf body (no length prefix). Fields in field-number order.
Bytes encode_message(const Message& message);
Expected<Message, KadError> decode_message(ByteView body, const Limits& limits = {});

// uvarint length prefix + body, as written to a stream.
Bytes encode_frame(const Message& message);

// Reads length-prefixed messages from a stream in any fragmentation. Memory
// stays within one prefix plus one body. After an error every call returns
// that error again.
class FrameReader {
 public:
  explicit FrameReader(const Limits& limits = {}) : limits_(limits), frames_(limits.message_bytes_max) {}

  Expected<void, KadError> handle_data(ByteView bytes);
  // The next complete message, in stream order.
  std::optional<Message> poll_message();
  // The remote closed its write side: fails (truncated) if it stopped in
  // the middle of a message.
  Expected<void, KadError> handle_end();

 private:
  Limits limits_;
  FramedMessageReader<Message, Errc> frames_;
};

}  // namespace taho::kad
