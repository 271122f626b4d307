// Fuzzes everything a peer can reach after a valid Noise handshake: muxer
// negotiation, Yamux frames, per-stream multistream, identify and ping, as
// the Swarm runs them. The harness completes a real handshake as the
// initiator, then sends the fuzz input encrypted, so the bytes get past
// Noise and into the layers above. The swarm must never crash or grow
// without bound; whatever it sends back is discarded.
#include <cstddef>
#include <cstdint>

#include "base/seeded_rng.hpp"
#include "proto/multistream/dialer.hpp"
#include "proto/noise/handshake.hpp"
#include "swarm/swarm.hpp"

using namespace taho;

namespace {

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  crypto::OpenSslCryptoSuite suite;
  SeededRng rng(1);
  swarm::SwarmOptions options;
  options.identity = key_from(2);
  swarm::Swarm node(options, suite, rng);
  const Instant start{};
  auto addr = *Multiaddr::parse("/ip4/127.0.0.1/tcp/1");
  if (!node.add_connection(start, 1, swarm::Direction::inbound, addr, addr, std::nullopt)) __builtin_trap();

  // Our side: multistream(/noise), then the Noise initiator.
  auto security = *multistream::Dialer::create({"/noise"});
  noise::HandshakeOptions handshake_options;
  handshake_options.identity = key_from(1);
  handshake_options.stream_muxers = {"/yamux/1.0.0"};
  auto handshake = *noise::Handshake::start(noise::Role::initiator, handshake_options, suite, rng);

  auto deliver_to_node = [&](ByteView bytes) { node.handle_input(start, 1, bytes); };
  auto take_from_node = [&]() {
    Bytes all;
    while (auto out = node.poll_output()) {
      if (auto* t = std::get_if<swarm::swarm_output::Transmit>(&*out)) append(all, t->bytes);
    }
    return all;
  };

  while (auto bytes = security.poll_transmit()) deliver_to_node(*bytes);
  auto negotiated = security.handle_input(take_from_node());
  if (!negotiated || !*negotiated) __builtin_trap();
  deliver_to_node(handshake.poll_transmit());
  auto used = handshake.handle_data(take_from_node());
  if (!used || !handshake.is_complete()) __builtin_trap();
  auto outcome = handshake.finish();
  if (!outcome) __builtin_trap();
  deliver_to_node(handshake.poll_transmit());
  take_from_node();

  // The fuzz input, as plaintext in several Noise frames, with the clock
  // moving so timers fire too.
  std::size_t offset = 0;
  Instant now = start;
  while (offset < size) {
    std::size_t chunk = std::min<std::size_t>(size - offset, 1 + data[offset] % 200);
    Bytes wire;
    if (!outcome->session.encrypt(ByteView(data + offset, chunk), wire)) break;
    node.handle_input(now, 1, wire);
    now = now + std::chrono::milliseconds(data[offset]) * 50;
    node.handle_timeout(now);
    offset += chunk;
    take_from_node();
    while (node.poll_event()) {
    }
  }
  return 0;
}
