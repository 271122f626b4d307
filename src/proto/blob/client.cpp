#include "proto/blob/client.hpp"

#include <algorithm>
#include <string>

#include "content/tree/tree_shape.hpp"

namespace taho::blob {

Expected<Client, BlobError> Client::for_range(const content::Hash& root, content::ByteRange range,
                                              const ClientOptions& options) {
  if (range.offset % content::kGroupBytes != 0) {
    return unexpected(BlobError{Errc::bad_range, "offset " + std::to_string(range.offset) +
                                                     " is not a multiple of 16 KiB"});
  }
  return Client(Request{root, range.offset, range.length, false}, options);
}

Client Client::for_size(const content::Hash& root) { return Client(Request{root, 0, 0, true}, {}); }

Client::Client(const Request& request, const ClientOptions& options)
    : request_fields_(request), options_(options), request_(frame(encode_request(request))) {}

void Client::consume_output(std::size_t bytes) {
  request_sent_ += std::min(bytes, request_.size() - request_sent_);
}

bool Client::wants_input() const {
  return !ended_ && !failure_ && verified_bytes_ < options_.verified_bytes_max;
}

Expected<void, BlobError> Client::fail(BlobError error) {
  failure_ = error;
  decoder_.reset();
  return unexpected(std::move(error));
}

Expected<void, BlobError> Client::handle_data(ByteView data) {
  if (failure_) return unexpected(*failure_);
  if (ended_) return fail({Errc::unexpected_data, "data after the end of the stream"});
  received_bytes_ += data.size();
  if (!header_reader_.complete()) {
    auto taken = header_reader_.handle_data(data);
    if (!taken) return fail(std::move(taken).error());
    data = data.subspan(*taken);
    if (!header_reader_.complete()) return {};
    auto header = decode_response_header(header_reader_.body());
    if (!header) return fail(std::move(header).error());
    if (auto taken_header = take_header(*header); !taken_header) return taken_header;
  }
  if (data.empty()) return {};
  if (!decoder_) {
    // Done already (size-only), or a status without a body.
    return fail({Errc::too_many_bytes, std::to_string(data.size()) + " bytes after the response"});
  }
  return feed_body(data);
}

Expected<void, BlobError> Client::take_header(const ResponseHeader& header) {
  switch (header.status) {
    case Status::dont_have:
      return fail({Errc::dont_have, "the peer does not hold the content"});
    case Status::error: {
      BlobError error{Errc::remote_error, "the peer refused: " + std::string(to_string(header.error_code)) +
                                              (header.error.empty() ? "" : ": " + header.error)};
      error.remote = header.error_code;
      return fail(std::move(error));
    }
    case Status::have:
      break;
  }
  size_ = header.size;
  if (request_fields_.size_only) {
    done_ = true;
    return {};
  }
  const content::ByteRange range{request_fields_.offset, request_fields_.length};
  auto groups = content::groups_of(range, header.size);
  if (!groups) return fail({Errc::bad_response, groups.error().detail});
  groups_ = *groups;
  decoder_.emplace(request_fields_.root, range);
  return {};
}

Expected<void, BlobError> Client::feed_body(ByteView body) {
  // The encoding starts with the size again: it must be the header's, and
  // is checked before any group is verified against it.
  if (body_received_ < content::kSizeTrailerBytes) {
    const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(content::kSizeTrailerBytes - body_received_, body.size()));
    if (auto fed = feed_decoder(body.first(take)); !fed) return fed;
    body = body.subspan(take);
    if (body_received_ == content::kSizeTrailerBytes && decoder_->size() != size_) {
      return fail({Errc::bad_response, "the encoding's size " + std::to_string(decoder_->size().value_or(0)) +
                                           " differs from the header's " + std::to_string(*size_)});
    }
  }
  if (body.empty()) return {};
  return feed_decoder(body);
}

Expected<void, BlobError> Client::feed_decoder(ByteView bytes) {
  if (done_) return fail({Errc::too_many_bytes, std::to_string(bytes.size()) + " bytes after the range encoding"});
  auto fed = decoder_->feed(bytes);
  body_received_ += bytes.size();
  // Groups verified before a failure in the same piece are good: keep them.
  // The item that failed precedes the next group in pre-order (or is it),
  // so that group is the one the bad data was for.
  drain_decoder();
  if (!fed) {
    const auto& proof = fed.error();
    switch (proof.code) {
      case content::ProofErrc::hash_mismatch: {
        BlobError error{Errc::bad_group, proof.detail};
        error.group = next_expected_group();
        return fail(std::move(error));
      }
      case content::ProofErrc::trailing_bytes:
        return fail({Errc::too_many_bytes, proof.detail});
      case content::ProofErrc::truncated:
        return fail({Errc::truncated, proof.detail});
      case content::ProofErrc::bad_range:
      case content::ProofErrc::too_large:
      case content::ProofErrc::bad_outboard:
        return fail({Errc::bad_response, proof.detail});
    }
    return fail({Errc::bad_response, proof.detail});
  }
  if (decoder_->done()) done_ = true;
  return {};
}

void Client::drain_decoder() {
  while (auto group = decoder_->poll_group()) {
    ++groups_verified_;
    verified_bytes_ += group->bytes.size();
    verified_.push_back(std::move(*group));
  }
}

std::uint64_t Client::next_expected_group() const {
  const std::uint64_t requested = groups_.end - groups_.first;
  if (groups_verified_ < requested) return groups_.first + groups_verified_;
  return size_ ? content::group_count(*size_) - 1 : 0;
}

Expected<void, BlobError> Client::handle_end() {
  if (failure_) return unexpected(*failure_);
  ended_ = true;
  if (done_) return {};
  if (!header_reader_.complete()) {
    return fail({Errc::truncated, header_reader_.started() ? "the stream ended inside the response header"
                                                           : "the stream ended without a response"});
  }
  return fail({Errc::truncated, "the stream ended after " + std::to_string(body_received_) + " bytes of the range encoding"});
}

std::optional<content::VerifiedGroup> Client::poll_group() {
  if (verified_.empty()) return std::nullopt;
  content::VerifiedGroup group = std::move(verified_.front());
  verified_.pop_front();
  verified_bytes_ -= group.bytes.size();
  return group;
}

}  // namespace taho::blob
