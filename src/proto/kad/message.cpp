#include "proto/kad/message.hpp"

#include <algorithm>
#include <utility>

#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::kad {
namespace {

// Field numbers of the spec's protobuf schema.
namespace field {
constexpr std::uint32_t type = 1;
constexpr std::uint32_t key = 2;
constexpr std::uint32_t record = 3;
constexpr std::uint32_t closer_peers = 8;
constexpr std::uint32_t provider_peers = 9;
constexpr std::uint32_t cluster_level_raw = 10;
constexpr std::uint32_t record_key = 1;
constexpr std::uint32_t record_value = 2;
constexpr std::uint32_t record_time_received = 5;
constexpr std::uint32_t peer_id = 1;
constexpr std::uint32_t peer_addrs = 2;
constexpr std::uint32_t peer_connection = 3;
}  // namespace field

constexpr std::uint64_t message_type_max = static_cast<std::uint64_t>(MessageType::ping);
constexpr std::uint64_t connection_type_max = static_cast<std::uint64_t>(ConnectionType::cannot_connect);

Unexpected<KadError> error(Errc code, std::string detail) { return unexpected(KadError{code, std::move(detail)}); }

Unexpected<KadError> protobuf_error(const pb::DecodeError& decode_error, std::string_view where) {
  return error(Errc::bad_protobuf, std::string(where) + ": " + decode_error.detail);
}

Bytes encode_peer(const Peer& peer) {
  pb::Writer writer;
  writer.bytes(field::peer_id, peer.id.bytes());
  for (const Multiaddr& address : peer.addrs) writer.bytes(field::peer_addrs, address.bytes());
  if (peer.connection != ConnectionType::not_connected) {
    writer.varint(field::peer_connection, static_cast<std::uint64_t>(peer.connection));
  }
  return writer.take();
}

Bytes encode_record(const Record& record) {
  pb::Writer writer;
  writer.bytes(field::record_key, record.key);
  writer.bytes(field::record_value, record.value);
  if (!record.time_received.empty()) writer.string(field::record_time_received, record.time_received);
  return writer.take();
}

// A decoded Peer, or nullopt when its id is not a peer id (skipped, counted).
Expected<std::optional<Peer>, KadError> decode_peer(ByteView body, const Limits& limits) {
  std::optional<ByteView> id_bytes;
  std::vector<Multiaddr> addrs;
  std::size_t unreadable_addrs = 0;
  ConnectionType connection = ConnectionType::not_connected;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "peer");
    const pb::Field& f = *next;
    switch (f.number) {
      case field::peer_id:
        if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "peer id is not bytes");
        id_bytes = f.bytes;
        break;
      case field::peer_addrs: {
        if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "peer addr is not bytes");
        if (addrs.size() + unreadable_addrs >= limits.addrs_per_peer_max) {
          return error(Errc::too_many_entries, "more than addrs_per_peer_max addresses");
        }
        if (auto address = Multiaddr::from_bytes(f.bytes)) {
          addrs.push_back(std::move(*address));
        } else {
          ++unreadable_addrs;
        }
        break;
      }
      case field::peer_connection:
        if (f.type != pb::WireType::varint) return error(Errc::bad_protobuf, "connection is not a varint");
        connection = f.integer <= connection_type_max ? static_cast<ConnectionType>(f.integer)
                                                      : ConnectionType::not_connected;
        break;
      default:
        break;  // unknown fields are skipped
    }
  }
  if (!id_bytes) return std::optional<Peer>{};
  auto id = PeerId::from_bytes(*id_bytes);
  if (!id) return std::optional<Peer>{};
  return std::optional<Peer>{Peer{std::move(*id), std::move(addrs), connection, unreadable_addrs}};
}

