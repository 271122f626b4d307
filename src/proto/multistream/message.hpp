// The multistream-select 1.0 message codec: every message is a uvarint length,
// UTF-8 text and a '\n' that the length includes (libp2p connections spec).
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "proto/multistream/errors.hpp"

namespace taho::multistream {

inline constexpr std::string_view kProtocolId = "/multistream/1.0.0";
inline constexpr std::string_view kNotAvailable = "na";
inline constexpr std::string_view kList = "ls";
// Largest message, newline included, that js-libp2p and go accept.
inline constexpr std::size_t kMessageBytesMax = 1024;

// Appends `<uvarint(len + 1)><text>\n` to `out`.
void append_message(std::string_view text, Bytes& out);

// Appends the answer to `ls`: one message whose body is each protocol as its
// own length-prefixed line, then a final '\n' (what go-multistream and
// rust-libp2p send and parse). Protocols that would push the message past
// `message_bytes_max` are left out.
void append_protocol_list(std::span<const std::string> protocols, std::size_t message_bytes_max,
                          Bytes& out);

// Parses the text of an `ls` answer (the message without its final '\n').
Expected<std::vector<std::string>, NegotiationError> parse_protocol_list(std::string_view text,
                                                                         std::size_t protocols_max);

// True when `name` can be sent as a proposal: non-empty, no '\n', valid UTF-8,
// and short enough to fit in one message.
bool is_valid_protocol_name(std::string_view name, std::size_t message_bytes_max);

bool is_valid_utf8(std::string_view text);

// Splits a byte stream that arrives in arbitrary fragments into messages. It
// holds at most one partial message (message_bytes_max plus its prefix).
class MessageReader {
 public:
  explicit MessageReader(std::size_t message_bytes_max = kMessageBytesMax)
      : message_bytes_max_(message_bytes_max) {}

  // Consumes bytes from the front of `input` up to the end of the next
  // message and returns its text without the newline; returns nullopt when
  // `input` ran out first (it is then empty). Bytes after the message stay in
  // `input`. The view is valid until the next call.
  Expected<std::optional<std::string_view>, NegotiationError> next(ByteView& input);

 private:
  std::size_t message_bytes_max_;
  Bytes prefix_;                          // varint bytes read so far
  std::optional<std::size_t> length_;     // known once the prefix is complete
  std::string body_;                      // message bytes read so far
};

}  // namespace taho::multistream
