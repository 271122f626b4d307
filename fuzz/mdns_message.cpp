// Fuzzes the mDNS message codec and the discovery core: decoding never
// crashes or reads out of bounds; whatever decodes re-encodes (names
// uncompressed) within the same limits and decodes to the same message; the
// discovery core takes any datagram, and what it sends back decodes.
#include <array>
#include <cstdlib>

#include "base/seeded_rng.hpp"
#include "proto/mdns/discovery.hpp"
#include "proto/mdns/dns_message.hpp"

namespace {

namespace dns = taho::mdns::dns;

taho::PeerId peer_from(std::uint8_t seed) {
  std::array<std::uint8_t, 32> key{};
  key.fill(seed);
  return taho::PeerId::from_ed25519(key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const taho::ByteView input(data, size);

  if (auto decoded = dns::decode(input)) {
    auto encoded = dns::encode(*decoded);
    if (!encoded) std::abort();
    auto again = dns::decode(*encoded);
    if (!again || !(*again == *decoded)) std::abort();
  }

  // The same bytes as a datagram heard by a discovery core with something to
  // announce; then its timers run and everything it queues must decode.
  taho::SeededRng rng(size);
  taho::mdns::Discovery core(taho::Instant{}, peer_from(1), rng);
  core.set_listen_addrs(std::vector{*taho::Multiaddr::parse("/ip4/10.0.0.1/tcp/4001")});
  core.handle_datagram(taho::Instant{}, input, 2);
  core.handle_timeout(taho::Instant{std::chrono::seconds(2)});
  while (auto transmit = core.poll_transmit()) {
    if (!dns::decode(transmit->datagram)) std::abort();
  }
  while (core.poll_event()) {
  }
  return 0;
}
