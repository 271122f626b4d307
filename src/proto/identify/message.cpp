#include "proto/identify/message.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::identify {
namespace {

constexpr std::uint32_t kFieldPublicKey = 1;
constexpr std::uint32_t kFieldListenAddrs = 2;
constexpr std::uint32_t kFieldProtocols = 3;
constexpr std::uint32_t kFieldObservedAddr = 4;
constexpr std::uint32_t kFieldProtocolVersion = 5;
constexpr std::uint32_t kFieldAgentVersion = 6;
constexpr std::uint32_t kFieldSignedPeerRecord = 8;

IdentifyError too_many(std::string_view what, std::size_t limit) {
  return {Errc::too_many_entries, "identify: more than " + std::to_string(limit) + " " + std::string(what)};
}

Expected<void, IdentifyError> add_listen_addr(Info& info, Multiaddr address, const Limits& limits) {
  if (std::ranges::find(info.listen_addrs, address) != info.listen_addrs.end()) return {};
  if (info.listen_addrs.size() + info.unreadable_addrs >= limits.listen_addrs_max) {
    return unexpected(too_many("listen addresses", limits.listen_addrs_max));
  }
  info.listen_addrs.push_back(std::move(address));
  return {};
}

Expected<void, IdentifyError> add_unreadable_addr(Info& info, const Limits& limits) {
  if (info.listen_addrs.size() + info.unreadable_addrs >= limits.listen_addrs_max) {
    return unexpected(too_many("listen addresses", limits.listen_addrs_max));
  }
  ++info.unreadable_addrs;
  return {};
}

Expected<void, IdentifyError> add_protocol(Info& info, std::string protocol, const Limits& limits) {
  if (protocol.size() > limits.protocol_id_bytes_max) {
    return unexpected(IdentifyError{Errc::bad_field, "identify: a protocol id of " + std::to_string(protocol.size()) +
                                                         " bytes (limit " +
                                                         std::to_string(limits.protocol_id_bytes_max) + ")"});
  }
  if (std::ranges::find(info.protocols, protocol) != info.protocols.end()) return {};
  if (info.protocols.size() >= limits.protocols_max) return unexpected(too_many("protocols", limits.protocols_max));
  info.protocols.push_back(std::move(protocol));
  return {};
}

Expected<void, IdentifyError> decode_field(Info& info, const pb::Field& field, const Limits& limits) {
  const auto text = [&] { return std::string(as_text(field.bytes)); };
  switch (field.number) {
    case kFieldProtocolVersion: info.protocol_version = text(); return {};
    case kFieldAgentVersion: info.agent_version = text(); return {};
    case kFieldPublicKey: {
      auto key = PublicKey::decode(field.bytes);
      if (!key) return unexpected(IdentifyError{Errc::bad_public_key, "identify publicKey: " + key.error().detail});
      info.public_key = std::move(*key);
      return {};
    }
    case kFieldListenAddrs: {
      auto address = Multiaddr::from_bytes(field.bytes);
      if (!address) return add_unreadable_addr(info, limits);
      return add_listen_addr(info, std::move(*address), limits);
    }
    case kFieldObservedAddr: {
      if (field.bytes.empty()) return {};  // some senders write an empty one when they have none
      auto address = Multiaddr::from_bytes(field.bytes);
      if (!address) {
        ++info.unreadable_addrs;  // at most one per message: bounded by messages_max
        return {};
      }
      info.observed_addr = std::move(*address);
      return {};
    }
    case kFieldProtocols: return add_protocol(info, text(), limits);
    case kFieldSignedPeerRecord: info.signed_peer_record = Bytes(field.bytes.begin(), field.bytes.end()); return {};
    default: return {};
  }
}

bool is_known_field(std::uint32_t number) {
  return number == kFieldPublicKey || number == kFieldListenAddrs || number == kFieldProtocols ||
         number == kFieldObservedAddr || number == kFieldProtocolVersion || number == kFieldAgentVersion ||
         number == kFieldSignedPeerRecord;
}

// Each field of `info` encoded on its own, in field-number order, so they
// can be packed into as few messages as the size limit allows.
std::vector<Bytes> encode_fields(const Info& info) {
  std::vector<Bytes> fields;
  const auto add = [&fields](auto&& write) {
    pb::Writer writer;
    write(writer);
    fields.push_back(writer.take());
  };
  if (info.public_key) add([&](pb::Writer& w) { w.bytes(kFieldPublicKey, info.public_key->encode()); });
  for (const Multiaddr& address : info.listen_addrs) {
    add([&](pb::Writer& w) { w.bytes(kFieldListenAddrs, address.bytes()); });
  }
  for (const std::string& protocol : info.protocols) add([&](pb::Writer& w) { w.string(kFieldProtocols, protocol); });
  if (info.observed_addr) add([&](pb::Writer& w) { w.bytes(kFieldObservedAddr, info.observed_addr->bytes()); });
  if (info.protocol_version) add([&](pb::Writer& w) { w.string(kFieldProtocolVersion, *info.protocol_version); });
  if (info.agent_version) add([&](pb::Writer& w) { w.string(kFieldAgentVersion, *info.agent_version); });
  if (info.signed_peer_record) add([&](pb::Writer& w) { w.bytes(kFieldSignedPeerRecord, *info.signed_peer_record); });
  return fields;
}

}  // namespace

