#include "proto/identify/peer_record.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "base/protobuf.hpp"
#include "proto/identify/envelope.hpp"
#include "proto/identify/public_key_peer_id.hpp"

namespace taho::identify {
namespace {

constexpr std::uint32_t kFieldPeerId = 1;
constexpr std::uint32_t kFieldSeq = 2;
constexpr std::uint32_t kFieldAddresses = 3;
constexpr std::uint32_t kFieldAddressMultiaddr = 1;

IdentifyError bad_record(std::string detail) { return {Errc::bad_record, "peer record: " + std::move(detail)}; }

// AddressInfo { 1: bytes multiaddr }: returns the multiaddr bytes, or nullopt
// when the message holds none. Unknown fields are skipped.
Expected<std::optional<ByteView>, IdentifyError> read_address_info(ByteView message) {
  std::optional<ByteView> address;
  pb::Reader reader(message);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(bad_record("address info: " + field.error().detail));
    if (field->number != kFieldAddressMultiaddr) continue;
    if (field->type != pb::WireType::length_delimited) return unexpected(bad_record("multiaddr: wrong wire type"));
    address = field->bytes;
  }
  return address;
}

}  // namespace

Bytes encode_peer_record(const PeerRecord& record) {
  pb::Writer writer;
  writer.bytes(kFieldPeerId, record.peer_id.bytes());
  writer.varint(kFieldSeq, record.seq);
  for (const Multiaddr& address : record.addresses) {
    pb::Writer info;
    info.bytes(kFieldAddressMultiaddr, address.bytes());
    writer.bytes(kFieldAddresses, info.data());
  }
  return writer.take();
}

Expected<PeerRecord, IdentifyError> decode_peer_record(ByteView payload) {
  std::optional<PeerId> peer_id;
  std::uint64_t seq = 0;
  std::vector<Multiaddr> addresses;
  std::size_t unreadable = 0;
  pb::Reader reader(payload);
  while (!reader.done()) {
    auto field = reader.next();
    if (!field) return unexpected(bad_record(field.error().detail));
    switch (field->number) {
      case kFieldPeerId: {
        if (field->type != pb::WireType::length_delimited) return unexpected(bad_record("peer_id: wrong wire type"));
        auto id = PeerId::from_bytes(field->bytes);
        if (!id) return unexpected(bad_record("peer_id: " + id.error().detail));
        peer_id = std::move(*id);
        break;
      }
      case kFieldSeq:
        if (field->type != pb::WireType::varint) return unexpected(bad_record("seq: wrong wire type"));
        seq = field->integer;
        break;
      case kFieldAddresses: {
        if (field->type != pb::WireType::length_delimited) return unexpected(bad_record("addresses: wrong wire type"));
        if (addresses.size() + unreadable == record_addresses_max) {
          return unexpected(IdentifyError{Errc::too_many_entries,
                                          "peer record: more than " + std::to_string(record_addresses_max) + " addresses"});
        }
        auto info = read_address_info(field->bytes);
        if (!info) return unexpected(std::move(info).error());
        if (!info->has_value()) {
          ++unreadable;
          break;
        }
        auto address = Multiaddr::from_bytes(**info);
        if (address) {
          addresses.push_back(std::move(*address));
        } else {
          ++unreadable;
        }
        break;
      }
      default: break;  // unknown fields are skipped
    }
  }
  if (!peer_id) return unexpected(bad_record("no peer id"));
  return PeerRecord{.peer_id = std::move(*peer_id), .seq = seq, .addresses = std::move(addresses),
                    .unreadable_addresses = unreadable};
}

Bytes seal_peer_record(const crypto::Ed25519KeyPair& key, std::uint64_t seq, std::span<const Multiaddr> addresses) {
  const PeerRecord record{.peer_id = PeerId::from_ed25519(key.public_key()),
                          .seq = seq,
                          .addresses = std::vector<Multiaddr>(addresses.begin(), addresses.end())};
  return encode_envelope(seal_envelope(key, peer_record_domain, peer_record_payload_type, encode_peer_record(record)));
}

Expected<PeerRecord, IdentifyError> open_peer_record(ByteView envelope_bytes) {
  auto envelope = decode_envelope(envelope_bytes);
  if (!envelope) return unexpected(std::move(envelope).error());
  const bool legacy = std::ranges::equal(envelope->payload_type, as_bytes(legacy_peer_record_payload_type));
  auto verified = legacy ? verify_envelope(*envelope, legacy_peer_record_domain, as_bytes(legacy_peer_record_payload_type))
                         : verify_envelope(*envelope, peer_record_domain, peer_record_payload_type);
  if (!verified) return unexpected(std::move(verified).error());
  auto record = decode_peer_record(envelope->payload);
  if (!record) return record;
  auto signer = peer_id_of(envelope->public_key);
  if (!signer) return unexpected(std::move(signer).error());
  if (record->peer_id != *signer) {
    return unexpected(IdentifyError{Errc::peer_id_mismatch, "peer record for " + record->peer_id.to_string() +
                                                                " is signed by " + signer->to_string()});
  }
  return record;
}

}  // namespace taho::identify
