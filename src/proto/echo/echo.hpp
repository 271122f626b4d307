// The echo protocol (/echo/1.0.0, as @libp2p/echo speaks it), sans-IO: the
// server writes back every byte it reads and closes its side once the remote
// has closed and everything was written back. The client sends a payload
// derived from a seed and checks that exactly that payload comes back.
//
// Both sides are driven the same way: handle_data()/handle_end() with what
// the stream delivered, pending_output()/consume_output() for bytes to
// write, wants_input() before reading more (backpressure: the server holds
// at most echo_backlog_bytes_max unsent), close_write_due() once the write
// side should be closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::echo {

inline constexpr std::string_view protocol_id = "/echo/1.0.0";
// The server stops reading while this much is waiting to be written back.
inline constexpr std::size_t echo_backlog_bytes_max = 256 * 1024;
// What one client stream may ask to echo.
inline constexpr std::uint64_t payload_bytes_max = std::uint64_t{1} << 34;  // 16 GiB

// The byte at `offset` of the payload generated from `seed`: cheap, and a
// shifted or corrupted echo does not match by accident.
std::uint8_t payload_byte(std::uint64_t seed, std::uint64_t offset);

class Server {
 public:
  // Fails when given more than input_room() or data after the end.
  Result<void> handle_data(ByteView data);
  void handle_end() { remote_ended_ = true; }

  bool wants_input() const { return !remote_ended_ && input_room() > 0; }
  // How many bytes handle_data() takes now.
  std::size_t input_room() const { return echo_backlog_bytes_max - (backlog_.size() - sent_); }
  ByteView pending_output() const { return ByteView(backlog_).subspan(sent_); }
  void consume_output(std::size_t bytes);
  // The remote closed and every byte went back: close our write side.
  bool close_write_due() const { return remote_ended_ && sent_ == backlog_.size(); }
  std::uint64_t echoed_bytes() const { return echoed_; }

 private:
  Bytes backlog_;
  std::size_t sent_ = 0;
  std::uint64_t echoed_ = 0;
  bool remote_ended_ = false;
};

class Client {
 public:
  // Fails for a payload above payload_bytes_max.
  static Result<Client> create(std::uint64_t seed, std::uint64_t payload_bytes);

  // Fails on the first byte that differs from what was sent, or on more
  // bytes than were sent.
  Result<void> handle_data(ByteView data);
  // Fails when the echo ended short.
  Result<void> handle_end();

  bool wants_input() const { return !ended_; }
  // The next chunk of the payload (at most chunk_bytes_max).
  ByteView pending_output() const { return ByteView(chunk_).subspan(chunk_sent_); }
  void consume_output(std::size_t bytes);
  bool close_write_due() const { return sent_ == payload_bytes_; }
  // Everything came back intact and the server closed.
  bool done() const { return ended_ && received_ == payload_bytes_; }
  std::uint64_t received_bytes() const { return received_; }

  static constexpr std::size_t chunk_bytes_max = 64 * 1024;

 private:
  Client(std::uint64_t seed, std::uint64_t payload_bytes);
  void fill_chunk();

  std::uint64_t seed_;
  std::uint64_t payload_bytes_;
  std::uint64_t sent_ = 0;      // payload bytes handed out through consume_output
  std::uint64_t received_ = 0;
  Bytes chunk_;                 // payload [sent_ - chunk_sent_, ...) being written
  std::size_t chunk_sent_ = 0;
  bool ended_ = false;
};

}  // namespace taho::echo
