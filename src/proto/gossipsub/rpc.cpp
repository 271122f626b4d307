#include "proto/gossipsub/rpc.hpp"

#include <string>

#include "base/protobuf.hpp"
#include "base/varint.hpp"

namespace taho::gossipsub {

std::string_view to_string(rpc::Errc code) {
  switch (code) {
    case rpc::Errc::bad_protobuf: return "bad_protobuf";
    case rpc::Errc::bad_wire_type: return "bad_wire_type";
    case rpc::Errc::frame_too_large: return "frame_too_large";
    case rpc::Errc::bad_length_prefix: return "bad_length_prefix";
    case rpc::Errc::too_many_entries: return "too_many_entries";
    case rpc::Errc::field_too_large: return "field_too_large";
  }
  return "unknown";
}

namespace {

// ---- encoding
//
// Sizes first, then one buffer of exactly that size: an RPC is encoded for
// every peer it goes to, and growing buffers field by field showed up as
// allocator churn in profiles. The field numbers are the spec's rpc.proto.

constexpr std::uint64_t kLengthDelimited = 2;
constexpr std::uint64_t kVarint = 0;

std::size_t varint_bytes(std::uint64_t value) {
  std::size_t length = 1;
  for (; value >= 0x80; value >>= 7) ++length;
  return length;
}

void put_varint(Bytes& out, std::uint64_t value) {
  for (; value >= 0x80; value >>= 7) out.push_back(static_cast<std::uint8_t>((value & 0x7f) | 0x80));
  out.push_back(static_cast<std::uint8_t>(value));
}

// A length-delimited field of `length` bytes, tag and length included.
std::size_t field_bytes(std::uint32_t field, std::size_t length) {
  return varint_bytes(std::uint64_t{field} << 3 | kLengthDelimited) + varint_bytes(length) + length;
}

void put_header(Bytes& out, std::uint32_t field, std::size_t length) {
  put_varint(out, std::uint64_t{field} << 3 | kLengthDelimited);
  put_varint(out, length);
}

void put_field(Bytes& out, std::uint32_t field, ByteView value) {
  put_header(out, field, value.size());
  append(out, value);
}

void put_field(Bytes& out, std::uint32_t field, std::string_view value) { put_field(out, field, as_bytes(value)); }

std::size_t varint_field_bytes(std::uint32_t field, std::uint64_t value) {
  return varint_bytes(std::uint64_t{field} << 3 | kVarint) + varint_bytes(value);
}

void put_varint_field(Bytes& out, std::uint32_t field, std::uint64_t value) {
  put_varint(out, std::uint64_t{field} << 3 | kVarint);
  put_varint(out, value);
}

// Message ids as the router holds them (std::string_view) or as decoded (Bytes).
ByteView bytes_of(const Bytes& id) { return id; }
ByteView bytes_of(std::string_view id) { return as_bytes(id); }

template <class Id>
std::size_t ids_bytes(std::uint32_t field, std::span<const Id> ids) {
  std::size_t total = 0;
  for (const auto& id : ids) total += field_bytes(field, id.size());
  return total;
}

template <class Id>
void put_ids(Bytes& out, std::uint32_t field, std::span<const Id> ids) {
  for (const auto& id : ids) put_field(out, field, bytes_of(id));
}

// Message fields 1-4, the part a signature covers.
std::size_t unsigned_fields_bytes(const Message& message) {
  return (message.from ? field_bytes(1, message.from->size()) : 0) + field_bytes(2, message.data.size()) +
         (message.seqno ? field_bytes(3, message.seqno->size()) : 0) + field_bytes(4, message.topic.size());
}

void put_unsigned_fields(Bytes& out, const Message& message) {
  if (message.from) put_field(out, 1, *message.from);
  put_field(out, 2, message.data);
  if (message.seqno) put_field(out, 3, *message.seqno);
  put_field(out, 4, message.topic);
}

std::size_t message_bytes(const Message& message) {
  return unsigned_fields_bytes(message) + (message.signature ? field_bytes(5, message.signature->size()) : 0) +
         (message.key ? field_bytes(6, message.key->size()) : 0);
}

void put_message(Bytes& out, const Message& message) {
  put_unsigned_fields(out, message);
  if (message.signature) put_field(out, 5, *message.signature);
  if (message.key) put_field(out, 6, *message.key);
}

std::size_t ihave_bytes(std::string_view topic, std::size_t ids_size) { return field_bytes(1, topic.size()) + ids_size; }

std::size_t peer_info_bytes(const PeerInfo& info) {
  return (info.peer_id ? field_bytes(1, info.peer_id->size()) : 0) +
         (info.signed_peer_record ? field_bytes(2, info.signed_peer_record->size()) : 0);
}

std::size_t prune_bytes(const ControlPrune& prune) {
  std::size_t total = field_bytes(1, prune.topic.size());
  for (const auto& peer : prune.peers) total += field_bytes(2, peer_info_bytes(peer));
  if (prune.backoff) total += varint_field_bytes(3, *prune.backoff);
  return total;
}

std::size_t control_bytes(const ControlMessage& control) {
  std::size_t total = 0;
  for (const auto& ihave : control.ihave) {
    total += field_bytes(1, ihave_bytes(ihave.topic, ids_bytes<Bytes>(2, ihave.message_ids)));
  }
  for (const auto& encoded : control.ihave_encoded) total += field_bytes(1, encoded.bytes().size());
  for (const auto& iwant : control.iwant) total += field_bytes(2, ids_bytes<Bytes>(1, iwant.message_ids));
  for (const auto& graft : control.graft) total += field_bytes(3, field_bytes(1, graft.topic.size()));
  for (const auto& prune : control.prune) total += field_bytes(4, prune_bytes(prune));
  for (const auto& idontwant : control.idontwant) total += field_bytes(5, ids_bytes<Bytes>(1, idontwant.message_ids));
  return total;
}

void put_control(Bytes& out, const ControlMessage& control) {
  for (const auto& ihave : control.ihave) {
    put_header(out, 1, ihave_bytes(ihave.topic, ids_bytes<Bytes>(2, ihave.message_ids)));
    put_field(out, 1, ihave.topic);
    put_ids<Bytes>(out, 2, ihave.message_ids);
  }
  for (const auto& encoded : control.ihave_encoded) put_field(out, 1, encoded.bytes());
  for (const auto& iwant : control.iwant) {
    put_header(out, 2, ids_bytes<Bytes>(1, iwant.message_ids));
    put_ids<Bytes>(out, 1, iwant.message_ids);
  }
  for (const auto& graft : control.graft) {
    put_header(out, 3, field_bytes(1, graft.topic.size()));
    put_field(out, 1, graft.topic);
  }
  for (const auto& prune : control.prune) {
    put_header(out, 4, prune_bytes(prune));
    put_field(out, 1, prune.topic);
    for (const auto& peer : prune.peers) {
      put_header(out, 2, peer_info_bytes(peer));
      if (peer.peer_id) put_field(out, 1, *peer.peer_id);
      if (peer.signed_peer_record) put_field(out, 2, *peer.signed_peer_record);
    }
    if (prune.backoff) put_varint_field(out, 3, *prune.backoff);
  }
  for (const auto& idontwant : control.idontwant) {
    put_header(out, 5, ids_bytes<Bytes>(1, idontwant.message_ids));
    put_ids<Bytes>(out, 1, idontwant.message_ids);
  }
}

std::size_t subopts_bytes(const SubOpts& sub) { return varint_field_bytes(1, sub.subscribe ? 1 : 0) + field_bytes(2, sub.topic.size()); }

std::size_t rpc_bytes(const Rpc& rpc) {
  std::size_t total = 0;
  for (const auto& sub : rpc.subscriptions) total += field_bytes(1, subopts_bytes(sub));
  for (const auto& message : rpc.publish) total += field_bytes(2, message_bytes(message));
  for (const auto& encoded : rpc.publish_encoded) total += field_bytes(2, encoded.bytes().size());
  if (rpc.control) total += field_bytes(3, control_bytes(*rpc.control));
  return total;
}

void put_rpc(Bytes& out, const Rpc& rpc) {
  for (const auto& sub : rpc.subscriptions) {
    put_header(out, 1, subopts_bytes(sub));
    put_varint_field(out, 1, sub.subscribe ? 1 : 0);
    put_field(out, 2, sub.topic);
  }
  for (const auto& message : rpc.publish) {
    put_header(out, 2, message_bytes(message));
    put_message(out, message);
  }
  for (const auto& encoded : rpc.publish_encoded) put_field(out, 2, encoded.bytes());
  if (rpc.control) {
    put_header(out, 3, control_bytes(*rpc.control));
    put_control(out, *rpc.control);
  }
}

Bytes encode_control(const ControlMessage& control) {
  Bytes out;
  out.reserve(control_bytes(control));
  put_control(out, control);
  return out;
}

// ---- decoding

Unexpected<RpcError> error(rpc::Errc code, std::string detail) { return unexpected(RpcError{code, std::move(detail)}); }

Expected<pb::Field, RpcError> next_field(pb::Reader& reader) {
  auto field = reader.next();
  if (!field) return error(rpc::Errc::bad_protobuf, field.error().detail);
  return *field;
}

Expected<ByteView, RpcError> expect_bytes(const pb::Field& field, std::size_t bytes_max, std::string_view what) {
  if (field.type != pb::WireType::length_delimited) return error(rpc::Errc::bad_wire_type, std::string(what));
  if (field.bytes.size() > bytes_max) return error(rpc::Errc::field_too_large, std::string(what));
  return field.bytes;
}

Expected<std::uint64_t, RpcError> expect_varint(const pb::Field& field, std::string_view what) {
  if (field.type != pb::WireType::varint) return error(rpc::Errc::bad_wire_type, std::string(what));
  return field.integer;
}

Bytes to_owned(ByteView view) { return Bytes(view.begin(), view.end()); }
std::string to_string_owned(ByteView view) { return std::string(as_text(view)); }

// Appends a message id to `ids`, counting against the per-entry limit.
Expected<void, RpcError> add_id(std::vector<Bytes>& ids, const pb::Field& field, const Limits& limits) {
  auto id = expect_bytes(field, limits.message_id_bytes_max, "message id");
  if (!id) return unexpected(std::move(id).error());
  if (ids.size() >= limits.ids_per_control_max) return error(rpc::Errc::too_many_entries, "message ids");
  ids.push_back(to_owned(*id));
  return {};
}

// Decodes a message that holds only ids in field `ids_field` and, when
// `topic_field` is non-zero, a topic.
Expected<void, RpcError> decode_id_list(ByteView bytes, std::uint32_t ids_field, std::uint32_t topic_field, std::string* topic,
                                        std::vector<Bytes>& ids, const Limits& limits) {
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number == ids_field) {
      if (auto added = add_id(ids, *field, limits); !added) return added;
    } else if (topic_field != 0 && field->number == topic_field) {
      auto text = expect_bytes(*field, limits.topic_bytes_max, "topic");
      if (!text) return unexpected(std::move(text).error());
      *topic = to_string_owned(*text);
    }
  }
  return {};
}

