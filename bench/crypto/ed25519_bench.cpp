// Ed25519 sign and verify, the cost that dominates gossip (every message is
// signed once and verified by every receiver, StrictSign): taho's API beside
// the two libraries it may sit on, from the same run.
//   - taho: crypto::ed25519_verify / Ed25519KeyPair::sign as shipped;
//   - OpenSSL EVP: a fresh EVP_PKEY and EVP_MD_CTX per call (what taho did
//     until this bench), and with the parsed key reused across calls;
//   - libsodium: crypto_sign_verify_detached / crypto_sign_detached.
// Google Benchmark prints each per-operation time; compare the rows.
#include <benchmark/benchmark.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "crypto/ed25519.hpp"

namespace {

using namespace taho;

// A gossip message as StrictSign signs it: "libp2p-pubsub:" + protobuf of
// about 100 bytes of payload.
std::vector<std::uint8_t> message_bytes() {
  std::vector<std::uint8_t> message(160);
  for (std::size_t i = 0; i < message.size(); ++i) message[i] = static_cast<std::uint8_t>(i * 7);
  return message;
}

const crypto::Ed25519KeyPair& key_pair() {
  static const crypto::Ed25519KeyPair pair = *crypto::Ed25519KeyPair::from_seed(crypto::Ed25519Seed{1, 2, 3});
  return pair;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

void TahoVerify(benchmark::State& state) {
  const auto message = message_bytes();
  const auto signature = key_pair().sign(message);
  for (auto _ : state) {
    benchmark::DoNotOptimize(crypto::ed25519_verify(key_pair().public_key(), message, signature));
  }
}
BENCHMARK(TahoVerify);

void OpenSslVerifyParsingTheKeyEachTime(benchmark::State& state) {
  const auto message = message_bytes();
  const auto signature = key_pair().sign(message);
  const auto& public_key = key_pair().public_key();
  for (auto _ : state) {
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get());
    benchmark::DoNotOptimize(
        EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()));
  }
}
BENCHMARK(OpenSslVerifyParsingTheKeyEachTime);

void OpenSslVerifyWithTheKeyReused(benchmark::State& state) {
  const auto message = message_bytes();
  const auto signature = key_pair().sign(message);
  const auto& public_key = key_pair().public_key();
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  for (auto _ : state) {
    EVP_MD_CTX_reset(ctx.get());
    EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get());
    benchmark::DoNotOptimize(
        EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), message.data(), message.size()));
  }
}
BENCHMARK(OpenSslVerifyWithTheKeyReused);

void SodiumVerify(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const auto message = message_bytes();
  const auto signature = key_pair().sign(message);
  const auto& public_key = key_pair().public_key();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key.data()));
  }
}
BENCHMARK(SodiumVerify);

void TahoSign(benchmark::State& state) {
  const auto message = message_bytes();
  for (auto _ : state) benchmark::DoNotOptimize(key_pair().sign(message));
}
BENCHMARK(TahoSign);

void OpenSslSignLoadingTheKeyEachTime(benchmark::State& state) {
  const auto message = message_bytes();
  const auto& seed = key_pair().seed();
  std::array<std::uint8_t, 64> signature{};
  for (auto _ : state) {
    std::unique_ptr<EVP_PKEY, PkeyDeleter> key(
        EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    std::size_t length = signature.size();
    EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get());
    EVP_DigestSign(ctx.get(), signature.data(), &length, message.data(), message.size());
    benchmark::DoNotOptimize(signature);
  }
}
BENCHMARK(OpenSslSignLoadingTheKeyEachTime);

void SodiumSign(benchmark::State& state) {
  if (sodium_init() < 0) state.SkipWithError("sodium_init failed");
  const auto message = message_bytes();
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> secret{};
  std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> public_key{};
  crypto_sign_seed_keypair(public_key.data(), secret.data(), key_pair().seed().data());
  std::array<std::uint8_t, crypto_sign_BYTES> signature{};
  for (auto _ : state) {
    crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret.data());
    benchmark::DoNotOptimize(signature);
  }
}
BENCHMARK(SodiumSign);

}  // namespace

BENCHMARK_MAIN();
