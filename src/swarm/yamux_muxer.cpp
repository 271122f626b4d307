#include "swarm/yamux_muxer.hpp"

#include <algorithm>
#include <limits>

namespace taho::swarm {

Result<StreamId> YamuxMuxer::open_stream() {
  auto id = session_.open_stream();
  if (!id) return fail(id.error().detail);
  return *id;
}

Result<std::size_t> YamuxMuxer::write(StreamId stream, ByteView bytes) {
  auto written = session_.write(stream, bytes);
  if (!written) return fail(written.error().detail);
  return *written;
}

Result<MuxerRead> YamuxMuxer::read(StreamId stream, std::size_t bytes_max) {
  auto chunk = session_.read(stream, bytes_max);
  if (!chunk) return fail(chunk.error().detail);
  return MuxerRead{std::move(chunk->data), chunk->finished};
}

Result<void> YamuxMuxer::close_write(StreamId stream) {
  auto closed = session_.close_write(stream);
  if (!closed) return fail(closed.error().detail);
  return {};
}

void YamuxMuxer::reserve_receive_window(StreamId stream, std::size_t bytes) {
  const auto clamped = static_cast<std::uint32_t>(std::min<std::size_t>(bytes, std::numeric_limits<std::uint32_t>::max()));
  (void)session_.reserve_receive_window(stream, clamped);  // an unknown stream has nothing to grow
}

std::optional<MuxerEvent> YamuxMuxer::poll_event() {
  auto next = session_.poll_event();
  if (!next) return std::nullopt;
  return std::visit(
      [](auto&& e) -> MuxerEvent {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, yamux::StreamIncoming>) {
          return muxer_event::StreamIncoming{e.stream};
        } else if constexpr (std::is_same_v<E, yamux::StreamReadable>) {
          return muxer_event::StreamReadable{e.stream};
        } else if constexpr (std::is_same_v<E, yamux::StreamWritable>) {
          return muxer_event::StreamWritable{e.stream};
        } else if constexpr (std::is_same_v<E, yamux::StreamReset>) {
          return muxer_event::StreamReset{e.stream};
        } else if constexpr (std::is_same_v<E, yamux::StreamClosed>) {
          return muxer_event::StreamClosed{e.stream};
        } else if constexpr (std::is_same_v<E, yamux::PingRtt>) {
          return muxer_event::Rtt{e.rtt};
        } else if constexpr (std::is_same_v<E, yamux::GoAwayReceived>) {
          return muxer_event::GoAway{};
        } else {
          static_assert(std::is_same_v<E, yamux::SessionClosed>);
          const auto code = e.error.code;
          if (code == yamux::Errc::transport_closed) {
            return muxer_event::Closed{{ConnectionErrc::transport_closed, "the connection was closed"}};
          }
          if (code == yamux::Errc::closed_locally) {
            return muxer_event::Closed{{ConnectionErrc::closed_locally, "closed locally"}};
          }
          return muxer_event::Closed{
              {ConnectionErrc::muxer, std::string(yamux::to_string(code)) + ": " + e.error.detail}};
        }
      },
      std::move(*next));
}

std::optional<MuxerStreamState> YamuxMuxer::stream_state(StreamId stream) const {
  auto info = session_.stream_info(stream);
  if (!info) return std::nullopt;
  return MuxerStreamState{info->buffered, info->remote_fin};
}

}  // namespace taho::swarm
