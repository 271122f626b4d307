#include "proto/quic/stream_buffers.hpp"

#include <algorithm>

namespace taho::quic {

void SendBuffer::push(ByteView data) {
  if (data.empty()) return;
  chunks_.push_back(Chunk{end_offset_, Bytes(data.begin(), data.end())});
  end_offset_ += data.size();
}

std::size_t SendBuffer::unsent_views(std::span<ByteView> out) const {
  std::size_t count = 0;
  for (const auto& chunk : chunks_) {
    if (count == out.size()) break;
    const std::uint64_t chunk_end = chunk.offset + chunk.data.size();
    if (chunk_end <= sent_offset_) continue;
    const auto skip = static_cast<std::size_t>(std::max(sent_offset_, chunk.offset) - chunk.offset);
    out[count++] = ByteView(chunk.data).subspan(skip);
  }
  return count;
}

void SendBuffer::mark_sent(std::size_t bytes) { sent_offset_ = std::min(end_offset_, sent_offset_ + bytes); }

void SendBuffer::acknowledge_until(std::uint64_t offset) {
  acked_offset_ = std::max(acked_offset_, std::min(offset, end_offset_));
  while (!chunks_.empty() && chunks_.front().offset + chunks_.front().data.size() <= acked_offset_) {
    chunks_.pop_front();
  }
}

void SendBuffer::clear() {
  chunks_.clear();
  acked_offset_ = sent_offset_ = end_offset_;
}

void ReceiveBuffer::push(ByteView data) {
  if (data.empty()) return;
  chunks_.emplace_back(data.begin(), data.end());
  size_ += data.size();
}

Bytes ReceiveBuffer::take(std::size_t bytes_max) {
  Bytes out;
  out.reserve(std::min(bytes_max, size_));
  while (!chunks_.empty() && out.size() < bytes_max) {
    const Bytes& front = chunks_.front();
    const std::size_t available = front.size() - front_consumed_;
    const std::size_t count = std::min(available, bytes_max - out.size());
    out.insert(out.end(), front.begin() + static_cast<std::ptrdiff_t>(front_consumed_),
               front.begin() + static_cast<std::ptrdiff_t>(front_consumed_ + count));
    front_consumed_ += count;
    if (front_consumed_ == front.size()) {
      chunks_.pop_front();
      front_consumed_ = 0;
    }
  }
  size_ -= out.size();
  return out;
}

}  // namespace taho::quic
