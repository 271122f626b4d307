#include "node/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace taho::node {
namespace {

std::string errno_text() { return std::strerror(errno); }

struct FileDescriptor {
  int fd = -1;
  explicit FileDescriptor(int f) : fd(f) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<void> write_file_atomically(const std::filesystem::path& path, ByteView contents, mode_t mode,
                                   IfExists if_exists, bool* kept_existing) {
  if (kept_existing) *kept_existing = false;
  std::random_device entropy;
  const auto temp = path.parent_path() /
                    ("." + path.filename().string() + ".tmp." + std::to_string(entropy()));
  FileDescriptor file(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (file.fd < 0) return fail("cannot create " + temp.string() + ": " + errno_text());
  // fchmod: the umask may have narrowed or (never widened) the mode we asked for.
  if (::fchmod(file.fd, mode) != 0) return fail("cannot chmod " + temp.string() + ": " + errno_text());
  std::size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(file.fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto message = "cannot write " + temp.string() + ": " + errno_text();
      ::unlink(temp.c_str());
      return fail(message);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(file.fd) != 0) {
    auto message = "cannot fsync " + temp.string() + ": " + errno_text();
    ::unlink(temp.c_str());
    return fail(message);
  }
  if (if_exists == IfExists::keep) {
    // link() fails with EEXIST instead of replacing, unlike rename().
    int linked = ::link(temp.c_str(), path.c_str());
    int link_errno = errno;
    ::unlink(temp.c_str());
    if (linked != 0 && link_errno == EEXIST) {
      if (kept_existing) *kept_existing = true;
      return {};
    }
    if (linked != 0) return fail("cannot create " + path.string() + ": " + std::strerror(link_errno));
  } else if (::rename(temp.c_str(), path.c_str()) != 0) {
    auto message = "cannot rename " + temp.string() + " to " + path.string() + ": " + errno_text();
    ::unlink(temp.c_str());
    return fail(message);
  }
  // Make the rename itself durable.
  FileDescriptor dir(::open(path.parent_path().empty() ? "." : path.parent_path().c_str(),
                            O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd >= 0) ::fsync(dir.fd);
  return {};
}

Result<Bytes> read_private_file(const std::filesystem::path& path, bool* unsafe_mode, bool* missing) {
  if (unsafe_mode) *unsafe_mode = false;
  if (missing) *missing = false;
  FileDescriptor file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (file.fd < 0) {
    if (errno == ENOENT && missing) *missing = true;
    return fail("cannot open " + path.string() + ": " + errno_text());
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) return fail("cannot stat " + path.string() + ": " + errno_text());
  if (!S_ISREG(info.st_mode)) return fail(path.string() + " is not a regular file");
  if ((info.st_mode & 077) != 0) {
    if (unsafe_mode) *unsafe_mode = true;
    char mode_text[8];
    std::snprintf(mode_text, sizeof mode_text, "%04o", info.st_mode & 07777);
    return fail(path.string() + " is accessible by group or others (mode " + mode_text +
                "); run: chmod 600 " + path.string());
  }
  constexpr off_t kPrivateFileBytesMax = 64 * 1024;  // keys and tokens are tiny
  if (info.st_size > kPrivateFileBytesMax) return fail(path.string() + " is too large to be a key or token");
  Bytes contents(static_cast<std::size_t>(info.st_size));
  std::size_t got = 0;
  while (got < contents.size()) {
    ssize_t n = ::read(file.fd, contents.data() + got, contents.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail("cannot read " + path.string() + ": " + errno_text());
    if (n == 0) break;
    got += static_cast<std::size_t>(n);
  }
  contents.resize(got);
  return contents;
}

}  // namespace taho::node