Bytes encode(const Info& info) {
  Bytes body;
  for (const Bytes& field : encode_fields(info)) append(body, field);
  return body;
}

Expected<Info, IdentifyError> decode(ByteView body, const Limits& limits) {
  if (body.size() > limits.message_bytes_max) {
    return unexpected(IdentifyError{Errc::too_large, "identify message of " + std::to_string(body.size()) +
                                                         " bytes (limit " + std::to_string(limits.message_bytes_max) +
                                                         ")"});
  }
  Info info;
  pb::Reader reader(body);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(IdentifyError{Errc::bad_protobuf, "identify: " + field.error().detail});
    if (!is_known_field(field->number)) continue;  // unknown fields are skipped
    if (field->type != pb::WireType::length_delimited) {
      return unexpected(
          IdentifyError{Errc::bad_protobuf, "identify field " + std::to_string(field->number) + " has the wrong wire type"});
    }
    if (auto added = decode_field(info, *field, limits); !added) return unexpected(std::move(added).error());
  }
  return info;
}

Expected<void, IdentifyError> merge(Info& into, Info update, const Limits& limits) {
  if (update.protocol_version) into.protocol_version = std::move(update.protocol_version);
  if (update.agent_version) into.agent_version = std::move(update.agent_version);
  if (update.public_key) into.public_key = std::move(update.public_key);
  if (update.observed_addr) into.observed_addr = std::move(update.observed_addr);
  if (update.signed_peer_record) into.signed_peer_record = std::move(update.signed_peer_record);
  for (std::size_t i = 0; i < update.unreadable_addrs; ++i) {
    if (auto added = add_unreadable_addr(into, limits); !added) return added;
  }
  for (Multiaddr& address : update.listen_addrs) {
    if (auto added = add_listen_addr(into, std::move(address), limits); !added) return added;
  }
  for (std::string& protocol : update.protocols) {
    if (auto added = add_protocol(into, std::move(protocol), limits); !added) return added;
  }
  return {};
}

Expected<Bytes, IdentifyError> encode_message(const Info& info, const Limits& limits) {
  // Greedy packing keeps field order; any split is valid because the
  // receiver merges: each singular field appears once, repeated ones extend.
  std::vector<Bytes> bodies(1);
  for (Bytes& field : encode_fields(info)) {
    if (field.size() > limits.message_bytes_max) {
      return unexpected(IdentifyError{Errc::too_large, "identify: a field of " + std::to_string(field.size()) +
                                                           " bytes cannot fit in one message"});
    }
    if (bodies.back().size() + field.size() > limits.message_bytes_max) bodies.emplace_back();
    append(bodies.back(), field);
  }
  if (bodies.size() > limits.messages_max) {
    return unexpected(IdentifyError{Errc::too_large, "identify: needs " + std::to_string(bodies.size()) +
                                                         " messages (limit " + std::to_string(limits.messages_max) +
                                                         ")"});
  }
  Bytes out;
  for (const Bytes& body : bodies) {
    varint::encode(body.size(), out);
    append(out, body);
  }
  return out;
}

}  // namespace taho::identify
