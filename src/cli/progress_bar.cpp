#include "cli/progress_bar.hpp"

#include <algorithm>
#include <cstdio>

namespace taho::cli {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);
constexpr int kBarWidth = 30;

}  // namespace

std::string human_bytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", bytes, units[unit]);
  return text;
}

ProgressBar::ProgressBar(std::uint64_t total) : total_(total), start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::uint64_t done, std::string_view note) {
  const auto now = std::chrono::steady_clock::now();
  const bool complete = total_ > 0 && done >= total_;
  if (!complete && drawn_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  drawn_ = true;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double fraction = total_ ? std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)) : 0;
  std::string bar(static_cast<std::size_t>(fraction * kBarWidth), '#');
  bar.resize(kBarWidth, ' ');
  const double eta = rate > 0 && total_ > done ? static_cast<double>(total_ - done) / rate : 0;
  std::fprintf(stderr, "\r[%s] %3.0f%%  %s / %s  %s/s  ETA %.0fs%s%.*s ", bar.c_str(), fraction * 100,
               human_bytes(static_cast<double>(done)).c_str(), human_bytes(static_cast<double>(total_)).c_str(),
               human_bytes(rate).c_str(), eta, note.empty() ? "" : "  ", static_cast<int>(note.size()), note.data());
  line_open_ = !complete;
  if (complete) std::fputc('\n', stderr);
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (line_open_) std::fputc('\n', stderr);
  line_open_ = false;
  std::fflush(stderr);
}

}  // namespace taho::cli
