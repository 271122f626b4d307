// The serving side of one /taho/blob/1.0.0 stream (docs/protocols/blob.md),
// sans-IO. The core reads the request, hands it to its driver through
// poll_request(), and the driver answers with respond_have(size) and then
// the range encoding in pieces (push_body) as it reads it from the store,
// or with respond_dont_have() / respond_error(). The core checks that
// exactly the announced number of body bytes arrive and holds at most
// output_bytes_max of them unsent, so a 16 MiB range never sits in memory
// twice.
//
// Stream driving is the same as for the echo and perf cores:
// handle_data()/handle_end() with what the stream delivered,
// pending_output()/consume_output() for bytes to write, wants_input()
// before reading, close_write_due() once the response is written. An error
// from handle_data()/handle_end() means: reset the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/bytes.hpp"
#include "base/expected.hpp"
#include "proto/blob/errors.hpp"
#include "proto/blob/message.hpp"

namespace taho::blob {

struct ServerOptions {
  // Content bytes one request may ask for (after clamping to the content's
  // end). The store serves ranges of up to 16 MiB in one piece
  // (content::kRangeBytesMax); fetchers ask for 1 MiB.
  std::uint64_t range_bytes_max = std::uint64_t{16} << 20;
  // Response bytes queued but not yet written; push_body takes no more.
  std::size_t output_bytes_max = 256 * 1024;
};

class Server {
 public:
  explicit Server(const ServerOptions& options = {}) : options_(options) {}

  // Stream input. Fails on a malformed length prefix, a request above
  // request_bytes_max, bytes after the request, or the end of the stream
  // before the request. A request that frames well but does not decode or
  // names an unaligned offset is answered ERROR bad_request by the core
  // itself (see refusal()), not failed.
  Expected<void, BlobError> handle_data(ByteView data);
  Expected<void, BlobError> handle_end();
  bool wants_input() const { return !remote_ended_ && !failure_; }

  // The request, once, when it has been read and awaits an answer.
  std::optional<Request> poll_request();

  // Answers. respond_have returns how many body bytes (the range encoding,
  // content::encoded_range_bytes) the driver must now push: 0 for a
  // size-only request. A range above range_bytes_max is answered ERROR
  // range_too_large on the wire and returned as that error (push nothing).
  Expected<std::uint64_t, BlobError> respond_have(std::uint64_t content_size);
  Expected<void, BlobError> respond_dont_have();
  Expected<void, BlobError> respond_error(RemoteErrc code, std::string_view text);

  // The body, in pieces of any size: takes up to body_room() bytes and
  // returns how many it took. Fails (too_many_bytes) when `bytes` goes
  // past the announced end: the driver's encoding does not fit the size it
  // announced, and the stream must be reset.
  Expected<std::size_t, BlobError> push_body(ByteView bytes);
  bool wants_body() const { return body_room() > 0; }
  std::size_t body_room() const;
  std::uint64_t body_bytes_remaining() const { return body_remaining_; }

  ByteView pending_output() const { return ByteView(output_).subspan(sent_); }
  void consume_output(std::size_t bytes);
  // The whole response was written: close the write side.
  bool close_write_due() const { return state_ == State::answered && pending_output().empty(); }

  // Why the core answered ERROR by itself (a bad request or a range above
  // the limit), for the driver's log and counters.
  const std::optional<BlobError>& refusal() const { return refusal_; }
  const std::optional<Request>& request() const { return request_; }

 private:
  enum class State { reading_request, awaiting_answer, sending_body, answered };

  Expected<void, BlobError> fail(BlobError error);
  void queue_header(const ResponseHeader& header);
  void refuse(RemoteErrc code, BlobError reason);
  std::size_t unsent_bytes() const { return output_.size() - sent_; }

  ServerOptions options_;
  State state_ = State::reading_request;
  FrameReader reader_{request_bytes_max};
  std::optional<Request> request_;
  bool request_polled_ = false;
  std::uint64_t body_remaining_ = 0;
  Bytes output_;
  std::size_t sent_ = 0;
  bool remote_ended_ = false;
  std::optional<BlobError> failure_;
  std::optional<BlobError> refusal_;
};

}  // namespace taho::blob
