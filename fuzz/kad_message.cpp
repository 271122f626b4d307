// Fuzzes the Kademlia message decoder, the frame reader and the request
// handler: never crashes or reads out of bounds; whole and fragmented
// framing agree; whatever decodes re-encodes to itself; the handler answers
// or refuses any decoded request, and its answer encodes and decodes.
#include <array>
#include <cstdlib>

#include "proto/kad/handler.hpp"
#include "proto/kad/message.hpp"

namespace {

using taho::ByteView;
namespace kad = taho::kad;

taho::PeerId peer_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return taho::PeerId::from_ed25519(key);
}

std::vector<kad::Message> read_frames(ByteView stream, ByteView sizes, bool& ok) {
  kad::FrameReader reader;
  std::vector<kad::Message> messages;
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);

  // 1. The input as one message body.
  if (auto decoded = kad::decode_message(input)) {
    kad::Message message = std::move(*decoded);
    // Skipped peers and addresses are not re-encoded.
    message.unreadable_peers = 0;
    for (auto& peer : message.closer_peers) peer.unreadable_addrs = 0;
    for (auto& peer : message.provider_peers) peer.unreadable_addrs = 0;
    const auto again = kad::decode_message(kad::encode_message(message));
    if (!again || !(*again == message)) std::abort();

    // 2. The message as a request to a node with a little state.
    const taho::PeerId local = peer_from(1);
    const taho::PeerId sender = peer_from(2);
    kad::RoutingTable table(local, taho::Instant{});
    kad::AddressBook addresses;
    for (std::uint8_t seed = 3; seed < 40; ++seed) {
      table.insert(taho::Instant{}, peer_from(seed));
      addresses.add(peer_from(seed), {*taho::Multiaddr::parse("/ip4/10.0.0.1/tcp/4001")});
    }
    kad::ProviderStore providers;
    kad::RecordStore records([](const kad::Record& record) -> taho::Result<void> {
      if (record.value.size() % 2 == 1) return taho::fail("odd");
      return {};
    });
    kad::Handler handler(table, addresses, providers, records);
    for (int round = 0; round < 2; ++round) {
      const auto reply = handler.handle_request(taho::Instant{}, sender, message);
      if (reply && *reply) {
        const auto reread = kad::decode_message(kad::encode_message(**reply));
        if (!reread || !(*reread == **reply)) std::abort();
      }
    }
  }

  // 3. The input as a framed stream, whole and in fragments steered by its
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
