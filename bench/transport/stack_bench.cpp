// CPU cost per byte of our secure, multiplexed stream path without the
// kernel: two swarm::Connections (Noise XX + Yamux + multistream) joined in
// memory on one thread, one stream carrying N MiB from the dialer to the
// listener, bytes handed over in read-sized slices as a socket would. Printed
// beside the cost of the AEAD alone (seal + open of the same bytes in 64 KiB
// frames, OpenSSL EVP), so what is left is ours: framing, copies,
// allocations, bookkeeping. ns/byte from CPU time of this thread.
//
// Usage: taho_bench_stack [MiB, default 1024]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include "base/seeded_rng.hpp"
#include "crypto/aead.hpp"
#include "crypto/crypto_suite.hpp"
#include "swarm/connection.hpp"

namespace {

using namespace taho;
using namespace taho::swarm;

constexpr const char* kProtocol = "/bench/sink/1.0.0";
constexpr std::size_t kWriteBytes = 64 * 1024;       // what perf's server writes per call
constexpr std::size_t kReadSliceBytes = 256 * 1024;  // the transport's read chunk
constexpr std::size_t kAppReadBytes = 256 * 1024;    // what the daemon reads per call

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

crypto::Ed25519KeyPair key_from(std::uint8_t fill) {
  crypto::Ed25519Seed seed;
  seed.fill(fill);
  return *crypto::Ed25519KeyPair::from_seed(seed);
}

// Hands everything `from` transmits to `to` in slices; true if anything moved.
bool carry(Connection& from, Connection& to, Instant now) {
  bool moved = false;
  while (auto bytes = from.poll_transmit()) {
    moved = true;
    for (std::size_t offset = 0; offset < bytes->size(); offset += kReadSliceBytes) {
      to.handle_input(now, ByteView(*bytes).subspan(offset, std::min(kReadSliceBytes, bytes->size() - offset)));
    }
  }
  return moved;
}

double stack_ns_per_byte(std::size_t total_bytes, std::string& failure) {
  crypto::OpenSslCryptoSuite suite;
  SeededRng rng(1);
  Instant now{};
  ConnectionOptions dialer_options;
  dialer_options.direction = Direction::outbound;
  dialer_options.identity = key_from(1);
  ConnectionOptions listener_options;
  listener_options.direction = Direction::inbound;
  listener_options.identity = key_from(2);
  listener_options.inbound_protocols = {kProtocol};
  Connection dialer(now, dialer_options, suite, rng);
  Connection listener(now, listener_options, suite, rng);

  std::optional<StreamId> sending;
  std::optional<StreamId> receiving;
  const auto settle = [&] {
    for (int round = 0; round < 1000; ++round) {
      bool moved = carry(dialer, listener, now);
      moved |= carry(listener, dialer, now);
      while (auto event = dialer.poll_event()) {
        if (auto* ready = std::get_if<event::StreamReady>(&*event)) sending = ready->stream;
      }
      while (auto event = listener.poll_event()) {
        if (auto* ready = std::get_if<event::StreamReady>(&*event)) receiving = ready->stream;
      }
      if (!moved) return;
    }
  };
  settle();
  if (!dialer.is_established()) {
    failure = "the handshake did not complete";
    return 0;
  }
  if (auto opened = dialer.open_stream(now, kProtocol, 1); !opened) {
    failure = opened.error().text;
    return 0;
  }
  settle();
  if (!sending || !receiving) {
    failure = "the stream did not open";
    return 0;
  }

  const Bytes chunk(kWriteBytes, 0);
  std::size_t sent = 0;
  std::size_t received = 0;
  const double started = thread_cpu_seconds();
  while (received < total_bytes) {
    bool progressed = false;
    while (sent < total_bytes) {
      const std::size_t want = std::min(chunk.size(), total_bytes - sent);
      auto written = dialer.write(*sending, ByteView(chunk).first(want));
      if (!written || *written == 0) break;
      sent += *written;
      progressed = true;
      // The daemon polls after every write (Swarm::write pumps the connection).
      progressed |= carry(dialer, listener, now);
    }
    progressed |= carry(dialer, listener, now);
    for (;;) {
      auto read = listener.read(*receiving, kAppReadBytes);
      if (!read || read->data.empty()) break;
      received += read->data.size();
      progressed = true;
    }
    progressed |= carry(listener, dialer, now);
    while (dialer.poll_event()) {
    }
    while (listener.poll_event()) {
    }
    if (!progressed) {
      failure = "stalled after " + std::to_string(received) + " bytes";
      return 0;
    }
  }
  return (thread_cpu_seconds() - started) * 1e9 / static_cast<double>(total_bytes);
}

// Seal then open the same bytes in Noise-sized frames, in place.
double aead_ns_per_byte(std::size_t total_bytes) {
  crypto::OpenSslCryptoSuite suite;
  crypto::AeadKey key{};
  key.fill(7);
  auto sealer = suite.chacha20_poly1305(key);
  auto opener = suite.chacha20_poly1305(key);
  constexpr std::size_t kFrame = 65519;
  Bytes frame(kFrame, 0);
  std::uint64_t nonce = 0;
  const double started = thread_cpu_seconds();
  for (std::size_t done = 0; done < total_bytes; done += kFrame) {
    const auto tag = sealer->seal(crypto::noise_nonce(nonce), {}, frame, frame);
    if (!opener->open(crypto::noise_nonce(nonce), {}, frame, tag, frame)) std::abort();
    ++nonce;
  }
  return (thread_cpu_seconds() - started) * 1e9 / static_cast<double>(total_bytes);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const std::size_t total = mib << 20;
  std::string failure;
  const double stack = stack_ns_per_byte(total, failure);
  if (!failure.empty()) {
    std::fprintf(stderr, "stack bench failed: %s\n", failure.c_str());
    return 1;
  }
  const double aead = aead_ns_per_byte(total);
  std::printf("stack (Noise+Yamux, both ends, in memory) %6.3f ns/byte   AEAD seal+open alone %6.3f ns/byte   "
              "ours beyond the AEAD %6.3f ns/byte (%.0f%%)\n",
              stack, aead, stack - aead, 100.0 * (stack - aead) / stack);
  std::printf("  one core would carry %.0f Mbit/s through both ends (%.0f with the AEAD alone)\n", 8e3 / stack,
              8e3 / aead);
  return 0;
}
