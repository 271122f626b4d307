// A Yamux session (either role) driven by a script of peer bytes, commands
// and timer ticks taken from the input. It must never crash, must keep its
// bounds, and must only ever write well-formed frames.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "proto/yamux/session.hpp"

namespace yx = taho::yamux;

namespace {

class Script {
 public:
  Script(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return size_ == 0; }
  std::uint8_t byte() {
    if (size_ == 0) return 0;
    --size_;
    return *data_++;
  }
  taho::ByteView bytes(std::size_t wanted) {
    const std::size_t taken = std::min(wanted, size_);
    const taho::ByteView out(data_, taken);
    data_ += taken;
    size_ -= taken;
    return out;
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
};

// Our own output must always parse: version 0, known types, data frames no
// larger than we promised, ping and GoAway on stream 0.
void check_frames(taho::ByteView out, const yx::Options& options) {
  while (!out.empty()) {
    if (out.size() < yx::kHeaderBytes) std::abort();
    const yx::Header header = yx::decode_header(out.first<yx::kHeaderBytes>());
    out = out.subspan(yx::kHeaderBytes);
    if (header.version != yx::kVersion) std::abort();
    if (static_cast<std::uint8_t>(header.type) > yx::kFrameTypeMax) std::abort();
    if (header.type == yx::FrameType::data) {
      if (header.length > options.frame_data_bytes_max || header.length > out.size()) std::abort();
      out = out.subspan(header.length);
    }
    if ((header.type == yx::FrameType::ping || header.type == yx::FrameType::go_away) && header.stream != 0) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Script script(data, size);
  const std::uint8_t setup = script.byte();
  yx::Options options;
  options.streams_max = 8;
  options.inbound_backlog_max = 4;
  options.outbound_unacked_max = 4;
  options.frame_data_bytes_max = 1024;
  options.inbound_frame_bytes_max = (setup & 2) ? 4096 : 16 * 1024 * 1024;
  options.transmit_bytes_max = 8 * 1024;
  options.transmit_control_bytes_max = 1024;
  options.ping_on_start = (setup & 4) != 0;
  options.stream_receive_window_bytes_max = 1024 * 1024;
  options.session_receive_window_bytes_max = 2 * 1024 * 1024;
  const yx::Role role = (setup & 1) ? yx::Role::server : yx::Role::client;

  taho::Instant now{};
  yx::Session session(role, now, options);
  std::vector<yx::StreamId> streams;
  const std::vector<std::uint8_t> payload(4096, 0xab);
  auto pick = [&]() -> yx::StreamId {
    const std::uint8_t index = script.byte();
    return streams.empty() ? index : streams[index % streams.size()];
  };

  while (!script.done()) {
    switch (script.byte() % 12) {
      case 0: case 1: case 2: case 3: {  // peer bytes, most of the time
        const std::size_t length = script.byte() * 4u + script.byte() % 4u;
        session.handle_input(now, script.bytes(length));
        // A peer that does not read cannot make us queue without bound.
        if (!session.is_closed() &&
            session.pending_transmit_bytes() > options.transmit_bytes_max + options.transmit_control_bytes_max) {
          std::abort();
        }
        break;
      }
      case 4:
        if (auto id = session.open_stream()) streams.push_back(*id);
        break;
      case 5:
        if (auto id = session.accept_stream()) streams.push_back(*id);
        break;
      case 6: {
        const yx::StreamId id = pick();
        const std::size_t length = script.byte() * 16u;
        if (auto written = session.write(id, taho::ByteView(payload).first(std::min(length, payload.size())))) {
          if (*written > length) std::abort();
        }
        break;
      }
      case 7: {
        const yx::StreamId id = pick();
        if (auto read = session.read(id, script.byte() * 64u + 1)) {
          if (read->data.size() > 255u * 64 + 1) std::abort();
        }
        break;
      }
      case 8: {
        const yx::StreamId id = pick();
        if (script.byte() & 1) {
          (void)session.close_write(id);
        } else {
          (void)session.reset(id);
        }
        break;
      }
      case 9:
        now = now + std::chrono::milliseconds(script.byte()) * 300;
        if (auto at = session.next_timeout(); at && *at <= now) session.handle_timeout(now);
        break;
      case 10:
        if (script.byte() & 1) {
          (void)session.ping();
        } else {
          session.go_away(static_cast<yx::GoAwayCode>(script.byte() % 3));
        }
        break;
      case 11:  // the driver drains the socket buffer only now and then
        while (auto out = session.poll_transmit()) check_frames(*out, options);
        break;
    }
    while (auto event = session.poll_event()) {
      (void)event;
    }
    if (session.stream_count() > options.streams_max) std::abort();
  }
  while (auto out = session.poll_transmit()) check_frames(*out, options);
  return 0;
}
