// The Identify message (libp2p/specs identify/README.md) and its framing.
//
//   Identify { 5: string protocolVersion   6: string agentVersion
//              1: bytes publicKey (a PublicKey message)
//              2: repeated bytes listenAddrs (binary multiaddrs)
//              4: bytes observedAddr          3: repeated string protocols
//              8: bytes signedPeerRecord (an Envelope, see peer_record.hpp) }
//
// On a stream each message is uvarint-length-prefixed, and a sender may send
// several that the receiver merges (js-libp2p reads up to 10): later singular
// fields override earlier ones, repeated fields extend them.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/identify/errors.hpp"

namespace taho::identify {

inline constexpr std::string_view protocol_id = "/ipfs/id/1.0.0";
inline constexpr std::string_view push_protocol_id = "/ipfs/id/push/1.0.0";
inline constexpr std::string_view protocol_version_default = "ipfs/0.1.0";
// How long the swarm waits for the remote's identify (js-libp2p's default too).
inline constexpr Duration response_timeout = std::chrono::seconds(5);

// Bounds on what one identify stream may bring. The per-message size and
// count match go-libp2p and js-libp2p, so what they send always fits.
struct Limits {
  std::size_t message_bytes_max = 8 * 1024;  // one message, without its length prefix
  std::size_t messages_max = 10;             // messages merged from one stream
  std::size_t listen_addrs_max = 128;        // after merging
  std::size_t protocols_max = 256;           // after merging
  std::size_t protocol_id_bytes_max = 1024;  // multistream-select's own limit
};

// The content of one or more merged Identify messages. Absent singular
// fields stay nullopt, so an identify-push can update only what it carries.
struct Info {
  std::optional<std::string> protocol_version;
  std::optional<std::string> agent_version;
  std::optional<PublicKey> public_key;
  std::vector<Multiaddr> listen_addrs;
  std::optional<Multiaddr> observed_addr;
  std::vector<std::string> protocols;
  std::optional<Bytes> signed_peer_record;  // an encoded Envelope; check it with open_peer_record()
  // Addresses the remote sent that we could not parse (protocols taho does
  // not know, such as /webrtc-direct): skipped and counted, not fatal.
  std::size_t unreadable_addrs = 0;

  bool operator==(const Info&) const = default;
};

// The protobuf body of one message, fields in field-number order.
Bytes encode(const Info& info);
// Parses one message body (no length prefix). Unknown fields are skipped;
// known fields with the wrong wire type, bad public keys, protocol ids over
// the limit or more entries than the limits allow are errors.
Expected<Info, IdentifyError> decode(ByteView body, const Limits& limits = {});

// Folds `update` into `into` the way protobuf merges messages: singular
// fields present in `update` replace, repeated fields extend (skipping
// entries already present). Fails with too_many_entries past the limits.
Expected<void, IdentifyError> merge(Info& into, Info update, const Limits& limits = {});

// What goes on the stream: uvarint length ‖ body. An Info too large for one
// message is split over several (repeated fields spread across them), never
// more than limits.messages_max; fails with too_large if it cannot fit.
Expected<Bytes, IdentifyError> encode_message(const Info& info, const Limits& limits = {});

}  // namespace taho::identify