Expected<PeerInfo, RpcError> decode_peer_info(ByteView bytes, const Limits& limits) {
  PeerInfo info;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number == 1 || field->number == 2) {
      auto value = expect_bytes(*field, limits.field_bytes_max, "peer info");
      if (!value) return unexpected(std::move(value).error());
      (field->number == 1 ? info.peer_id : info.signed_peer_record) = to_owned(*value);
    }
  }
  return info;
}

Expected<ControlPrune, RpcError> decode_prune(ByteView bytes, const Limits& limits) {
  ControlPrune prune;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number == 1) {
      auto text = expect_bytes(*field, limits.topic_bytes_max, "topic");
      if (!text) return unexpected(std::move(text).error());
      prune.topic = to_string_owned(*text);
    } else if (field->number == 2) {
      auto raw = expect_bytes(*field, limits.field_bytes_max * 2, "prune peer");
      if (!raw) return unexpected(std::move(raw).error());
      if (prune.peers.size() >= limits.peers_per_prune_max) return error(rpc::Errc::too_many_entries, "prune peers");
      auto info = decode_peer_info(*raw, limits);
      if (!info) return unexpected(std::move(info).error());
      prune.peers.push_back(std::move(*info));
    } else if (field->number == 3) {
      auto backoff = expect_varint(*field, "backoff");
      if (!backoff) return unexpected(std::move(backoff).error());
      prune.backoff = *backoff;
    }
  }
  return prune;
}

