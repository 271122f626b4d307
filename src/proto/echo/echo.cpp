#include "proto/echo/echo.hpp"

#include <algorithm>
#include <string>

namespace taho::echo {

std::uint8_t payload_byte(std::uint64_t seed, std::uint64_t offset) {
  // SplitMix64 finaliser over (seed, 8-byte block), one byte of the block.
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + (offset >> 3);
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<std::uint8_t>(x >> ((offset & 7) * 8));
}

Result<void> Server::handle_data(ByteView data) {
  if (remote_ended_) return fail("echo: data after the end of the stream");
  if (data.size() > input_room()) {
    return fail("echo: the backlog is full; read at most input_room() bytes");
  }
  // Drop what was sent before growing, so the buffer stays near the backlog bound.
  if (sent_ > 0) {
    backlog_.erase(backlog_.begin(), backlog_.begin() + static_cast<std::ptrdiff_t>(sent_));
    sent_ = 0;
  }
  backlog_.insert(backlog_.end(), data.begin(), data.end());
  return {};
}

void Server::consume_output(std::size_t bytes) {
  bytes = std::min(bytes, backlog_.size() - sent_);
  sent_ += bytes;
  echoed_ += bytes;
  if (sent_ == backlog_.size()) {
    backlog_.clear();
    sent_ = 0;
  }
}

Result<Client> Client::create(std::uint64_t seed, std::uint64_t payload_bytes) {
  if (payload_bytes > payload_bytes_max) {
    return fail("echo: a payload of " + std::to_string(payload_bytes) + " bytes is above the limit");
  }
  return Client(seed, payload_bytes);
}

Client::Client(std::uint64_t seed, std::uint64_t payload_bytes) : seed_(seed), payload_bytes_(payload_bytes) {
  fill_chunk();
}

void Client::fill_chunk() {
  const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_bytes_max, payload_bytes_ - sent_));
  chunk_.resize(size);
  for (std::size_t i = 0; i < size; ++i) chunk_[i] = payload_byte(seed_, sent_ + i);
  chunk_sent_ = 0;
}

void Client::consume_output(std::size_t bytes) {
  bytes = std::min(bytes, chunk_.size() - chunk_sent_);
  chunk_sent_ += bytes;
  sent_ += bytes;
  if (chunk_sent_ == chunk_.size() && sent_ < payload_bytes_) fill_chunk();
}

Result<void> Client::handle_data(ByteView data) {
  if (ended_) return fail("echo: data after the end of the stream");
  if (data.size() > payload_bytes_ - received_) {
    return fail("echo: more bytes came back than were sent (" + std::to_string(payload_bytes_) + ")");
  }
  for (std::size_t i = 0; i < data.size(); ++i) {
    if (data[i] != payload_byte(seed_, received_ + i)) {
      return fail("echo: byte " + std::to_string(received_ + i) + " came back changed");
    }
  }
  received_ += data.size();
  return {};
}

Result<void> Client::handle_end() {
  ended_ = true;
  if (received_ != payload_bytes_) {
    return fail("echo: the stream ended after " + std::to_string(received_) + " of " +
                std::to_string(payload_bytes_) + " bytes");
  }
  return {};
}

}  // namespace taho::echo
