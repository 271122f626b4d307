// The perf protocol (/perf/1.0.0, libp2p/specs perf/perf.md), sans-IO. The
// client writes the number of bytes it wants back as a big-endian u64, then
// its upload, then closes its write side; the server reads to the end of
// the stream, then writes the requested number of bytes and closes.
//
// Driven like the echo core: handle_data()/handle_end() with what the
// stream delivered, pending_output()/consume_output() for bytes to write,
// close_write_due() once the write side should be closed. Timing is the
// driver's: the core only counts bytes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::perf {

inline constexpr std::string_view protocol_id = "/perf/1.0.0";
inline constexpr std::size_t header_bytes = 8;
// The most a client may ask the server to send (the server refuses more).
inline constexpr std::uint64_t download_bytes_max = std::uint64_t{1} << 36;  // 64 GiB
// Uploads and downloads are produced from one zero-filled chunk of this size.
inline constexpr std::size_t chunk_bytes = 64 * 1024;

class Server {
 public:
  // Fails on a request above download_bytes_max, or data after the end.
  Result<void> handle_data(ByteView data);
  // Fails when the stream ends before the 8-byte request.
  Result<void> handle_end();

  bool wants_input() const { return !remote_ended_; }
  ByteView pending_output() const;
  void consume_output(std::size_t bytes);
  bool close_write_due() const { return remote_ended_ && sent_ == requested_; }
  std::uint64_t uploaded_bytes() const { return uploaded_; }
  std::uint64_t requested_bytes() const { return requested_; }

 private:
  std::array<std::uint8_t, header_bytes> header_{};
  std::size_t header_read_ = 0;
  std::uint64_t requested_ = 0;
  std::uint64_t uploaded_ = 0;
  std::uint64_t sent_ = 0;
  bool remote_ended_ = false;
};

class Client {
 public:
  static Result<Client> create(std::uint64_t upload_bytes, std::uint64_t download_bytes);

  // Fails on more bytes than were asked for.
  Result<void> handle_data(ByteView data);
  // Fails when the download ended short.
  Result<void> handle_end();

  bool wants_input() const { return !ended_; }
  ByteView pending_output() const;
  void consume_output(std::size_t bytes);
  // The request and the whole upload were written.
  bool close_write_due() const { return header_sent_ == header_bytes && uploaded_ == upload_bytes_; }
  bool done() const { return ended_ && downloaded_ == download_bytes_; }
  std::uint64_t downloaded_bytes() const { return downloaded_; }

 private:
  Client(std::uint64_t upload_bytes, std::uint64_t download_bytes);

  std::array<std::uint8_t, header_bytes> header_{};
  std::size_t header_sent_ = 0;
  std::uint64_t upload_bytes_;
  std::uint64_t download_bytes_;
  std::uint64_t uploaded_ = 0;
  std::uint64_t downloaded_ = 0;
  bool ended_ = false;
};

}  // namespace taho::perf
