// An owned file descriptor and the positioned reads/writes the store uses,
// with errors mapped to StoreError (ENOSPC becomes disk_full).
#pragma once

#include <unistd.h>

#include <span>
#include <utility>

#include "base/bytes.hpp"
#include "content/store/store_error.hpp"

namespace taho::content {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Reads exactly out.size() bytes at `offset`; a file that ends early has
// changed under us (source_changed).
Expected<void, StoreError> read_exact_at(int fd, MutableByteView out, std::uint64_t offset);
// The same for bytes consecutive in the file from `offset` that go to
// several places in memory: one preadv per up to IOV_MAX pieces instead of
// one pread each (a served range is 64 groups per MiB).
Expected<void, StoreError> read_exact_scattered_at(int fd, std::span<const MutableByteView> pieces,
                                                   std::uint64_t offset);
// Reads up to out.size() bytes from a stream; returns 0 at its end.
Expected<std::size_t, StoreError> read_some(int fd, MutableByteView out);
Expected<void, StoreError> write_all_at(int fd, ByteView bytes, std::uint64_t offset);
Expected<void, StoreError> write_all(int fd, ByteView bytes);
Expected<void, StoreError> sync_fd(int fd, const char* what);
// fdatasync: the bytes (and what is needed to read them back), not the times.
Expected<void, StoreError> sync_data(int fd, const char* what);
// An errno as a StoreError: ENOSPC and EDQUOT are disk_full, the rest io.
StoreError os_error(int error, const std::string& what);

}  // namespace taho::content
