// uvarint-length-prefixed frames, the framing of libp2p's request/response
// protocols (kad, rendezvous, identify ...): prefix the body on the way out,
// and split a stream of any fragmentation back into bodies on the way in,
// holding at most one prefix plus one body.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho {

// The uvarint length of `body`, then `body`.
Bytes length_prefixed(ByteView body);

namespace frame {
enum class Errc {
  bad_length_prefix,  // the uvarint prefix is malformed (overlong, not minimal)
  too_large,          // the prefix announces more than body_bytes_max
};
}  // namespace frame
using FrameError = Error<frame::Errc>;

class FrameSplitter {
 public:
  explicit FrameSplitter(std::size_t body_bytes_max) : body_bytes_max_(body_bytes_max) {}

  // Takes bytes from the front of `bytes` up to the end of the next frame.
  // Returns that frame's body (valid until the next call) once it is
  // complete, or nullopt when `bytes` ran out first (then all of it was
  // taken). After an error the splitter is unusable.
  Expected<std::optional<ByteView>, FrameError> next(ByteView& bytes);
  // True while part of a frame is buffered: a stream ending now is truncated.
  bool mid_frame() const { return !buffer_.empty() && !complete_; }

 private:
  std::size_t body_bytes_max_;
  Bytes buffer_;  // the prefix and body of the frame being read
  bool complete_ = false;  // buffer_ holds a whole frame, handed out by the last next()
};

// Reads a stream of length-prefixed messages for a codec, in any
// fragmentation: splits frames, decodes each body and queues the messages in
// stream order. Memory stays within one prefix plus one body, plus the
// messages not yet polled. After an error every call returns that error
// again. `Code` is the codec's error enum; framing errors are reported as its
// `too_large`, `bad_length_prefix` and `truncated`.
template <class Message, class Code>
class FramedMessageReader {
 public:
  using ReadError = Error<Code>;

  explicit FramedMessageReader(std::size_t body_bytes_max) : splitter_(body_bytes_max) {}

  // `decode` turns one frame body into Expected<Message, ReadError>; its
  // error fails the reader like a framing error does.
  template <class Decode>
  Expected<void, ReadError> handle_data(ByteView bytes, Decode&& decode) {
    if (failure_) return unexpected(*failure_);
    while (true) {
      auto body = splitter_.next(bytes);
      if (!body) {
        const Code code = body.error().code == frame::Errc::too_large ? Code::too_large : Code::bad_length_prefix;
        return fail({code, std::move(body).error().detail});
      }
      if (!*body) return {};
      auto message = decode(**body);
      if (!message) return fail(std::move(message).error());
      ready_.push_back(std::move(*message));
    }
  }

  // The next complete message, in stream order.
  std::optional<Message> poll_message() {
    if (next_ready_ >= ready_.size()) return std::nullopt;
    Message message = std::move(ready_[next_ready_++]);
    if (next_ready_ == ready_.size()) {
      ready_.clear();
      next_ready_ = 0;
    }
    return message;
  }

  // The remote closed its write side: fails (truncated) if it stopped in
  // the middle of a message.
  Expected<void, ReadError> handle_end() {
    if (failure_) return unexpected(*failure_);
    if (splitter_.mid_frame()) return fail({Code::truncated, "stream ended inside a message"});
    return {};
  }

 private:
  Expected<void, ReadError> fail(ReadError error) {
    failure_ = error;
    return unexpected(std::move(error));
  }

  FrameSplitter splitter_;
  std::vector<Message> ready_;
  std::size_t next_ready_ = 0;  // ready_[next_ready_..] are not yet polled
  std::optional<ReadError> failure_;
};

}  // namespace taho
