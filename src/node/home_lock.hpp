// One daemon per TAHO_HOME: the daemon holds an exclusive lock on
// TAHO_HOME/daemon.lock for its whole life. The kernel drops the lock when
// the process dies, so a crash never leaves a stale lock behind.
#pragma once

#include <filesystem>
#include <string>

#include "base/error.hpp"

namespace taho::node {

class HomeLock {
 public:
  // Takes the lock, or fails naming the process that holds it.
  static Result<HomeLock> acquire(const std::filesystem::path& lock_file);
  // Records what the holder serves, for the message a second daemon prints.
  void describe(const std::string& text);

  HomeLock(HomeLock&& other) noexcept;
  HomeLock& operator=(HomeLock&& other) noexcept;
  HomeLock(const HomeLock&) = delete;
  HomeLock& operator=(const HomeLock&) = delete;
  ~HomeLock();

 private:
  HomeLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace taho::node
