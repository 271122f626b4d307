// Which 16 KiB groups of a partial download are on disk and verified, and
// the file that keeps that across restarts (store/partial/<hex>/bitmap).
//
// The bits are RangePlan::restore's format: bit i (byte i / 8, least
// significant bit first) set means group i is written and verified.
//
// File format, all integers little endian:
//   magic     8 bytes  "TAHOPBM1"
//   size      8 bytes  the content size (it fixes the bitmap's length)
//   bits      (group_count(size) + 7) / 8 bytes
//   checksum  32 bytes BLAKE3 of everything before it
// The file is replaced by rename, so a reader sees a whole version; the
// checksum still catches what a crash or a disk can do to it, and a file
// that fails any check is treated as "nothing verified", never trusted.
#pragma once

#include <cstdint>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::content {

class GroupBitmap {
 public:
  static constexpr std::uint64_t kHeaderBytes = 16;
  static constexpr std::uint64_t kChecksumBytes = 32;

  // Every group clear. `content_size` at most kContentBytesMax (our bug otherwise).
  explicit GroupBitmap(std::uint64_t content_size);
  // Bits as RangePlan::completed_bitmap() gives them; refuses a wrong length
  // or bits past the last group.
  static Result<GroupBitmap> from_bits(std::uint64_t content_size, ByteView bits);

  // The file form, and back. Decoding any bytes is safe.
  Bytes to_file() const;
  static Result<GroupBitmap> from_file(ByteView file);
  // Bytes of the file for content of `content_size` bytes.
  static std::uint64_t file_bytes(std::uint64_t content_size);

  bool test(std::uint64_t group) const;
  // Returns true if the bit was clear. `group` < group_count() (our bug otherwise).
  bool set(std::uint64_t group);

  std::uint64_t content_size() const { return content_size_; }
  std::uint64_t group_count() const { return group_count_; }
  std::uint64_t groups_set() const { return groups_set_; }
  bool complete() const { return groups_set_ == group_count_; }
  // Content bytes covered by set groups (the last group may be short).
  std::uint64_t verified_bytes() const;
  // True if bytes [begin, end) lie inside the content and every group they
  // touch is set (an empty range is covered).
  bool covers(std::uint64_t begin, std::uint64_t end) const;
  const Bytes& bits() const { return bits_; }

 private:
  std::uint64_t content_size_ = 0;
  std::uint64_t group_count_ = 0;
  std::uint64_t groups_set_ = 0;
  Bytes bits_;
};

}  // namespace taho::content
