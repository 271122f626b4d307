// The gossipsub RPC wire format (libp2p/specs pubsub/README.md and
// gossipsub-v1.0/1.1/1.2): one protobuf `RPC` per uvarint-length-prefixed
// frame on a /meshsub stream. Decoding is strict and bounded by `Limits`;
// unknown fields are skipped so newer peers can extend the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::gossipsub {

// One protobuf message already in wire form, immutable and shared by every
// RPC that carries it: a message forwarded to D peers is encoded once, not D
// times, and each RPC holds a reference instead of a copy.
class SharedEncoding {
 public:
  explicit SharedEncoding(Bytes bytes) : bytes_(std::make_shared<const Bytes>(std::move(bytes))) {}
  ByteView bytes() const { return *bytes_; }
  bool operator==(const SharedEncoding& other) const;

 private:
  std::shared_ptr<const Bytes> bytes_;  // never null
};

struct SubOpts {
  bool subscribe = false;
  std::string topic;
  bool operator==(const SubOpts&) const = default;
};

// Optional fields are std::optional so "absent" and "empty" stay distinct:
// StrictSign rejects an absent field, and signatures cover exactly the
// fields that were sent.
struct Message {
  std::optional<Bytes> from;
  Bytes data;
  std::optional<Bytes> seqno;
  std::string topic;
  std::optional<Bytes> signature;
  std::optional<Bytes> key;
  bool operator==(const Message&) const = default;
};

struct ControlIHave {
  std::string topic;
  std::vector<Bytes> message_ids;
  bool operator==(const ControlIHave&) const = default;
};
struct ControlIWant {
  std::vector<Bytes> message_ids;
  bool operator==(const ControlIWant&) const = default;
};
struct ControlGraft {
  std::string topic;
  bool operator==(const ControlGraft&) const = default;
};
struct PeerInfo {
  std::optional<Bytes> peer_id;
  std::optional<Bytes> signed_peer_record;
  bool operator==(const PeerInfo&) const = default;
};
struct ControlPrune {
  std::string topic;
  std::vector<PeerInfo> peers;            // peer exchange (v1.1)
  std::optional<std::uint64_t> backoff;   // seconds (v1.1)
  bool operator==(const ControlPrune&) const = default;
};
struct ControlIDontWant {
  std::vector<Bytes> message_ids;
  bool operator==(const ControlIDontWant&) const = default;
};

struct ControlMessage {
  std::vector<ControlIHave> ihave;
  // IHAVE entries in wire form (encode_ihave), sent after `ihave`: the same
  // gossip goes to several peers. Decoding puts them in `ihave`.
  std::vector<SharedEncoding> ihave_encoded;
  std::vector<ControlIWant> iwant;
  std::vector<ControlGraft> graft;
  std::vector<ControlPrune> prune;
  std::vector<ControlIDontWant> idontwant;  // v1.2
  bool empty() const {
    return ihave.empty() && ihave_encoded.empty() && iwant.empty() && graft.empty() && prune.empty() &&
           idontwant.empty();
  }
  // Equal when both encode to the same bytes: an encoded entry equals its
  // decoded form, so decode(encode(x)) == x holds.
  bool operator==(const ControlMessage& other) const;
};

struct Rpc {
  std::vector<SubOpts> subscriptions;
  std::vector<Message> publish;
  // Messages in wire form (encode_message), sent after `publish` in the same
  // field: what the router forwards and answers IWANT with, encoded once for
  // all peers. Decoding puts them in `publish`.
  std::vector<SharedEncoding> publish_encoded;
  std::optional<ControlMessage> control;
  bool empty() const {
    return subscriptions.empty() && publish.empty() && publish_encoded.empty() && (!control || control->empty());
  }
  std::size_t message_count() const { return publish.size() + publish_encoded.size(); }
  // Equal when both encode to the same bytes (see ControlMessage).
  bool operator==(const Rpc& other) const;
};

// Bounds on what a peer may make us decode. Defaults follow js-libp2p where
// it has one (4 MiB RPCs, 5000 ids per IHAVE).
struct Limits {
  std::size_t rpc_bytes_max = 4 * 1024 * 1024;
  std::size_t message_data_bytes_max = 4 * 1024 * 1024;
  std::size_t subscriptions_per_rpc_max = 1000;  // SubOpts entries
  std::size_t messages_per_rpc_max = 1000;
  std::size_t control_entries_max = 1000;        // ihave+iwant+graft+prune+idontwant entries
  std::size_t ids_per_control_max = 5000;        // message ids in one ihave/iwant/idontwant
  std::size_t peers_per_prune_max = 32;
  std::size_t topic_bytes_max = 1024;
  std::size_t message_id_bytes_max = 256;
  std::size_t field_bytes_max = 8 * 1024;        // from, seqno, signature, key, peer info
};

namespace rpc {
enum class Errc {
  bad_protobuf,       // not well-formed protobuf (truncated, bad varint, group ...)
  bad_wire_type,      // a known field with the wrong wire type
  frame_too_large,    // length prefix or RPC over Limits::rpc_bytes_max
  bad_length_prefix,  // the uvarint length prefix is malformed
  too_many_entries,   // a repeated field over its limit
  field_too_large,    // a topic, id, data or key over its limit
};
}  // namespace rpc
using RpcError = Error<rpc::Errc>;
std::string_view to_string(rpc::Errc code);

Bytes encode_message(const Message& message);
// A ControlIHave entry for `topic` naming `ids`, for ControlMessage::ihave_encoded.
Bytes encode_ihave(std::string_view topic, std::span<const std::string_view> ids);
// The message without its signature and key fields, after `prefix`: what
// StrictSign signs. The message itself is not copied.
Bytes encode_unsigned_message(std::string_view prefix, const Message& message);
Bytes encode_rpc(const Rpc& rpc);
// encode_rpc behind a uvarint length prefix: what goes on the stream.
Bytes encode_framed(const Rpc& rpc);

Expected<Message, RpcError> decode_message(ByteView bytes, const Limits& limits = {});
Expected<Rpc, RpcError> decode_rpc(ByteView bytes, const Limits& limits = {});

// Splits a stream into RPCs, whatever its fragmentation. After an error the
// stream is unusable (the caller resets it): next() keeps returning it.
class FrameReader {
 public:
  explicit FrameReader(const Limits& limits = {}) : limits_(limits) {}
  // Buffers bytes from the stream. Drain with next() after each push: more
  // than one frame's worth (rpc_bytes_max + prefix) undrained is an error.
  Expected<void, RpcError> push(ByteView bytes);
  // The next whole RPC, nullopt when more bytes are needed.
  Expected<std::optional<Rpc>, RpcError> next();
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  Limits limits_;
  Bytes buffer_;
  std::size_t consumed_ = 0;
  std::optional<RpcError> failed_;
};

}  // namespace taho::gossipsub
