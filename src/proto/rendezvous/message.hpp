// The rendezvous wire message (libp2p/specs rendezvous/README.md): one
// uvarint-length-prefixed protobuf `Message` per direction, one request per
// stream (a REGISTER or DISCOVER gets one response; UNREGISTER gets none).
//
//   Message          { 1: type  2: Register  3: RegisterResponse  4: Unregister
//                      5: Discover  6: DiscoverResponse }
//   Register         { 1: string ns  2: bytes signedPeerRecord  3: ttl (seconds) }
//   RegisterResponse { 1: status  2: string statusText  3: ttl (seconds) }
//   Unregister       { 1: string ns  2: bytes id }
//   Discover         { 1: string ns  2: limit  3: bytes cookie }
//   DiscoverResponse { 1: repeated Register registrations  2: bytes cookie
//                      3: status  4: string statusText }
//
// The codec checks structure and bounds only; whether a namespace is valid
// UTF-8 or a signed record verifies is the server's and client's business.
// Unknown fields are skipped (so the spec's proof-of-work fields are too).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/length_prefixed.hpp"
#include "proto/identify/envelope.hpp"
#include "proto/rendezvous/errors.hpp"

namespace taho::rendezvous {

inline constexpr std::string_view protocol_id = "/rendezvous/1.0.0";

// The spec's recommended maximum, which rust-libp2p enforces when decoding.
inline constexpr std::size_t namespace_bytes_max = 255;

enum class MessageType : std::uint8_t {
  register_request = 0,  // REGISTER
  register_response = 1,
  unregister = 2,
  discover = 3,
  discover_response = 4,
};

// Kept as the raw number: a status we do not know still round-trips.
enum class ResponseStatus : std::uint32_t {
  ok = 0,
  invalid_namespace = 100,
  invalid_signed_peer_record = 101,
  invalid_ttl = 102,
  invalid_cookie = 103,
  not_authorized = 200,
  internal_error = 300,
  unavailable = 400,
};

std::string_view to_string(ResponseStatus status);

struct Limits {
  // rust-libp2p reads frames of up to 1 MiB; a larger one could not reach it.
  std::size_t message_bytes_max = 1024 * 1024;
  // Cookies are opaque; ours are 8 bytes plus the namespace (cookie.hpp).
  // Other points' may be larger, but not much.
  std::size_t cookie_bytes_max = 1024;
  // Signed peer records are identify's envelopes.
  std::size_t signed_peer_record_bytes_max = identify::envelope_bytes_max;
  std::size_t status_text_bytes_max = 1024;
  // The spec recommends points return at most 1000 per query.
  std::size_t registrations_per_response_max = 1000;
  // One request and one response per stream; a few more are tolerated for
  // clients that reuse a stream, a flood of tiny frames is not.
  std::size_t messages_per_stream_max = 16;
};

struct Register {
  std::string ns;
  Bytes signed_peer_record;  // an encoded Envelope holding a PeerRecord
  std::optional<std::uint64_t> ttl_seconds;  // absent: the point's default (2 h)

  bool operator==(const Register&) const = default;
};

struct RegisterResponse {
  ResponseStatus status = ResponseStatus::ok;
  std::string status_text;
  std::optional<std::uint64_t> ttl_seconds;  // the TTL granted (OK only)

  bool operator==(const RegisterResponse&) const = default;
};

struct Unregister {
  std::string ns;
  // The peer id bytes go-libp2p adds. Points ignore it: only the stream's
  // authenticated sender can be unregistered.
  Bytes id;

  bool operator==(const Unregister&) const = default;
};

struct Discover {
  std::string ns;  // empty: every namespace (not written, as the spec asks)
  std::optional<std::uint64_t> limit;
  Bytes cookie;  // empty: from the start

  bool operator==(const Discover&) const = default;
};

struct DiscoverResponse {
  std::vector<Register> registrations;
  Bytes cookie;
  ResponseStatus status = ResponseStatus::ok;
  std::string status_text;

  bool operator==(const DiscoverResponse&) const = default;
};

// One body per type is meaningful; the codec keeps whatever is present.
struct Message {
  MessageType type = MessageType::register_request;  // proto default (0)
  std::optional<Register> register_request;
  std::optional<RegisterResponse> register_response;
  std::optional<Unregister> unregister;
  std::optional<Discover> discover;
  std::optional<DiscoverResponse> discover_response;

  bool operator==(const Message&) const = default;
};

// The protobuf body (no length prefix). `type` and every status are always
// written (rust-libp2p requires them); Register's ns is always written,
// Discover's only when non-empty (absent means "all namespaces").
Bytes encode_message(const Message& message);
Expected<Message, RendezvousError> decode_message(ByteView body, const Limits& limits = {});

// The bytes one Register adds to a DiscoverResponse (tag and length
// included), so a point can keep its response under a frame budget.
std::size_t encoded_registration_bytes(const Register& registration);

// uvarint length prefix + body, as written to a stream.
Bytes encode_frame(const Message& message);

// Reads length-prefixed messages from a stream in any fragmentation. Memory
// stays within one prefix plus one body. After an error every call returns
// that error again.
class FrameReader {
 public:
  explicit FrameReader(const Limits& limits = {}) : limits_(limits), frames_(limits.message_bytes_max) {}

  Expected<void, RendezvousError> handle_data(ByteView bytes);
  // The next complete message, in stream order.
  std::optional<Message> poll_message();
  // The remote closed its write side: fails (truncated) if it stopped in
  // the middle of a message.
  Expected<void, RendezvousError> handle_end();

 private:
  Limits limits_;
  FramedMessageReader<Message, Errc> frames_;
  std::size_t messages_read_ = 0;
};

}  // namespace taho::rendezvous
