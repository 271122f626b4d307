// Publishes FILE into a fresh store under STORE_DIR and hashes it alone,
// printing MB/s of each: `taho_bench_publish FILE STORE_DIR [ROUNDS [THREADS]]`.
// scripts/bench prints these beside b3sum's figure on the same file.
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "content/store/mapped_file.hpp"
#include "content/store/parallel_hasher.hpp"
#include "content/store/store.hpp"
#include "content/store/unique_fd.hpp"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s FILE STORE_DIR [ROUNDS [THREADS]]\n", argv[0]);
    return 2;
  }
  const fs::path file = argv[1];
  const fs::path store_dir = argv[2];
  const int rounds = argc > 3 ? std::atoi(argv[3]) : 3;
  taho::content::ParallelHashOptions hash_options;
  if (argc > 4) hash_options.threads = static_cast<unsigned>(std::atoi(argv[4]));
  taho::content::StoreOptions store_options;
  store_options.root = store_dir;
  store_options.hash_threads = hash_options.threads;
  std::error_code ec;
  const double megabytes = static_cast<double>(fs::file_size(file, ec)) / 1e6;
  if (ec) {
    std::fprintf(stderr, "%s: %s\n", file.c_str(), ec.message().c_str());
    return 1;
  }

  // Hashing alone (root + outboard in memory) from a mapping, as b3sum
  // reads, best of the rounds.
  double best_hash = 1e9;
  std::string root_hex;
  for (int round = 0; round < rounds; ++round) {
    auto mapped = taho::content::MappedFile::open(file);
    if (!mapped) {
      std::fprintf(stderr, "%s\n", mapped.error().text.c_str());
      return 1;
    }
    taho::Bytes outboard;
    const auto start = Clock::now();
    auto root = taho::content::hash_bytes(mapped->bytes(), {.outboard = &outboard}, hash_options, {});
    best_hash = std::min(best_hash, seconds_since(start));
    if (!root) {
      std::fprintf(stderr, "hash: %s\n", root.error().detail.c_str());
      return 1;
    }
    root_hex = taho::to_hex(*root);
  }

  // Publishing into an empty store each round (no deduplication shortcut).
  double best_publish = 1e9;
  for (int round = 0; round < rounds; ++round) {
    fs::remove_all(store_dir, ec);
    auto store = taho::content::Store::open(store_options);
    if (!store) {
      std::fprintf(stderr, "store: %s\n", store.error().detail.c_str());
      return 1;
    }
    const auto start = Clock::now();
    auto put = store->put_file(file);
    best_publish = std::min(best_publish, seconds_since(start));
    if (!put) {
      std::fprintf(stderr, "publish: %s\n", put.error().detail.c_str());
      return 1;
    }
    if (put->id.hex() != root_hex) {
      std::fprintf(stderr, "publish and hash disagree\n");
      return 1;
    }
  }
  fs::remove_all(store_dir, ec);
  std::printf("id ca_blake3_%s\n", root_hex.c_str());
  std::printf("hash_mb_s %.0f\n", megabytes / best_hash);
  std::printf("publish_mb_s %.0f\n", megabytes / best_publish);
  return 0;
}
