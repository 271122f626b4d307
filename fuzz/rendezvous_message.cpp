// Fuzzes the rendezvous message decoder, the frame reader, the point and the
// client's response readers: never crashes or reads out of bounds; whatever
// decodes re-encodes to something that decodes to the same message; whole
// and fragmented framing agree; the point answers or refuses any decoded
// request, and its answer encodes within the frame limit and decodes.
#include <array>
#include <cstdlib>

#include "base/seeded_rng.hpp"
#include "proto/rendezvous/client.hpp"
#include "proto/rendezvous/message.hpp"
#include "proto/rendezvous/server.hpp"

namespace {

using taho::ByteView;
namespace rendezvous = taho::rendezvous;

taho::PeerId peer_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return taho::PeerId::from_ed25519(key);
}

std::vector<rendezvous::Message> read_frames(ByteView stream, ByteView sizes, bool& ok) {
  rendezvous::FrameReader reader;
  std::vector<rendezvous::Message> messages;
  std::size_t next_size = 0;
  ok = true;
  while (!stream.empty() && ok) {
    const std::size_t size = sizes.empty() ? stream.size() : std::size_t{sizes[next_size++ % sizes.size()]} + 1;
    const ByteView fragment = stream.first(std::min(size, stream.size()));
    stream = stream.subspan(fragment.size());
    ok = reader.handle_data(fragment).has_value();
    while (auto message = reader.poll_message()) messages.push_back(std::move(*message));
  }
  if (ok) ok = reader.handle_end().has_value();
  return messages;
}

void check_reencodes(const rendezvous::Message& message) {
  const auto again = rendezvous::decode_message(rendezvous::encode_message(message));
  if (!again || !(*again == message)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  // 1. The input as one message body.
  if (auto decoded = rendezvous::decode_message(input)) {
    const rendezvous::Message message = std::move(*decoded);
    check_reencodes(message);

    // 2. As a request to a point, twice (a repeat refreshes or pages on).
    taho::SeededRng rng(1);
    rendezvous::Server server(rng);
    const taho::Instant now{std::chrono::hours(1)};
    for (int round = 0; round < 2; ++round) {
      const auto reply = server.handle_request(now, peer_from(2), message);
      if (reply && *reply) {
        const taho::Bytes body = rendezvous::encode_message(**reply);
        if (body.size() > rendezvous::Limits{}.message_bytes_max) std::abort();
        check_reencodes(**reply);
      }
    }
    server.handle_timeout(now + std::chrono::hours(100));
    if (server.registration_count() != 0) std::abort();

    // 3. As a response to a client.
    if (auto registered = rendezvous::read_register_response(message); registered) {
      if (*registered < std::chrono::seconds(0) || *registered > rendezvous::ttl_cap) std::abort();
    }
    if (message.discover_response) {
      const std::string_view ns = message.discover_response->registrations.empty()
                                      ? std::string_view{}
                                      : std::string_view(message.discover_response->registrations.front().ns);
      if (auto found = rendezvous::read_discover_response(message, ns)) {
        if (found->registrations.size() + found->rejected_registrations !=
            message.discover_response->registrations.size()) {
          std::abort();
        }
      }
    }
  }

  // 4. The input as a framed stream, whole and in fragments steered by its
  // first bytes.
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
