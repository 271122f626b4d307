// Fuzzes the gossipsub RPC decoder, the stream framing and a router fed the
// result: never crashes or reads out of bounds; decoding whole or through
// the FrameReader agrees; whatever decodes re-encodes to itself; a router
// given the RPC only ever emits RPCs that encode and decode back unchanged.
#include <cstdlib>

#include "base/seeded_rng.hpp"
#include "base/varint.hpp"
#include "proto/gossipsub/router.hpp"

namespace {

namespace gossipsub = taho::gossipsub;
using taho::ByteView;
using taho::Bytes;

taho::crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  taho::crypto::Ed25519Seed seed{};
  seed.fill(fill);
  return *taho::crypto::Ed25519KeyPair::from_seed(seed);
}

void check_sends(gossipsub::Router& router) {
  while (auto send = router.poll_send()) {
    const auto again = gossipsub::decode_rpc(gossipsub::encode_rpc(send->rpc));
    if (!again || !(*again == send->rpc)) std::abort();
  }
  while (router.poll_event()) {
  }
}

void feed_router(const gossipsub::Rpc& rpc, std::uint8_t steering) {
  taho::SeededRng rng(steering);
  taho::Instant now;
  gossipsub::Router router(key_from(1), rng, now);
  const auto remote_key = key_from(2);
  const auto remote = taho::PeerId::from_ed25519(remote_key.public_key());
  const auto protocol = static_cast<gossipsub::Protocol>(steering % 3);
  router.add_peer(now, remote, protocol);
  // Topics the fuzzer is likely to hit: short ones, and the empty topic.
  for (const char* topic : {"", "t", "a", "topic"}) (void)router.subscribe(now, topic);
  gossipsub::Rpc hello;
  for (const char* topic : {"", "t", "a", "topic"}) hello.subscriptions.push_back({true, topic});
  router.handle_rpc(now, remote, hello);
  check_sends(router);
  // One message in the cache so IWANT can hit something.
  (void)router.publish(now, "t", Bytes(steering, 0x11));
  check_sends(router);

  router.handle_rpc(now, remote, rpc);
  check_sends(router);
  for (int beat = 0; beat < 3; ++beat) {
    now = *router.next_timeout();
    router.handle_timeout(now);
    check_sends(router);
  }
  router.handle_rpc(now, remote, rpc);  // again: duplicates, backoff
  check_sends(router);
  router.remove_peer(now, remote);
  router.handle_rpc(now, remote, rpc);
  check_sends(router);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  const std::uint8_t steering = input.empty() ? 0 : input[0];
  const ByteView body = input.empty() ? input : input.subspan(1);

  const auto decoded = gossipsub::decode_rpc(body);
  if (decoded) {
    const auto again = gossipsub::decode_rpc(gossipsub::encode_rpc(*decoded));
    if (!again || !(*again == *decoded)) std::abort();
    feed_router(*decoded, steering);
  }

  // The same body as one frame, pushed in pieces sized by the steering byte.
  Bytes framed;
  taho::varint::encode(body.size(), framed);
  taho::append(framed, body);
  gossipsub::FrameReader reader;
  const std::size_t piece = static_cast<std::size_t>(steering % 16) + 1;
  std::optional<gossipsub::Rpc> from_frames;
  bool failed = false;
  for (std::size_t at = 0; at < framed.size() && !failed; at += piece) {
    if (!reader.push(ByteView(framed).subspan(at, std::min(piece, framed.size() - at)))) failed = true;
    auto next = reader.next();
    if (!next) failed = true;
    else if (*next) from_frames = std::move(**next);
  }
  if (decoded.has_value() != from_frames.has_value()) std::abort();
  if (decoded && !(*decoded == *from_frames)) std::abort();

  // And the raw input as a stream of frames: must never crash.
  gossipsub::FrameReader stream;
  if (stream.push(input)) {
    while (true) {
      auto next = stream.next();
      if (!next || !*next) break;
    }
  }
  return 0;
}
