// The fetching side of one /taho/blob/1.0.0 stream (docs/protocols/blob.md),
// sans-IO: writes one request, reads the response header and feeds the
// range encoding to a content::RangeDecoder, so every group it hands out
// (poll_group) has been verified against the root. Driven like the echo and
// perf cores: pending_output()/consume_output(), close_write_due() once the
// request is written, handle_data()/handle_end() with what the stream
// delivered, wants_input() before reading.
//
// Every failure is a value (BlobError) and sticks: DONT_HAVE (dont_have),
// ERROR from the peer (remote_error, with BlobError::remote), data that
// does not verify (bad_group, with BlobError::group: penalise the peer), a
// short stream (truncated), bytes past the encoding (too_many_bytes), a
// malformed or contradictory header (bad_protobuf, bad_field, too_large,
// bad_length_prefix, bad_response). Groups verified before a failure stay
// valid and can still be polled.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>

#include "base/bytes.hpp"
#include "base/expected.hpp"
#include "content/tree/range_decoder.hpp"
#include "content/tree/range_encoding.hpp"
#include "proto/blob/errors.hpp"
#include "proto/blob/message.hpp"

namespace taho::blob {

struct ClientOptions {
  // Verified group bytes waiting in poll_group() before wants_input()
  // turns false (the queue may exceed it by one read of the driver).
  std::size_t verified_bytes_max = 1024 * 1024;
};

class Client {
 public:
  // Asks for `range` of the content `root` (offset 16 KiB aligned, else
  // bad_range). The server clamps the range to the content's end; a range
  // of length 0, or past the end, brings the proof of the size only.
  static Expected<Client, BlobError> for_range(const content::Hash& root, content::ByteRange range,
                                               const ClientOptions& options = {});
  // Asks for the size only (HEAD). That size is the peer's claim: only a
  // range response proves it.
  static Client for_size(const content::Hash& root);

  ByteView pending_output() const { return ByteView(request_).subspan(request_sent_); }
  void consume_output(std::size_t bytes);
  // The request was written: close the write side.
  bool close_write_due() const { return request_sent_ == request_.size(); }

  Expected<void, BlobError> handle_data(ByteView data);
  // Fails (truncated) when the stream ended before the response was complete.
  Expected<void, BlobError> handle_end();
  bool wants_input() const;

  // The next verified group, in ascending order. The last group of the
  // content comes with every range response (it proves the size), so it
  // may arrive even if the range does not cover it.
  std::optional<content::VerifiedGroup> poll_group();
  std::size_t verified_bytes_queued() const { return verified_bytes_; }
  // The response is complete: every group verified (or the size received,
  // for a size-only request). The driver need not wait for the end of the
  // stream, but it must not feed more bytes.
  bool done() const { return done_; }
  // The content's size from the response header; verified by the encoding
  // once done() for a range request.
  std::optional<std::uint64_t> size() const { return size_; }
  const std::optional<BlobError>& failure() const { return failure_; }
  // Every byte received so far (header and body), for throughput estimates.
  std::uint64_t received_bytes() const { return received_bytes_; }
  const Request& request() const { return request_fields_; }

 private:
  Client(const Request& request, const ClientOptions& options);

  Expected<void, BlobError> fail(BlobError error);
  Expected<void, BlobError> take_header(const ResponseHeader& header);
  Expected<void, BlobError> feed_body(ByteView body);
  Expected<void, BlobError> feed_decoder(ByteView bytes);
  void drain_decoder();
  // The group the decoder verifies next: groups come in ascending order,
  // the requested ones first, then the content's last group.
  std::uint64_t next_expected_group() const;

  Request request_fields_;
  ClientOptions options_;
  Bytes request_;
  std::size_t request_sent_ = 0;
  FrameReader header_reader_{response_header_bytes_max};
  std::optional<std::uint64_t> size_;
  std::optional<content::RangeDecoder> decoder_;
  content::GroupRange groups_{};
  std::uint64_t body_received_ = 0;
  std::uint64_t groups_verified_ = 0;
  std::deque<content::VerifiedGroup> verified_;
  std::size_t verified_bytes_ = 0;
  std::uint64_t received_bytes_ = 0;
  bool done_ = false;
  bool ended_ = false;
  std::optional<BlobError> failure_;
};

}  // namespace taho::blob
