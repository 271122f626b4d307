// The AutoNAT v1 wire message (libp2p/specs autonat/README.md,
// /libp2p/autonat/1.0.0): one uvarint-length-prefixed protobuf `Message`
// each way on a stream: the client sends DIAL naming the addresses it wants
// tested, the server dials them back and answers DIAL_RESPONSE.
//
//   Message      { 1: MessageType type  2: Dial dial  3: DialResponse dialResponse }
//   Dial         { 1: PeerInfo peer }
//   PeerInfo     { 1: bytes id  2: repeated bytes addrs }
//   DialResponse { 1: ResponseStatus status  2: string statusText  3: bytes addr }
//
// The codec checks structure and bounds only: addresses stay raw bytes
// (the server policy parses and filters them), and a status we do not
// know is kept as its number. Unknown fields are skipped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/length_prefixed.hpp"

namespace taho::autonat {

inline constexpr std::string_view protocol_id = "/libp2p/autonat/1.0.0";

enum class Errc {
  too_large,          // a frame, field or address list over its limit
  bad_length_prefix,  // the uvarint length prefix is malformed
  truncated,          // the stream ended inside a message, or before any
  bad_protobuf,       // not well-formed protobuf, or a known field with the wrong wire type
  bad_field,          // a known field whose value is invalid (type or status out of range)
};
using AutonatError = Error<Errc>;
std::string_view to_string(Errc code);

enum class MessageType : std::uint8_t { dial = 0, dial_response = 1 };

// Kept as the raw number: a status we do not know still round-trips.
enum class ResponseStatus : std::uint32_t {
  ok = 0,
  dial_error = 100,      // E_DIAL_ERROR: the dial-back failed
  dial_refused = 101,    // E_DIAL_REFUSED: the server would not dial (policy, rate limit)
  bad_request = 200,     // E_BAD_REQUEST
  internal_error = 300,  // E_INTERNAL_ERROR
};
std::string_view to_string(ResponseStatus status);  // "OK", "E_DIAL_ERROR" ...; "unknown" otherwise

struct Limits {
  // js-libp2p and go-libp2p cap AutoNAT messages at a few KiB; ours fit in 4 KiB.
  std::size_t message_bytes_max = 8 * 1024;
  std::size_t addrs_max = 64;  // in one PeerInfo
  std::size_t addr_bytes_max = 1024;  // multiaddr::kBytesMax
  std::size_t peer_id_bytes_max = 128;
  std::size_t status_text_bytes_max = 1024;
};

struct PeerInfo {
  std::optional<Bytes> id;  // the requester's peer id bytes
  std::vector<Bytes> addrs;  // binary multiaddrs, unparsed
  bool operator==(const PeerInfo&) const = default;
};

struct Dial {
  std::optional<PeerInfo> peer;
  bool operator==(const Dial&) const = default;
};

struct DialResponse {
  std::optional<ResponseStatus> status;  // absent on the wire: a malformed answer
  std::string status_text;
  std::optional<Bytes> addr;  // OK: the address the dial-back reached
  bool operator==(const DialResponse&) const = default;
};

struct Message {
  std::optional<MessageType> type;
  std::optional<Dial> dial;
  std::optional<DialResponse> dial_response;
  bool operator==(const Message&) const = default;
};

// Builders for the two messages of the protocol.
Message make_dial(ByteView peer_id, const std::vector<Bytes>& addrs);
Message make_response(ResponseStatus status, std::string status_text, std::optional<Bytes> addr = std::nullopt);

// The protobuf body (no length prefix); present fields only.
Bytes encode_message(const Message& message);
Expected<Message, AutonatError> decode_message(ByteView body, const Limits& limits = {});
// uvarint length prefix + body, as written to a stream.
Bytes encode_frame(const Message& message);

// Reads the one message a side expects from a stream in any fragmentation.
// Memory stays within one prefix plus one body. After an error every call
// returns that error again.
class FrameReader {
 public:
  explicit FrameReader(const Limits& limits = {}) : limits_(limits), splitter_(limits.message_bytes_max) {}

  Expected<void, AutonatError> handle_data(ByteView bytes);
  // The message, once complete (handed out once).
  std::optional<Message> poll_message();
  // The remote closed its write side: fails if it stopped before or inside a message.
  Expected<void, AutonatError> handle_end();

 private:
  Expected<void, AutonatError> fail(AutonatError error);

  Limits limits_;
  FrameSplitter splitter_;
  std::optional<Message> ready_;
  bool got_message_ = false;
  std::optional<AutonatError> failure_;
};

}  // namespace taho::autonat