Expected<Record, KadError> decode_record(ByteView body, const Limits& limits) {
  Record record;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "record");
    const pb::Field& f = *next;
    const bool is_known = f.number == field::record_key || f.number == field::record_value ||
                          f.number == field::record_time_received;
    if (!is_known) continue;
    if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "record field is not bytes");
    if (f.number == field::record_key) {
      if (f.bytes.size() > limits.key_bytes_max) return error(Errc::bad_field, "record key over key_bytes_max");
      record.key.assign(f.bytes.begin(), f.bytes.end());
    } else if (f.number == field::record_value) {
      record.value.assign(f.bytes.begin(), f.bytes.end());
    } else {
      record.time_received = std::string(as_text(f.bytes));
    }
  }
  return record;
}

}  // namespace

Bytes encode_message(const Message& message) {
  pb::Writer writer;
  // Written even when 0 (PUT_VALUE): proto3 readers accept it either way.
  writer.varint(field::type, static_cast<std::uint64_t>(message.type));
  if (!message.key.empty()) writer.bytes(field::key, message.key);
  if (message.record) writer.bytes(field::record, encode_record(*message.record));
  for (const Peer& peer : message.closer_peers) writer.bytes(field::closer_peers, encode_peer(peer));
  for (const Peer& peer : message.provider_peers) writer.bytes(field::provider_peers, encode_peer(peer));
  if (message.cluster_level_raw != 0) {
    // int32 on the wire: negative values sign-extend to 64 bits.
    writer.varint(field::cluster_level_raw,
                  static_cast<std::uint64_t>(static_cast<std::int64_t>(message.cluster_level_raw)));
  }
  return writer.take();
}

Expected<Message, KadError> decode_message(ByteView body, const Limits& limits) {
  if (body.size() > limits.message_bytes_max) return error(Errc::too_large, "message over message_bytes_max");
  Message message;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto next = reader.next();
    if (!next) return protobuf_error(next.error(), "message");
    const pb::Field& f = *next;
    switch (f.number) {
      case field::type:
        if (f.type != pb::WireType::varint) return error(Errc::bad_protobuf, "type is not a varint");
        if (f.integer > message_type_max) return error(Errc::bad_field, "unknown message type");
        message.type = static_cast<MessageType>(f.integer);
        break;
      case field::cluster_level_raw:
        if (f.type != pb::WireType::varint) return error(Errc::bad_protobuf, "clusterLevelRaw is not a varint");
        message.cluster_level_raw = static_cast<std::int32_t>(static_cast<std::uint32_t>(f.integer));
        break;
      case field::key:
        if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "key is not bytes");
        if (f.bytes.size() > limits.key_bytes_max) return error(Errc::bad_field, "key over key_bytes_max");
        message.key.assign(f.bytes.begin(), f.bytes.end());
        break;
      case field::record: {
        if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "record is not a message");
        auto record = decode_record(f.bytes, limits);
        if (!record) return unexpected(std::move(record).error());
        message.record = std::move(*record);
        break;
      }
      case field::closer_peers:
      case field::provider_peers: {
        if (f.type != pb::WireType::length_delimited) return error(Errc::bad_protobuf, "peer is not a message");
        std::vector<Peer>& list = f.number == field::closer_peers ? message.closer_peers : message.provider_peers;
        if (list.size() >= limits.peers_per_list_max) {
          return error(Errc::too_many_entries, "more than peers_per_list_max peers");
        }
        auto peer = decode_peer(f.bytes, limits);
        if (!peer) return unexpected(std::move(peer).error());
        if (*peer) {
          list.push_back(std::move(**peer));
        } else {
          ++message.unreadable_peers;
        }
        break;
      }
      default:
        break;  // unknown fields are skipped
    }
  }
  return message;
}

Bytes encode_frame(const Message& message) { return length_prefixed(encode_message(message)); }

Expected<void, KadError> FrameReader::handle_data(ByteView bytes) {
  return frames_.handle_data(bytes, [this](ByteView body) { return decode_message(body, limits_); });
}

std::optional<Message> FrameReader::poll_message() { return frames_.poll_message(); }

Expected<void, KadError> FrameReader::handle_end() { return frames_.handle_end(); }

}  // namespace taho::kad
