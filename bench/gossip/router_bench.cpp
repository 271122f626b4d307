// The CPU one gossip message costs a relaying node's sans-IO core, without
// sockets: read its frame, decode, check it (StrictSign: the Ed25519 verify),
// deliver it, and encode the copies forwarded to the mesh. Beside it, the
// verify alone, to show how much of the cost is the signature (bench/gossip's
// run.py measures the whole daemon on real sockets against js-libp2p).
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "base/seeded_rng.hpp"
#include "proto/gossipsub/message.hpp"
#include "proto/gossipsub/router.hpp"
#include "proto/gossipsub/rpc.hpp"

namespace {

using namespace taho;

constexpr std::string_view kTopic = "taho-gossip-bench";
constexpr std::size_t kMeshPeers = 8;
constexpr std::size_t kPayloadBytes = 256;
// Every iteration needs a message the router has not seen: signed up front.
constexpr std::int64_t kMessages = 20'000;

crypto::Ed25519KeyPair key_from(std::uint8_t index) {
  crypto::Ed25519Seed seed{};
  seed[0] = index;
  seed[31] = 0x42;
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

std::vector<Bytes> signed_frames(const crypto::Ed25519KeyPair& author) {
  std::vector<Bytes> frames;
  const Bytes payload(kPayloadBytes, 0x5a);
  for (std::int64_t i = 0; i < kMessages; ++i) {
    gossipsub::Rpc rpc;
    rpc.publish.push_back(gossipsub::sign_message(author, kTopic, payload, static_cast<std::uint64_t>(i + 1)));
    frames.push_back(gossipsub::encode_framed(rpc));
  }
  return frames;
}

// A router subscribed to the topic with kMeshPeers peers grafted into its mesh.
struct Relay {
  Relay() : rng(7), router(key_from(0), rng, Instant{}, options()) {
    (void)router.subscribe(now, kTopic);
    for (std::uint8_t i = 1; i <= kMeshPeers; ++i) {
      const PeerId peer = PeerId::from_ed25519(key_from(i).public_key());
      peers.push_back(peer);
      router.add_peer(now, peer, gossipsub::Protocol::v1_2);
      gossipsub::Rpc hello;
      hello.subscriptions.push_back({true, std::string(kTopic)});
      gossipsub::ControlMessage control;
      control.graft.push_back({std::string(kTopic)});
      hello.control = control;
      router.handle_rpc(now, peer, hello);
    }
    drain();
  }
  static gossipsub::Options options() {
    gossipsub::Options options;
    options.validate_messages = false;  // the daemon accepts without asking its application
    return options;
  }
  std::size_t drain() {
    std::size_t bytes = 0;
    while (auto send = router.poll_send()) bytes += gossipsub::encode_framed(send->rpc).size();
    while (router.poll_event()) {
    }
    return bytes;
  }

  SeededRng rng;
  Instant now{};
  gossipsub::Router router;
  std::vector<PeerId> peers;
};

void RelayOneMessage(benchmark::State& state) {
  Relay relay;
  const auto frames = signed_frames(key_from(1));
  gossipsub::FrameReader reader;
  std::size_t next = 0;
  for (auto _ : state) {
    (void)reader.push(frames[next++]);
    auto rpc = reader.next();
    relay.router.handle_rpc(relay.now, relay.peers[0], **rpc);
    benchmark::DoNotOptimize(relay.drain());
  }
  const auto mesh = relay.router.mesh_peers(kTopic).size();
  if (mesh < kMeshPeers - 1 || relay.router.stats().duplicate_messages != 0) {
    state.SkipWithError("the mesh did not form, or messages repeated");
  }
  state.counters["forwards/msg"] = static_cast<double>(mesh - 1);  // all but the sender
}
BENCHMARK(RelayOneMessage)->Iterations(kMessages);

void VerifyOneMessage(benchmark::State& state) {
  const auto author = key_from(1);
  const auto message = gossipsub::sign_message(author, kTopic, Bytes(kPayloadBytes, 0x5a), 1);
  for (auto _ : state) benchmark::DoNotOptimize(gossipsub::validate_strict(message));
}
BENCHMARK(VerifyOneMessage);

// One RPC carrying a decoded message: what each forwarded copy cost when
// the router copied the message into every peer's RPC.
void EncodeOneForward(benchmark::State& state) {
  gossipsub::Rpc rpc;
  rpc.publish.push_back(gossipsub::sign_message(key_from(1), kTopic, Bytes(kPayloadBytes, 0x5a), 1));
  for (auto _ : state) benchmark::DoNotOptimize(gossipsub::encode_framed(rpc));
}
BENCHMARK(EncodeOneForward);

// What flush() pays per mesh peer now: the router encodes a message once and
// each peer's RPC shares it, so a copy is one framed buffer.
void EncodeOneSharedForward(benchmark::State& state) {
  const gossipsub::SharedEncoding encoded(
      gossipsub::encode_message(gossipsub::sign_message(key_from(1), kTopic, Bytes(kPayloadBytes, 0x5a), 1)));
  for (auto _ : state) {
    gossipsub::Rpc rpc;
    rpc.publish_encoded.push_back(encoded);
    benchmark::DoNotOptimize(gossipsub::encode_framed(rpc));
  }
}
BENCHMARK(EncodeOneSharedForward);

void PublishOneMessage(benchmark::State& state) {
  Relay relay;
  const Bytes payload(kPayloadBytes, 0x5a);
  for (auto _ : state) {
    benchmark::DoNotOptimize(relay.router.publish(relay.now, kTopic, payload));
    benchmark::DoNotOptimize(relay.drain());
  }
}
BENCHMARK(PublishOneMessage)->Iterations(kMessages);

}  // namespace

BENCHMARK_MAIN();
