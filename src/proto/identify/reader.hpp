// Receives the Identify messages of one stream (identify response or
// identify-push), sans-IO: the driver hands in whatever fragments arrive and
// then the end of the stream, since the sender closes its write side after
// its messages. Memory stays within one message (Limits::message_bytes_max)
// plus the merged result. The response timeout is the driver's to enforce
// (response_timeout in message.hpp).
#pragma once

#include <cstddef>
#include <optional>

#include "base/bytes.hpp"
#include "proto/identify/errors.hpp"
#include "proto/identify/message.hpp"

namespace taho::identify {

class Reader {
 public:
  explicit Reader(const Limits& limits = {}) : limits_(limits) {}

  // Bytes from the stream in any fragmentation. Each message is decoded and
  // merged as soon as it is complete, so oversize or malformed input fails
  // here, early. After an error every call returns that error again.
  Expected<void, IdentifyError> handle_data(ByteView bytes);
  // The remote closed its write side: the merged Info of all its messages.
  // Fails (truncated) if the stream ended inside a message or before any.
  Expected<Info, IdentifyError> handle_end();

  std::size_t messages_read() const { return messages_read_; }

 private:
  Expected<void, IdentifyError> fail(IdentifyError error);
  Expected<void, IdentifyError> take_prefix_byte(std::uint8_t byte);
  Expected<void, IdentifyError> finish_message();

  Limits limits_;
  Bytes prefix_;                            // the length prefix read so far
  std::optional<std::size_t> body_length_;  // set once the prefix is complete
  Bytes body_;
  Info merged_;
  std::size_t messages_read_ = 0;
  std::optional<IdentifyError> failure_;
  bool ended_ = false;
};

// The whole stream at once: every message, then its end.
Expected<Info, IdentifyError> read_messages(ByteView stream, const Limits& limits = {});

}  // namespace taho::identify
