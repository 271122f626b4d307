#include "proto/noise/session.hpp"

#include <algorithm>

namespace taho::noise {

Session::Session(TransportCiphers ciphers) : send_(std::move(ciphers.send)), receive_(std::move(ciphers.receive)) {}

Expected<void, NoiseError> Session::encrypt(ByteView plaintext, Bytes& wire_out) {
  if (send_failure_) return unexpected(*send_failure_);
  while (!plaintext.empty()) {
    const ByteView chunk = plaintext.first(std::min(plaintext.size(), frame_plaintext_bytes_max));
    const std::size_t frame_start = wire_out.size();
    append_frame_header(wire_out, chunk.size() + tag_bytes);
    if (auto sealed = send_.encrypt_with_ad({}, chunk, wire_out); !sealed) {
      wire_out.resize(frame_start);
      send_failure_ = sealed.error();
      return sealed;
    }
    plaintext = plaintext.subspan(chunk.size());
  }
  return {};
}

Expected<void, NoiseError> Session::encrypt_frame_in_place(MutableByteView frame) {
  if (send_failure_) return unexpected(*send_failure_);
  const std::size_t overhead = frame_header_bytes + tag_bytes;
  if (frame.size() < overhead || frame.size() - overhead > frame_plaintext_bytes_max) {
    return unexpected(NoiseError{Errc::bad_length, "frame buffer must hold header, 0 to 65519 bytes and tag"});
  }
  const std::size_t message_bytes = frame.size() - frame_header_bytes;
  frame[0] = static_cast<std::uint8_t>(message_bytes >> 8);
  frame[1] = static_cast<std::uint8_t>(message_bytes & 0xff);
  if (auto sealed = send_.encrypt_in_place({}, frame.subspan(frame_header_bytes)); !sealed) {
    send_failure_ = sealed.error();
    return sealed;
  }
  return {};
}

Expected<void, NoiseError> Session::decrypt(ByteView wire, Bytes& plaintext_out) {
  if (receive_failure_) return unexpected(*receive_failure_);
  while (!wire.empty()) {
    std::size_t consumed = 0;
    const std::optional<ByteView> frame = frames_.next(wire, consumed);
    wire = wire.subspan(consumed);
    if (!frame) break;
    // decrypt_with_ad rejects frames shorter than the tag (bad_length).
    if (auto opened = receive_.decrypt_with_ad({}, *frame, plaintext_out); !opened) {
      receive_failure_ = opened.error();
      return opened;
    }
  }
  return {};
}

Expected<std::size_t, NoiseError> Session::decrypt_into(ByteView wire, MutableByteView plaintext_out) {
  if (receive_failure_) return unexpected(*receive_failure_);
  if (plaintext_out.size() < decrypt_room(wire.size())) __builtin_trap();  // our bug: see decrypt_room
  std::size_t written = 0;
  while (!wire.empty()) {
    std::size_t consumed = 0;
    const std::optional<ByteView> frame = frames_.next(wire, consumed);
    wire = wire.subspan(consumed);
    if (!frame) break;
    auto opened = receive_.decrypt_into({}, *frame, plaintext_out.subspan(written));
    if (!opened) {
      receive_failure_ = opened.error();
      return unexpected(opened.error());
    }
    written += *opened;
  }
  return written;
}

void Session::set_nonces_for_test(std::uint64_t send, std::uint64_t receive) {
  send_.set_nonce(send);
  receive_.set_nonce(receive);
}

}  // namespace taho::noise
