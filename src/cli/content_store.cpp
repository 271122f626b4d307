#include "cli/content_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/command.hpp"
#include "node/store_options.hpp"

namespace taho::cli {
namespace {

namespace fs = std::filesystem;

// One read and write step where the kernel cannot copy: big enough that
// per-call costs vanish, small enough to stay in L2.
constexpr std::uint64_t kCopyChunkBytes = std::uint64_t{1} << 20;
// One copy_file_range call: the kernel copies without our buffer.
constexpr std::uint64_t kKernelCopyBytes = std::uint64_t{16} << 20;

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

bool is_file(const fs::path& path, const struct stat& opened) {
  struct stat now {};
  return ::stat(path.c_str(), &now) == 0 && same_file(opened, now);
}

CopyError source_error(const std::string& what, const std::string& detail) {
  return CopyError{CopyErrc::source, what + ": " + detail};
}

CopyError output_error(const content::StoreError& error) { return CopyError{CopyErrc::output, error.detail}; }

// copy_file_range fails like this when it cannot copy between these two
// files at all (another file system, a kernel without it): copy through a buffer.
bool kernel_copy_unsupported(int error) {
  return error == EXDEV || error == EINVAL || error == EOPNOTSUPP || error == ENOSYS || error == EBADF ||
         error == EPERM;
}

}  // namespace

std::optional<content::Store> open_content_store(const Session& session, std::string_view command) {
  auto store = content::Store::open(node::store_options(session.config, session.home));
  if (!store) {
    std::cerr << "taho " << command << ": cannot open the content store: " << store.error().detail << "\n";
    return std::nullopt;
  }
  return std::move(*store);
}

int exit_code_of(const content::StoreError& error) {
  return error.code == content::StoreErrc::bad_request ? kExitUsage : kExitFailure;
}

ContentFiles content_files(const fs::path& store_root, const content::ContentId& id) {
  const std::string hex = id.hex();
  return ContentFiles{store_root / "objects" / hex.substr(0, 2) / hex / "data", store_root / "partial" / hex / "data"};
}

StoreCopy::StoreCopy(ContentFiles files, int out_fd) : files_(std::move(files)), out_fd_(out_fd) {}

Expected<void, CopyError> StoreCopy::open_source() {
  // The partial first: the object's file is the same one once committed,
  // and the partial is where a running fetch writes.
  for (const fs::path* path : {&files_.partial_data, &files_.object_data}) {
    content::UniqueFd fd(::open(path->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      return unexpected(source_error(path->string(), std::strerror(errno)));
    }
    if (::fstat(fd.get(), &source_stat_) != 0) return unexpected(source_error(path->string(), std::strerror(errno)));
    source_ = std::move(fd);
    return {};
  }
  return unexpected(CopyError{CopyErrc::source_missing, "neither " + files_.partial_data.string() + " nor " +
                                                            files_.object_data.string() + " exists"});
}

bool StoreCopy::source_current() const {
  return is_file(files_.partial_data, source_stat_) || is_file(files_.object_data, source_stat_);
}

Expected<void, CopyError> StoreCopy::copy_chunk(std::uint64_t length) {
  if (!source_) {
    if (auto opened = open_source(); !opened) return opened;
  }
  // A file replaced while we read it (a partial started afresh) is read
  // again from its new self: the bytes below verified_end are the same
  // content whichever file holds them.
  for (int attempt = 0;; ++attempt) {
    bool copied = false;
    if (kernel_copy_) {
      loff_t from = static_cast<loff_t>(copied_);
      loff_t to = from;
      std::uint64_t left = length;
      while (left > 0) {
        const ssize_t moved = ::copy_file_range(source_.get(), &from, out_fd_, &to, left, 0);
        if (moved > 0) {
          left -= static_cast<std::uint64_t>(moved);
          continue;
        }
        if (moved < 0 && errno == EINTR) continue;
        const int error = moved == 0 ? 0 : errno;
        if (left == length && kernel_copy_unsupported(error)) break;
        if (error == ENOSPC || error == EDQUOT || error == EFBIG) {
          return unexpected(output_error(content::os_error(error, "write")));
        }
        return unexpected(source_error("copy from " + files_.partial_data.parent_path().string(),
                                       error ? std::strerror(error) : "the file ended early"));
      }
      copied = left == 0;
      if (!copied) kernel_copy_ = false;
    }
    if (!copied) {
      buffer_.resize(length);
      if (auto read = content::read_exact_at(source_.get(), buffer_, copied_); !read) {
        return unexpected(source_error("read from the store", read.error().detail));
      }
    }
    if (source_current()) {
      if (!copied) {
        if (auto written = content::write_all_at(out_fd_, buffer_, copied_); !written) {
          return unexpected(output_error(written.error()));
        }
      }
      // Writeback starts now rather than at the final fsync, so on a disk
      // the output's writes overlap the fetch; errors show at that fsync.
      (void)::sync_file_range(out_fd_, static_cast<off64_t>(copied_), static_cast<off64_t>(length),
                              SYNC_FILE_RANGE_WRITE);
      copied_ += length;
      return {};
    }
    if (attempt == 2) return unexpected(CopyError{CopyErrc::source, "the store's file keeps changing"});
    source_.reset();
    if (auto opened = open_source(); !opened) return opened;
  }
}

std::uint64_t StoreCopy::step_bytes() const { return kernel_copy_ ? kKernelCopyBytes : kCopyChunkBytes; }

Expected<void, CopyError> StoreCopy::copy_verified(std::uint64_t verified_end) {
  while (copied_ < verified_end) {
    if (auto copied = copy_chunk(std::min(step_bytes(), verified_end - copied_)); !copied) {
      if (copied.error().code == CopyErrc::source_missing) return {};  // being committed: later
      return copied;
    }
  }
  return {};
}

Expected<std::optional<crypto::blake3::Hash>, CopyError> StoreCopy::finish(std::uint64_t size,
                                                                           const content::ProgressFn& progress) {
  if (copied_ > size) return unexpected(CopyError{CopyErrc::source, "the content is shorter than reported"});
  // The object is committed now: the partial's file is the object's (or a
  // leftover of an earlier fetch that must not be read any more).
  if (source_ && !is_file(files_.object_data, source_stat_)) source_.reset();
  const bool whole = copied_ == 0;
  while (copied_ < size) {
    if (auto copied = copy_chunk(std::min(step_bytes(), size - copied_)); !copied) return unexpected(copied.error());
    if (progress && whole) progress(copied_ / 2);
  }
  if (!whole) return std::optional<crypto::blake3::Hash>{};  // the daemon verified every byte of it
  // The verification pass: what landed in the output, hashed on all cores.
  auto hashed = content::hash_file(out_fd_, size, {}, {}, [&](std::uint64_t done) {
    if (progress) progress(size / 2 + done / 2);
  });
  if (!hashed) return unexpected(CopyError{CopyErrc::output, "read back the output: " + hashed.error().detail});
  return std::optional<crypto::blake3::Hash>{*hashed};
}

}  // namespace taho::cli
