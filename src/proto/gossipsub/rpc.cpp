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

void write_ids(pb::Writer& out, std::uint32_t field, const std::vector<Bytes>& ids) {
  for (const auto& id : ids) out.bytes(field, id);
}

Bytes encode_peer_info(const PeerInfo& info) {
  pb::Writer out;
  if (info.peer_id) out.bytes(1, *info.peer_id);
  if (info.signed_peer_record) out.bytes(2, *info.signed_peer_record);
  return out.take();
}

Bytes encode_control(const ControlMessage& control) {
  pb::Writer out;
  for (const auto& ihave : control.ihave) {
    pb::Writer entry;
    entry.string(1, ihave.topic);
    write_ids(entry, 2, ihave.message_ids);
    out.bytes(1, entry.data());
  }
  for (const auto& iwant : control.iwant) {
    pb::Writer entry;
    write_ids(entry, 1, iwant.message_ids);
    out.bytes(2, entry.data());
  }
  for (const auto& graft : control.graft) {
    pb::Writer entry;
    entry.string(1, graft.topic);
    out.bytes(3, entry.data());
  }
  for (const auto& prune : control.prune) {
    pb::Writer entry;
    entry.string(1, prune.topic);
    for (const auto& peer : prune.peers) entry.bytes(2, encode_peer_info(peer));
    if (prune.backoff) entry.varint(3, *prune.backoff);
    out.bytes(4, entry.data());
  }
  for (const auto& idontwant : control.idontwant) {
    pb::Writer entry;
    write_ids(entry, 1, idontwant.message_ids);
    out.bytes(5, entry.data());
  }
  return out.take();
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

// Fields 1-4 of a Message, the part a signature covers.
void write_unsigned_fields(pb::Writer& out, const Message& message) {
  if (message.from) out.bytes(1, *message.from);
  out.bytes(2, message.data);
  if (message.seqno) out.bytes(3, *message.seqno);
  out.string(4, message.topic);
}

}  // namespace

Bytes encode_message(const Message& message) {
  pb::Writer out;
  write_unsigned_fields(out, message);
  if (message.signature) out.bytes(5, *message.signature);
  if (message.key) out.bytes(6, *message.key);
  return out.take();
}

Bytes encode_unsigned_message(std::string_view prefix, const Message& message) {
  pb::Writer fields;
  write_unsigned_fields(fields, message);
  Bytes out;
  out.reserve(prefix.size() + fields.data().size());
  append(out, as_bytes(prefix));
  append(out, fields.data());
  return out;
}

Bytes encode_rpc(const Rpc& rpc) {
  pb::Writer out;
  for (const auto& sub : rpc.subscriptions) {
    pb::Writer entry;
    entry.boolean(1, sub.subscribe);
    entry.string(2, sub.topic);
    out.bytes(1, entry.data());
  }
  for (const auto& message : rpc.publish) out.bytes(2, encode_message(message));
  if (rpc.control) out.bytes(3, encode_control(*rpc.control));
  return out.take();
}

Bytes encode_framed(const Rpc& rpc) {
  const Bytes body = encode_rpc(rpc);
  Bytes framed;
  framed.reserve(body.size() + varint::kEncodedBytesMax);
  varint::encode(body.size(), framed);
  append(framed, body);
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