Expected<ControlMessage, RpcError> decode_control(ByteView bytes, const Limits& limits) {
  ControlMessage control;
  std::size_t entries = 0;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number < 1 || field->number > 5) continue;
    if (field->type != pb::WireType::length_delimited) return error(rpc::Errc::bad_wire_type, "control entry");
    if (++entries > limits.control_entries_max) return error(rpc::Errc::too_many_entries, "control entries");
    Expected<void, RpcError> decoded;
    switch (field->number) {
      case 1: {
        auto& entry = control.ihave.emplace_back();
        decoded = decode_id_list(field->bytes, 2, 1, &entry.topic, entry.message_ids, limits);
        break;
      }
      case 2:
        decoded = decode_id_list(field->bytes, 1, 0, nullptr, control.iwant.emplace_back().message_ids, limits);
        break;
      case 3: {
        auto& entry = control.graft.emplace_back();
        std::vector<Bytes> none;
        // A graft has no ids; field 2 would be unknown, so give it a number never used.
        decoded = decode_id_list(field->bytes, 0, 1, &entry.topic, none, limits);
        break;
      }
      case 4: {
        auto prune = decode_prune(field->bytes, limits);
        if (!prune) return unexpected(std::move(prune).error());
        control.prune.push_back(std::move(*prune));
        break;
      }
      case 5:
        decoded = decode_id_list(field->bytes, 1, 0, nullptr, control.idontwant.emplace_back().message_ids, limits);
        break;
    }
    if (!decoded) return unexpected(std::move(decoded).error());
  }
  return control;
}

