#include "node/home_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace taho::node {
namespace {

std::string read_all(int fd) {
  std::string text;
  char buffer[512];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > 4096) break;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

}  // namespace

Result<HomeLock> HomeLock::acquire(const std::filesystem::path& lock_file) {
  int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return fail("cannot open " + lock_file.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = read_all(fd);
    ::close(fd);
    return fail("another taho daemon is running on this home (" +
                (holder.empty() ? std::string("holder unknown") : holder) + "); lock: " +
                lock_file.string());
  }
  HomeLock lock(fd, lock_file);
  lock.describe("pid " + std::to_string(::getpid()));
  return lock;
}

void HomeLock::describe(const std::string& text) {
  if (fd_ < 0) return;
  if (::ftruncate(fd_, 0) != 0) return;
  ::lseek(fd_, 0, SEEK_SET);
  std::string line = text + "\n";
  [[maybe_unused]] ssize_t ignored = ::write(fd_, line.data(), line.size());
}

HomeLock::HomeLock(HomeLock&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

HomeLock& HomeLock::operator=(HomeLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

HomeLock::~HomeLock() {
  if (fd_ >= 0) {
    // Truncate first so a reader never sees a dead holder's description.
    if (::ftruncate(fd_, 0) != 0) {}
    ::close(fd_);
  }
}

}  // namespace taho::node
