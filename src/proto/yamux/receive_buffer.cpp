#include "proto/yamux/receive_buffer.hpp"

#include <algorithm>
#include <utility>

namespace taho::yamux {

void ReceiveBuffer::push(ByteView bytes) {
  if (bytes.empty()) return;
  if (!chunks_.empty() && chunks_.back().size() < kCoalesceBytes) {
    append(chunks_.back(), bytes);
  } else {
    chunks_.emplace_back(bytes.begin(), bytes.end());
  }
  size_ += bytes.size();
}

Bytes ReceiveBuffer::pop(std::size_t bytes_max) {
  if (chunks_.empty() || bytes_max == 0) return {};
  Bytes& front = chunks_.front();
  const std::size_t available = front.size() - front_offset_;
  if (front_offset_ == 0 && available <= bytes_max) {
    Bytes whole = std::move(front);
    chunks_.pop_front();
    size_ -= whole.size();
    return whole;
  }
  const std::size_t taken = std::min(available, bytes_max);
  const auto begin = front.begin() + static_cast<std::ptrdiff_t>(front_offset_);
  Bytes part(begin, begin + static_cast<std::ptrdiff_t>(taken));
  front_offset_ += taken;
  size_ -= taken;
  if (front_offset_ == front.size()) {
    chunks_.pop_front();
    front_offset_ = 0;
  }
  return part;
}

void ReceiveBuffer::clear() {
  chunks_.clear();
  front_offset_ = 0;
  size_ = 0;
}

}  // namespace taho::yamux