Expected<SubOpts, RpcError> decode_subopts(ByteView bytes, const Limits& limits) {
  SubOpts opts;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number == 1) {
      auto flag = expect_varint(*field, "subscribe");
      if (!flag) return unexpected(std::move(flag).error());
      opts.subscribe = *flag != 0;
    } else if (field->number == 2) {
      auto text = expect_bytes(*field, limits.topic_bytes_max, "topic");
      if (!text) return unexpected(std::move(text).error());
      opts.topic = to_string_owned(*text);
    }
  }
  return opts;
}

}  // namespace

bool SharedEncoding::operator==(const SharedEncoding& other) const {
  return bytes_ == other.bytes_ || *bytes_ == *other.bytes_;
}

bool ControlMessage::operator==(const ControlMessage& other) const {
  return encode_control(*this) == encode_control(other);
}

bool Rpc::operator==(const Rpc& other) const { return encode_rpc(*this) == encode_rpc(other); }

Bytes encode_message(const Message& message) {
  Bytes out;
  out.reserve(message_bytes(message));
  put_message(out, message);
  return out;
}

Bytes encode_ihave(std::string_view topic, std::span<const std::string_view> ids) {
  Bytes out;
  out.reserve(ihave_bytes(topic, ids_bytes<std::string_view>(2, ids)));
  put_field(out, 1, topic);
  put_ids<std::string_view>(out, 2, ids);
  return out;
}

Bytes encode_unsigned_message(std::string_view prefix, const Message& message) {
  Bytes out;
  out.reserve(prefix.size() + unsigned_fields_bytes(message));
  append(out, as_bytes(prefix));
  put_unsigned_fields(out, message);
  return out;
}

Bytes encode_rpc(const Rpc& rpc) {
  Bytes out;
  out.reserve(rpc_bytes(rpc));
  put_rpc(out, rpc);
  return out;
}

Bytes encode_framed(const Rpc& rpc) {
  const std::size_t body = rpc_bytes(rpc);
  Bytes framed;
  framed.reserve(varint_bytes(body) + body);
  put_varint(framed, body);
  put_rpc(framed, rpc);
  return framed;
}

Expected<Message, RpcError> decode_message(ByteView bytes, const Limits& limits) {
  Message message;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    const std::uint32_t number = field->number;
    if (number < 1 || number > 6) continue;
    const std::size_t bytes_max = number == 2 ? limits.message_data_bytes_max
                                : number == 4 ? limits.topic_bytes_max
                                              : limits.field_bytes_max;
    auto value = expect_bytes(*field, bytes_max, "message field");
    if (!value) return unexpected(std::move(value).error());
    switch (number) {
      case 1: message.from = to_owned(*value); break;
      case 2: message.data = to_owned(*value); break;
      case 3: message.seqno = to_owned(*value); break;
      case 4: message.topic = to_string_owned(*value); break;
      case 5: message.signature = to_owned(*value); break;
      case 6: message.key = to_owned(*value); break;
    }
  }
  return message;
}

