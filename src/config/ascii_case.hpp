// ASCII case folding for config names: keys, sections and TAHO__ variables
// are ASCII, and locale-dependent folding would make them machine-dependent.
#pragma once

#include <string>
#include <string_view>

namespace taho::config {

inline std::string ascii_lowercase(std::string_view text) {
  std::string folded(text);
  for (auto& c : folded) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return folded;
}

inline std::string ascii_uppercase(std::string_view text) {
  std::string folded(text);
  for (auto& c : folded) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return folded;
}

}  // namespace taho::config
