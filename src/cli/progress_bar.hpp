// A one-line progress bar on stderr (taho publish, taho get): percentage,
// bytes, rate, time left and an optional note such as "3 sources".
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace taho::cli {

// "1.5 MiB"
std::string human_bytes(double bytes);

class ProgressBar {
 public:
  explicit ProgressBar(std::uint64_t total);

  // The total may become known (or change) after the bar started.
  void set_total(std::uint64_t total) { total_ = total; }
  // Redraws at most every 100 ms, and always when done reaches the total.
  void update(std::uint64_t done, std::string_view note = {});
  // Ends the line if a bar was drawn and the last update did not.
  void finish();

 private:
  std::uint64_t total_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
  bool line_open_ = false;
};

}  // namespace taho::cli
