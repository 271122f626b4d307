// Per-stream byte buffers between the application and ngtcp2.
//
// SendBuffer: ngtcp2 keeps pointers into the bytes it has sent until the
// peer acknowledges them (it retransmits from our memory), so each write is
// one immovable chunk, dropped only once acknowledged in full.
// ReceiveBuffer: bytes in order until the application reads them; its size
// is bounded by the flow-control window we grant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>

#include "base/bytes.hpp"

namespace taho::quic {

class SendBuffer {
 public:
  void push(ByteView data);
  // Bytes written and not yet acknowledged (what counts against the limit).
  std::size_t buffered() const { return static_cast<std::size_t>(end_offset_ - acked_offset_); }
  std::size_t unsent() const { return static_cast<std::size_t>(end_offset_ - sent_offset_); }
  // Views of the unsent bytes in order, at most out.size() of them.
  std::size_t unsent_views(std::span<ByteView> out) const;
  void mark_sent(std::size_t bytes);
  // The peer acknowledged everything below `offset` (ngtcp2 reports acks
  // in order without gaps).
  void acknowledge_until(std::uint64_t offset);
  // Forget everything (the stream was reset: ngtcp2 drops its references).
  void clear();

 private:
  struct Chunk {
    std::uint64_t offset = 0;  // stream offset of data[0]
    Bytes data;
  };
  std::deque<Chunk> chunks_;
  std::uint64_t acked_offset_ = 0;
  std::uint64_t sent_offset_ = 0;
  std::uint64_t end_offset_ = 0;
};

class ReceiveBuffer {
 public:
  void push(ByteView data);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  Bytes take(std::size_t bytes_max);

 private:
  std::deque<Bytes> chunks_;
  std::size_t front_consumed_ = 0;
  std::size_t size_ = 0;
};

}  // namespace taho::quic
