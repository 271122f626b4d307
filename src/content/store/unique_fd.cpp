#include "content/store/unique_fd.hpp"

#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

namespace taho::content {

StoreError os_error(int error, const std::string& what) {
  if (error == ENOSPC || error == EDQUOT) {
    return {StoreErrc::disk_full, what + ": the disk is full (" + std::strerror(error) + ")"};
  }
  return {StoreErrc::io, what + ": " + std::strerror(error)};
}

Expected<void, StoreError> read_exact_at(int fd, MutableByteView out, std::uint64_t offset) {
  while (!out.empty()) {
    const ssize_t got = ::pread(fd, out.data(), out.size(), static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return unexpected(StoreError{StoreErrc::source_unreadable, std::string("read failed: ") + std::strerror(errno)});
    }
    if (got == 0) return unexpected(StoreError{StoreErrc::source_changed, "file got shorter while being read"});
    out = out.subspan(static_cast<std::size_t>(got));
    offset += static_cast<std::uint64_t>(got);
  }
  return {};
}

Expected<void, StoreError> read_exact_scattered_at(int fd, std::span<const MutableByteView> pieces,
                                                   std::uint64_t offset) {
  std::vector<iovec> vectors;
  vectors.reserve(pieces.size());
  for (const MutableByteView piece : pieces) {
    if (!piece.empty()) vectors.push_back(iovec{piece.data(), piece.size()});
  }
  std::size_t next = 0;  // the first vector not yet filled completely
  while (next < vectors.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(vectors.size() - next, IOV_MAX));
    const ssize_t got = ::preadv(fd, vectors.data() + next, count, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return unexpected(StoreError{StoreErrc::source_unreadable, std::string("read failed: ") + std::strerror(errno)});
    }
    if (got == 0) return unexpected(StoreError{StoreErrc::source_changed, "file got shorter while being read"});
    offset += static_cast<std::uint64_t>(got);
    // Skip the vectors filled, and trim the one filled in part.
    auto left = static_cast<std::size_t>(got);
    while (left > 0 && left >= vectors[next].iov_len) left -= vectors[next++].iov_len;
    if (left > 0) {
      vectors[next].iov_base = static_cast<std::uint8_t*>(vectors[next].iov_base) + left;
      vectors[next].iov_len -= left;
    }
  }
  return {};
}

Expected<std::size_t, StoreError> read_some(int fd, MutableByteView out) {
  for (;;) {
    const ssize_t got = ::read(fd, out.data(), out.size());
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) {
      return unexpected(StoreError{StoreErrc::source_unreadable, std::string("read failed: ") + std::strerror(errno)});
    }
  }
}

Expected<void, StoreError> write_all_at(int fd, ByteView bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t put = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (put < 0) {
      if (errno == EINTR) continue;
      return unexpected(os_error(errno, "write"));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(put));
    offset += static_cast<std::uint64_t>(put);
  }
  return {};
}

Expected<void, StoreError> write_all(int fd, ByteView bytes) {
  while (!bytes.empty()) {
    const ssize_t put = ::write(fd, bytes.data(), bytes.size());
    if (put < 0) {
      if (errno == EINTR) continue;
      return unexpected(os_error(errno, "write"));
    }
    bytes = bytes.subspan(static_cast<std::size_t>(put));
  }
  return {};
}

Expected<void, StoreError> sync_fd(int fd, const char* what) {
  if (::fsync(fd) != 0) return unexpected(os_error(errno, std::string("fsync ") + what));
  return {};
}

Expected<void, StoreError> sync_data(int fd, const char* what) {
  if (::fdatasync(fd) != 0) return unexpected(os_error(errno, std::string("fdatasync ") + what));
  return {};
}

}  // namespace taho::content
