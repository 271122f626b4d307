#include "proto/blob/server.hpp"

#include <algorithm>
#include <string>

#include "content/tree/range_encoding.hpp"

namespace taho::blob {

Expected<void, BlobError> Server::fail(BlobError error) {
  failure_ = error;
  return unexpected(std::move(error));
}

void Server::queue_header(const ResponseHeader& header) {
  append(output_, frame(encode_response_header(header)));
}

void Server::refuse(RemoteErrc code, BlobError reason) {
  queue_header({Status::error, 0, code, reason.detail});
  refusal_ = std::move(reason);
  state_ = State::answered;
}

Expected<void, BlobError> Server::handle_data(ByteView data) {
  if (failure_) return unexpected(*failure_);
  if (remote_ended_) return fail({Errc::unexpected_data, "data after the end of the stream"});
  if (state_ != State::reading_request) {
    if (data.empty()) return {};
    return fail({Errc::unexpected_data, "bytes after the request"});
  }
  auto taken = reader_.handle_data(data);
  if (!taken) return fail(std::move(taken).error());
  if (!reader_.complete()) return {};
  if (*taken < data.size()) return fail({Errc::unexpected_data, "bytes after the request"});

  auto request = decode_request(reader_.body());
  reader_ = FrameReader(0);  // release the buffer
  if (!request) {
    refuse(RemoteErrc::bad_request, std::move(request).error());
    return {};
  }
  if (request->offset % content::kGroupBytes != 0) {
    refuse(RemoteErrc::bad_request, {Errc::bad_range, "offset " + std::to_string(request->offset) +
                                                          " is not a multiple of 16 KiB"});
    return {};
  }
  request_ = *request;
  state_ = State::awaiting_answer;
  return {};
}

Expected<void, BlobError> Server::handle_end() {
  if (failure_) return unexpected(*failure_);
  remote_ended_ = true;
  if (state_ == State::reading_request) return fail({Errc::truncated, "the stream ended before the request"});
  return {};
}

std::optional<Request> Server::poll_request() {
  if (state_ != State::awaiting_answer || request_polled_) return std::nullopt;
  request_polled_ = true;
  return request_;
}

Expected<std::uint64_t, BlobError> Server::respond_have(std::uint64_t content_size) {
  if (state_ != State::awaiting_answer) return unexpected(BlobError{Errc::wrong_state, "no request awaits an answer"});
  const Request& request = *request_;
  if (request.size_only) {
    queue_header({Status::have, content_size, RemoteErrc::unspecified, {}});
    state_ = State::answered;
    return std::uint64_t{0};
  }
  const content::ByteRange range{request.offset, request.length};
  auto encoded = content::encoded_range_bytes(range, content_size);
  if (!encoded) return unexpected(BlobError{Errc::bad_range, encoded.error().detail});
  const std::uint64_t range_bytes =
      request.offset < content_size ? std::min(request.length, content_size - request.offset) : 0;
  if (range_bytes > options_.range_bytes_max) {
    BlobError reason{Errc::range_too_large, "a range of " + std::to_string(range_bytes) + " bytes is above the " +
                                                std::to_string(options_.range_bytes_max) + "-byte limit per request"};
    refuse(RemoteErrc::range_too_large, reason);
    return unexpected(std::move(reason));
  }
  queue_header({Status::have, content_size, RemoteErrc::unspecified, {}});
  body_remaining_ = *encoded;
  state_ = State::sending_body;
  return *encoded;
}

Expected<void, BlobError> Server::respond_dont_have() {
  if (state_ != State::awaiting_answer) return unexpected(BlobError{Errc::wrong_state, "no request awaits an answer"});
  queue_header({Status::dont_have, 0, RemoteErrc::unspecified, {}});
  state_ = State::answered;
  return {};
}

Expected<void, BlobError> Server::respond_error(RemoteErrc code, std::string_view text) {
  if (state_ != State::awaiting_answer) return unexpected(BlobError{Errc::wrong_state, "no request awaits an answer"});
  queue_header({Status::error, 0, code, std::string(text)});
  state_ = State::answered;
  return {};
}

std::size_t Server::body_room() const {
  if (state_ != State::sending_body) return 0;
  const std::size_t buffer_room = options_.output_bytes_max > unsent_bytes() ? options_.output_bytes_max - unsent_bytes() : 0;
  return static_cast<std::size_t>(std::min<std::uint64_t>(buffer_room, body_remaining_));
}

Expected<std::size_t, BlobError> Server::push_body(ByteView bytes) {
  if (state_ != State::sending_body) return unexpected(BlobError{Errc::wrong_state, "no body is expected"});
  if (bytes.size() > body_remaining_) {
    return unexpected(BlobError{Errc::too_many_bytes, std::to_string(bytes.size()) + " body bytes pushed, only " +
                                                          std::to_string(body_remaining_) + " remain"});
  }
  const std::size_t take = std::min(bytes.size(), body_room());
  if (take == 0) return std::size_t{0};
  // Drop what was written once it is half the bound: the buffer stays
  // within twice its bound and each byte is moved at most twice on average.
  if (sent_ >= options_.output_bytes_max / 2) {
    output_.erase(output_.begin(), output_.begin() + static_cast<std::ptrdiff_t>(sent_));
    sent_ = 0;
  }
  append(output_, bytes.first(take));
  body_remaining_ -= take;
  if (body_remaining_ == 0) state_ = State::answered;
  return take;
}

void Server::consume_output(std::size_t bytes) {
  sent_ += std::min(bytes, unsent_bytes());
  if (sent_ == output_.size()) {
    output_.clear();
    sent_ = 0;
  }
}

}  // namespace taho::blob
