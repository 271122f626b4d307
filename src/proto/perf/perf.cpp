#include "proto/perf/perf.hpp"

#include <algorithm>
#include <string>

namespace taho::perf {
namespace {

// Perf payloads carry no meaning: every chunk is the same zeros.
ByteView zero_chunk(std::uint64_t bytes) {
  static constexpr std::array<std::uint8_t, chunk_bytes> kZeros{};
  return ByteView(kZeros).first(static_cast<std::size_t>(std::min<std::uint64_t>(bytes, chunk_bytes)));
}

}  // namespace

Result<void> Server::handle_data(ByteView data) {
  if (remote_ended_) return fail("perf: data after the end of the stream");
  if (header_read_ < header_bytes) {
    const auto n = std::min(data.size(), header_bytes - header_read_);
    std::copy_n(data.begin(), n, header_.begin() + static_cast<std::ptrdiff_t>(header_read_));
    header_read_ += n;
    data = data.subspan(n);
    if (header_read_ == header_bytes) {
      std::uint64_t requested = 0;
      for (auto byte : header_) requested = (requested << 8) | byte;
      if (requested > download_bytes_max) {
        return fail("perf: the client asks for " + std::to_string(requested) + " bytes, above the limit");
      }
      requested_ = requested;
    }
  }
  uploaded_ += data.size();
  return {};
}

Result<void> Server::handle_end() {
  remote_ended_ = true;
  if (header_read_ < header_bytes) return fail("perf: the stream ended inside the 8-byte request");
  return {};
}

ByteView Server::pending_output() const {
  if (!remote_ended_ || header_read_ < header_bytes) return {};
  return zero_chunk(requested_ - sent_);
}

void Server::consume_output(std::size_t bytes) { sent_ += std::min<std::uint64_t>(bytes, requested_ - sent_); }

Result<Client> Client::create(std::uint64_t upload_bytes, std::uint64_t download_bytes) {
  if (download_bytes > download_bytes_max) {
    return fail("perf: a download of " + std::to_string(download_bytes) + " bytes is above the limit");
  }
  return Client(upload_bytes, download_bytes);
}

Client::Client(std::uint64_t upload_bytes, std::uint64_t download_bytes)
    : upload_bytes_(upload_bytes), download_bytes_(download_bytes) {
  for (std::size_t i = 0; i < header_bytes; ++i) {
    header_[i] = static_cast<std::uint8_t>(download_bytes >> (8 * (header_bytes - 1 - i)));
  }
}

ByteView Client::pending_output() const {
  if (header_sent_ < header_bytes) return ByteView(header_).subspan(header_sent_);
  return zero_chunk(upload_bytes_ - uploaded_);
}

void Client::consume_output(std::size_t bytes) {
  if (header_sent_ < header_bytes) {
    header_sent_ += std::min(bytes, header_bytes - header_sent_);
    return;  // pending_output() never mixes the request and the upload
  }
  uploaded_ += std::min<std::uint64_t>(bytes, upload_bytes_ - uploaded_);
}

Result<void> Client::handle_data(ByteView data) {
  if (ended_) return fail("perf: data after the end of the stream");
  if (data.size() > download_bytes_ - downloaded_) {
    return fail("perf: the server sent more than the " + std::to_string(download_bytes_) + " bytes asked for");
  }
  downloaded_ += data.size();
  return {};
}

Result<void> Client::handle_end() {
  ended_ = true;
  if (downloaded_ != download_bytes_) {
    return fail("perf: the download ended after " + std::to_string(downloaded_) + " of " +
                std::to_string(download_bytes_) + " bytes");
  }
  return {};
}

}  // namespace taho::perf
