// Throughput of our AEAD and of the Noise transport path on 64 KiB frames,
// printed beside OpenSSL's own figure (`openssl speed -evp
// chacha20-poly1305 -bytes 65536`, run here) and the ratio. Also the rate
// of complete in-memory XX handshakes. MB = 10^6 bytes, as openssl speed.
// Rates divide by CPU time, as openssl speed does by default, so a busy
// machine (shared build hosts) skews neither side.
//
// Usage: taho_bench_crypto [seconds per measurement, default 1]
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "crypto/crypto_suite.hpp"
#include "proto/noise/handshake.hpp"
#include "proto/noise/session.hpp"

namespace {

using namespace taho;

// Process CPU time: the bench is single-threaded.
double cpu_seconds() { return static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

constexpr std::size_t kMessageBytes = 64 * 1024;
// Frames per decrypt batch: 256 KiB, cache-resident like openssl speed's buffer.
constexpr std::size_t kBatchFrames = 4;

struct Rate {
  double bytes_per_second = 0;
  double operations_per_second = 0;
};

// Calls `step` (which processes `bytes_per_step`) for `seconds` of CPU time.
Rate measure(double seconds, std::size_t bytes_per_step, const std::function<void()>& step) {
  const double start = cpu_seconds();
  std::size_t steps = 0;
  double elapsed = 0;
  do {
    step();
    ++steps;
    elapsed = cpu_seconds() - start;
  } while (elapsed < seconds);
  return {static_cast<double>(steps * bytes_per_step) / elapsed, static_cast<double>(steps) / elapsed};
}

class SeededRng final : public Rng {
 public:
  void fill(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = static_cast<std::uint8_t>((state_ = state_ * 6364136223846793005u + 1) >> 56);
  }

 private:
  std::uint64_t state_ = 1;
};

noise::TransportCiphers fixed_ciphers(crypto::CryptoSuite& suite) {
  crypto::AeadKey key{};
  key.fill(0x42);
  return {noise::CipherState(suite.chacha20_poly1305(key)), noise::CipherState(suite.chacha20_poly1305(key))};
}

// Runs `openssl speed` in machine-readable mode and returns bytes/s from its
// "+F:<n>:ChaCha20-Poly1305:<bytes per second>" line.
std::optional<double> openssl_speed(int seconds) {
  const std::string command = "openssl speed -mr -evp chacha20-poly1305 -bytes " + std::to_string(kMessageBytes) +
                              " -seconds " + std::to_string(seconds) + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return std::nullopt;
  std::optional<double> result;
  char line[512];
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) {
    const std::string text(line);
    if (text.rfind("+F:", 0) != 0) continue;
    const std::size_t last_colon = text.rfind(':');
    result = std::strtod(text.c_str() + last_colon + 1, nullptr);
  }
  return result;
}

double megabytes(double bytes_per_second) { return bytes_per_second / 1e6; }

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::strtod(argv[1], nullptr) : 1.0;
  crypto::OpenSslCryptoSuite suite;

  // 1. The bare AEAD, sealing one 64 KiB buffer in place with a reused context.
  crypto::AeadKey key{};
  key.fill(7);
  crypto::OpenSslChaCha20Poly1305 aead(key);
  Bytes buffer(kMessageBytes, 0xab);
  std::uint64_t counter = 0;
  const Rate seal = measure(seconds, kMessageBytes, [&] {
    const auto tag = aead.seal(crypto::noise_nonce(counter++), {}, buffer, buffer);
    buffer[0] ^= tag[0];
  });

  // 2. noise::Session::encrypt: one maximal frame (65519 plaintext bytes,
  //    65535 with the tag) per call, into a reused wire buffer.
  noise::Session sender(fixed_ciphers(suite));
  const Bytes plaintext(noise::frame_plaintext_bytes_max, 0x5a);
  Bytes wire;
  wire.reserve(2 * (kMessageBytes + 64));
  const Rate encrypt = measure(seconds, plaintext.size(), [&] {
    wire.clear();
    if (!sender.encrypt(plaintext, wire)) std::abort();
  });

