#include "proto/identify/reader.hpp"

#include <algorithm>
#include <string>

#include "base/varint.hpp"

namespace taho::identify {

Expected<void, IdentifyError> Reader::fail(IdentifyError error) {
  failure_ = error;
  return unexpected(std::move(error));
}

Expected<void, IdentifyError> Reader::handle_data(ByteView bytes) {
  if (failure_) return unexpected(*failure_);
  if (ended_) return unexpected(IdentifyError{Errc::finished, "identify: data after the end of the stream"});
  while (!bytes.empty()) {
    if (!body_length_) {
      if (auto taken = take_prefix_byte(bytes.front()); !taken) return taken;
      bytes = bytes.subspan(1);
    } else {
      const std::size_t wanted = *body_length_ - body_.size();
      const std::size_t taken = std::min(wanted, bytes.size());
      append(body_, bytes.first(taken));
      bytes = bytes.subspan(taken);
    }
    if (body_length_ && body_.size() == *body_length_) {
      if (auto finished = finish_message(); !finished) return finished;
    }
  }
  return {};
}

// Length prefixes arrive a byte at a time at worst; at most 9 are kept.
Expected<void, IdentifyError> Reader::take_prefix_byte(std::uint8_t byte) {
  if (prefix_.empty() && messages_read_ == limits_.messages_max) {
    return fail({Errc::too_many_messages,
                 "identify: more than " + std::to_string(limits_.messages_max) + " messages on one stream"});
  }
  prefix_.push_back(byte);
  auto decoded = varint::decode(prefix_);
  if (!decoded) {
    if (decoded.error().code == varint::Errc::truncated) return {};  // wait for more prefix bytes
    return fail({Errc::bad_length_prefix, "identify length prefix: " + decoded.error().detail});
  }
  if (decoded->value > limits_.message_bytes_max) {
    return fail({Errc::too_large, "identify message of " + std::to_string(decoded->value) + " bytes (limit " +
                                      std::to_string(limits_.message_bytes_max) + ")"});
  }
  body_length_ = static_cast<std::size_t>(decoded->value);
  prefix_.clear();
  body_.clear();
  body_.reserve(*body_length_);
  return {};
}

Expected<void, IdentifyError> Reader::finish_message() {
  auto info = decode(body_, limits_);
  body_length_.reset();
  body_.clear();
  if (!info) return fail(std::move(info).error());
  ++messages_read_;
  if (auto merged = merge(merged_, std::move(*info), limits_); !merged) return fail(std::move(merged).error());
  return {};
}

Expected<Info, IdentifyError> Reader::handle_end() {
  if (failure_) return unexpected(*failure_);
  if (ended_) return unexpected(IdentifyError{Errc::finished, "identify: the stream already ended"});
  ended_ = true;
  if (body_length_ || !prefix_.empty()) {
    failure_ = IdentifyError{Errc::truncated, "identify: the stream ended inside a message"};
    return unexpected(*failure_);
  }
  if (messages_read_ == 0) {
    failure_ = IdentifyError{Errc::truncated, "identify: the stream ended before any message"};
    return unexpected(*failure_);
  }
  return std::move(merged_);
}

Expected<Info, IdentifyError> read_messages(ByteView stream, const Limits& limits) {
  Reader reader(limits);
  if (auto fed = reader.handle_data(stream); !fed) return unexpected(std::move(fed).error());
  return reader.handle_end();
}

}  // namespace taho::identify
