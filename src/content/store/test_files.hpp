// Helpers shared by the store's tests: reproducible content and whole-file I/O.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "base/bytes.hpp"

namespace taho::content::test {

inline Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
  return out;
}

inline Bytes read_whole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_whole(const std::filesystem::path& path, ByteView bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace taho::content::test
