// Fuzzes the AutoNAT v1 message decoder, the frame reader and the server
// policy: never crashes or reads out of bounds; whatever decodes re-encodes
// to the same message; whole and fragmented framing agree; the server's
// decision for any decoded request dials only addresses on the observed IP,
// at most dial_addrs_max of them, and its answers encode and decode.
#include <array>
#include <cstdlib>

#include "proto/autonat/message.hpp"
#include "proto/autonat/server.hpp"

namespace {

using taho::ByteView;
namespace autonat = taho::autonat;

taho::PeerId peer_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return taho::PeerId::from_ed25519(key);
}

void check_reencodes(const autonat::Message& message) {
  const auto again = autonat::decode_message(autonat::encode_message(message));
  if (!again || !(*again == message)) std::abort();
}

std::optional<autonat::Message> read_frames(ByteView stream, ByteView sizes, bool& ok) {
  autonat::FrameReader reader;
  std::optional<autonat::Message> message;
  std::size_t next_size = 0;
  ok = true;
  while (!stream.empty() && ok) {
    const std::size_t size = sizes.empty() ? stream.size() : std::size_t{sizes[next_size++ % sizes.size()]} + 1;
    const ByteView fragment = stream.first(std::min(size, stream.size()));
    stream = stream.subspan(fragment.size());
    ok = reader.handle_data(fragment).has_value();
    if (auto got = reader.poll_message()) message = std::move(got);
  }
  if (ok) ok = reader.handle_end().has_value();
  return message;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  if (auto decoded = autonat::decode_message(input)) {
    check_reencodes(*decoded);
    // As a request to a server, from the peer it names if it names a valid one.
    const auto observed = taho::Multiaddr::parse("/ip4/1.2.3.4/tcp/4001");
    if (!observed) std::abort();
    taho::PeerId requester = peer_from(1);
    if (decoded->dial && decoded->dial->peer && decoded->dial->peer->id) {
      if (auto named = taho::PeerId::from_bytes(*decoded->dial->peer->id)) requester = *named;
    }
    autonat::Server server;
    const auto decision = server.handle_request(taho::Instant{}, requester, *observed, *decoded);
    if (const auto* dial_back = std::get_if<autonat::DialBack>(&decision)) {
      if (dial_back->addrs.empty() || dial_back->addrs.size() > autonat::ServerOptions{}.dial_addrs_max) std::abort();
      for (const auto& addr : dial_back->addrs) {
        if (autonat::ip_component(addr) != autonat::ip_component(*observed)) std::abort();
        if (!autonat::is_dial_back_shape(addr)) std::abort();
        check_reencodes(autonat::response_ok(addr));
      }
    } else {
      check_reencodes(autonat::response_for(std::get<autonat::Refusal>(decision)));
    }
  }

  // The input as a framed stream, whole and in fragments steered by its first bytes.
  const std::size_t steering = input.empty() ? 0 : std::min<std::size_t>(input[0] % 8, input.size() - 1);
  const ByteView sizes = input.empty() ? ByteView{} : input.subspan(1, steering);
  const ByteView stream = input.empty() ? ByteView{} : input.subspan(1 + steering);
  bool whole_ok = false;
  bool fragmented_ok = false;
  const auto whole = read_frames(stream, {}, whole_ok);
  const auto fragmented = read_frames(stream, sizes, fragmented_ok);
  if (whole_ok != fragmented_ok || whole != fragmented) std::abort();
  return 0;
}
