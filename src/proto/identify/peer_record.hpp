// libp2p routing records (libp2p/specs RFC 0003): the addresses a peer says
// it listens on, signed by its key inside an Envelope (envelope.hpp), with a
// sequence number so newer records replace older ones.
//
//   PeerRecord  { 1: bytes peer_id  2: uint64 seq  3: repeated AddressInfo addresses }
//   AddressInfo { 1: bytes multiaddr }
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "crypto/ed25519.hpp"
#include "proto/identify/errors.hpp"

namespace taho::identify {

// The envelope domain and payload type of peer records as go-libp2p and
// js-libp2p sign them (and rust-libp2p since late 2025). RFC 0003's text says
// "libp2p-routing-state", but no record in the wild verifies under it with
// this type; the js vector in peer_record_test.cpp pins what does. The type
// is the multicodec 0x0301 written as the two bytes 03 01, not its uvarint.
inline constexpr std::string_view peer_record_domain = "libp2p-peer-record";
inline constexpr std::array<std::uint8_t, 2> peer_record_payload_type = {0x03, 0x01};
// Older rust-libp2p signed under these; we verify them, never produce them.
inline constexpr std::string_view legacy_peer_record_domain = "libp2p-routing-state";
inline constexpr std::string_view legacy_peer_record_payload_type = "/libp2p/routing-state-record";
// A peer with more addresses than this is not one we can use anyway.
inline constexpr std::size_t record_addresses_max = 128;

struct PeerRecord {
  PeerId peer_id;
  std::uint64_t seq = 0;
  std::vector<Multiaddr> addresses;
  // Addresses in the record that we could not parse (protocols taho does
  // not know, such as /webrtc-direct); skipped, not fatal.
  std::size_t unreadable_addresses = 0;

  bool operator==(const PeerRecord&) const = default;
};

Bytes encode_peer_record(const PeerRecord& record);
Expected<PeerRecord, IdentifyError> decode_peer_record(ByteView payload);

// Our signed peer record, ready for Identify's signedPeerRecord: an encoded
// Envelope holding a PeerRecord for our key's peer id.
Bytes seal_peer_record(const crypto::Ed25519KeyPair& key, std::uint64_t seq, std::span<const Multiaddr> addresses);

// Verifies a received signed peer record: the envelope's type and signature
// (standard, or the legacy rust-libp2p pair), and that the record names the
// peer whose key signed it.
Expected<PeerRecord, IdentifyError> open_peer_record(ByteView envelope);

}  // namespace taho::identify
