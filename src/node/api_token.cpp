#include "node/api_token.hpp"

#include <algorithm>

#include "crypto/ed25519.hpp"
#include "node/private_file.hpp"

namespace taho::node {
namespace {

bool looks_like_token(std::string_view text) {
  return text.size() == kApiTokenBytes * 2 &&
         std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

}  // namespace

Result<std::string> read_api_token(const std::filesystem::path& token_file) {
  auto contents = read_private_file(token_file);
  if (!contents) return fail(contents.error().text);
  auto token = trim(std::string(as_text(*contents)));
  if (!looks_like_token(token)) return fail(token_file.string() + " does not hold a valid API token");
  return token;
}

Result<std::string> load_or_create_api_token(const std::filesystem::path& token_file) {
  if (auto existing = read_api_token(token_file)) return existing;
  Bytes random(kApiTokenBytes);
  crypto::os_random(random);
  std::string token = to_hex(random);
  std::string line = token + "\n";
  auto written = write_file_atomically(token_file, as_bytes(line), 0600);
  if (!written) return fail(written.error().text);
  return token;
}

bool token_matches(std::string_view expected, std::string_view presented) {
  if (expected.size() != presented.size()) return false;
  unsigned char difference = 0;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ presented[i]);
  }
  return difference == 0;
}

}  // namespace taho::node