Expected<Rpc, RpcError> decode_rpc(ByteView bytes, const Limits& limits) {
  if (bytes.size() > limits.rpc_bytes_max) return error(rpc::Errc::frame_too_large, "rpc");
  Rpc rpc;
  pb::Reader reader(bytes);
  while (!reader.done()) {
    auto field = next_field(reader);
    if (!field) return unexpected(std::move(field).error());
    if (field->number < 1 || field->number > 3) continue;
    if (field->type != pb::WireType::length_delimited) return error(rpc::Errc::bad_wire_type, "rpc entry");
    if (field->number == 1) {
      if (rpc.subscriptions.size() >= limits.subscriptions_per_rpc_max) return error(rpc::Errc::too_many_entries, "subscriptions");
      auto opts = decode_subopts(field->bytes, limits);
      if (!opts) return unexpected(std::move(opts).error());
      rpc.subscriptions.push_back(std::move(*opts));
    } else if (field->number == 2) {
      if (rpc.publish.size() >= limits.messages_per_rpc_max) return error(rpc::Errc::too_many_entries, "messages");
      auto message = decode_message(field->bytes, limits);
      if (!message) return unexpected(std::move(message).error());
      rpc.publish.push_back(std::move(*message));
    } else {
      // protobuf merges repeated occurrences of an embedded message.
      auto control = decode_control(field->bytes, limits);
      if (!control) return unexpected(std::move(control).error());
      if (!rpc.control) {
        rpc.control = std::move(*control);
      } else {
        auto& merged = *rpc.control;
        const std::size_t entries = merged.ihave.size() + merged.iwant.size() + merged.graft.size() + merged.prune.size() +
                                    merged.idontwant.size() + control->ihave.size() + control->iwant.size() +
                                    control->graft.size() + control->prune.size() + control->idontwant.size();
        if (entries > limits.control_entries_max) return error(rpc::Errc::too_many_entries, "control entries");
        for (auto& e : control->ihave) merged.ihave.push_back(std::move(e));
        for (auto& e : control->iwant) merged.iwant.push_back(std::move(e));
        for (auto& e : control->graft) merged.graft.push_back(std::move(e));
        for (auto& e : control->prune) merged.prune.push_back(std::move(e));
        for (auto& e : control->idontwant) merged.idontwant.push_back(std::move(e));
      }
    }
  }
  return rpc;
}

Expected<void, RpcError> FrameReader::push(ByteView bytes) {
  if (failed_) return unexpected(*failed_);
  if (buffered_bytes() + bytes.size() > limits_.rpc_bytes_max + varint::kEncodedBytesMax) {
    failed_ = RpcError{rpc::Errc::frame_too_large, "undrained stream buffer"};
    return unexpected(*failed_);
  }
  if (consumed_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  append(buffer_, bytes);
  return {};
}

Expected<std::optional<Rpc>, RpcError> FrameReader::next() {
  if (failed_) return unexpected(*failed_);
  const ByteView rest = ByteView(buffer_).subspan(consumed_);
  if (rest.empty()) return std::optional<Rpc>{};
  auto prefix = varint::decode(rest);
  if (!prefix) {
    if (prefix.error().code == varint::Errc::truncated) return std::optional<Rpc>{};
    failed_ = RpcError{rpc::Errc::bad_length_prefix, prefix.error().detail};
    return unexpected(*failed_);
  }
  if (prefix->value > limits_.rpc_bytes_max) {
    failed_ = RpcError{rpc::Errc::frame_too_large, std::to_string(prefix->value) + " bytes"};
    return unexpected(*failed_);
  }
  const std::size_t body_bytes = static_cast<std::size_t>(prefix->value);
  if (rest.size() - prefix->length < body_bytes) return std::optional<Rpc>{};
  auto rpc = decode_rpc(rest.subspan(prefix->length, body_bytes), limits_);
  if (!rpc) {
    failed_ = rpc.error();
    return unexpected(*failed_);
  }
  consumed_ += prefix->length + body_bytes;
  return std::optional<Rpc>{std::move(*rpc)};
}

}  // namespace taho::gossipsub