  // 2b. The copy-free path: a caller-built frame sealed where it lies.
  noise::Session in_place_sender(fixed_ciphers(suite));
  Bytes frame(noise::frame_header_bytes + noise::frame_plaintext_bytes_max + noise::tag_bytes, 0x5a);
  const Rate encrypt_in_place = measure(seconds, noise::frame_plaintext_bytes_max, [&] {
    if (!in_place_sender.encrypt_frame_in_place(frame)) std::abort();
  });

  // 3. noise::Session::decrypt: a batch of frames into a reused buffer (a
  //    fresh receiver per batch restarts the nonces; its setup is included).
  noise::Session batch_sender(fixed_ciphers(suite));
  Bytes batch;
  batch.reserve(kBatchFrames * (kMessageBytes + 64));
  for (std::size_t i = 0; i < kBatchFrames; ++i) {
    if (!batch_sender.encrypt(plaintext, batch)) std::abort();
  }
  Bytes received;
  received.reserve(kBatchFrames * plaintext.size());
  const Rate decrypt = measure(seconds, kBatchFrames * plaintext.size(), [&] {
    noise::Session receiver(fixed_ciphers(suite));
    received.clear();
    if (!receiver.decrypt(batch, received)) std::abort();
  });

  // 4. Complete XX handshakes, both sides in memory, signatures included.
  SeededRng rng;
  crypto::Ed25519Seed seed{};
  seed.fill(1);
  const auto alice = *crypto::Ed25519KeyPair::from_seed(seed);
  seed.fill(2);
  const auto bob = *crypto::Ed25519KeyPair::from_seed(seed);
  const Rate handshakes = measure(seconds, 0, [&] {
    noise::HandshakeOptions alice_options, bob_options;
    alice_options.identity = alice;
    bob_options.identity = bob;
    auto initiator = noise::Handshake::start(noise::Role::initiator, alice_options, suite, rng);
    auto responder = noise::Handshake::start(noise::Role::responder, bob_options, suite, rng);
    if (!initiator || !responder) std::abort();
    if (!responder->handle_data(initiator->poll_transmit())) std::abort();
    if (!initiator->handle_data(responder->poll_transmit())) std::abort();
    if (!responder->handle_data(initiator->poll_transmit())) std::abort();
    if (!initiator->finish() || !responder->finish()) std::abort();
  });

  const auto reference = openssl_speed(seconds < 1 ? 1 : static_cast<int>(seconds + 0.5));

  std::printf("ChaCha20-Poly1305, 64 KiB messages (MB = 10^6 bytes per second of CPU time)\n");
  std::printf("  taho Aead::seal in place (OpenSSL EVP, reused ctx) %9.0f MB/s\n", megabytes(seal.bytes_per_second));
  std::printf("  taho noise::Session::encrypt, maximal 64 KiB frames %9.0f MB/s\n",
              megabytes(encrypt.bytes_per_second));
  std::printf("  taho noise::Session::encrypt_frame_in_place, same  %9.0f MB/s\n",
              megabytes(encrypt_in_place.bytes_per_second));
  std::printf("  taho noise::Session::decrypt, maximal 64 KiB frames %9.0f MB/s\n",
              megabytes(decrypt.bytes_per_second));
  if (reference) {
    std::printf("  openssl speed -evp chacha20-poly1305 -bytes 65536   %9.0f MB/s (user CPU time)\n", megabytes(*reference));
    std::printf("  ratio to openssl: seal %.2f, encrypt %.2f, in place %.2f, decrypt %.2f\n",
                seal.bytes_per_second / *reference, encrypt.bytes_per_second / *reference,
                encrypt_in_place.bytes_per_second / *reference, decrypt.bytes_per_second / *reference);
  } else {
    std::printf("  openssl speed: not available (no `openssl` binary?)\n");
  }
  std::printf("Noise XX handshakes, both sides in one thread: %.0f per second\n", handshakes.operations_per_second);
  return 0;
}
