#include "content/store/group_bitmap.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "content/tree/tree_shape.hpp"
#include "crypto/blake3.hpp"

namespace taho::content {
namespace {

constexpr char kMagic[8] = {'T', 'A', 'H', 'O', 'P', 'B', 'M', '1'};

std::uint64_t bitmap_bytes(std::uint64_t content_size) { return (content::group_count(content_size) + 7) / 8; }

void put_u64(Bytes& out, std::uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
}

std::uint64_t get_u64(ByteView in) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | in[static_cast<std::size_t>(i)];
  return value;
}

// Our bugs only (indexes come from validated groups); stays on in release.
void require(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

GroupBitmap::GroupBitmap(std::uint64_t content_size)
    : content_size_(content_size), group_count_(content::group_count(content_size)) {
  require(content_size <= kContentBytesMax);
  bits_.assign(bitmap_bytes(content_size), 0);
}

Result<GroupBitmap> GroupBitmap::from_bits(std::uint64_t content_size, ByteView bits) {
  if (content_size > kContentBytesMax) return fail("content size above 1 PiB");
  GroupBitmap bitmap(content_size);
  if (bits.size() != bitmap.bits_.size()) {
    return fail("bitmap of " + std::to_string(bits.size()) + " bytes, expected " + std::to_string(bitmap.bits_.size()));
  }
  const unsigned used_bits = static_cast<unsigned>(bitmap.group_count_ % 8);
  if (used_bits != 0 && (bits.back() >> used_bits) != 0) return fail("bitmap marks groups past the end of the content");
  std::copy(bits.begin(), bits.end(), bitmap.bits_.begin());
  for (const std::uint8_t byte : bits) bitmap.groups_set_ += static_cast<std::uint64_t>(__builtin_popcount(byte));
  return bitmap;
}

std::uint64_t GroupBitmap::file_bytes(std::uint64_t content_size) {
  return kHeaderBytes + bitmap_bytes(content_size) + kChecksumBytes;
}

Bytes GroupBitmap::to_file() const {
  Bytes out;
  out.reserve(file_bytes(content_size_));
  out.insert(out.end(), std::begin(kMagic), std::end(kMagic));
  put_u64(out, content_size_);
  append(out, bits_);
  const auto checksum = crypto::blake3::hash(out);
  append(out, checksum);
  return out;
}

Result<GroupBitmap> GroupBitmap::from_file(ByteView file) {
  if (file.size() < kHeaderBytes + kChecksumBytes) return fail("bitmap file of " + std::to_string(file.size()) + " bytes is too short");
  if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) return fail("bitmap file has no TAHOPBM1 header");
  const std::uint64_t content_size = get_u64(file.subspan(8, 8));
  if (content_size > kContentBytesMax) return fail("bitmap file names a content size above 1 PiB");
  if (file.size() != file_bytes(content_size)) {
    return fail("bitmap file of " + std::to_string(file.size()) + " bytes, expected " +
                std::to_string(file_bytes(content_size)) + " for " + std::to_string(content_size) + " bytes of content");
  }
  const ByteView body = file.first(file.size() - kChecksumBytes);
  const auto checksum = crypto::blake3::hash(body);
  if (!std::equal(checksum.begin(), checksum.end(), file.end() - static_cast<std::ptrdiff_t>(kChecksumBytes))) {
    return fail("bitmap file checksum does not match (torn or damaged)");
  }
  return from_bits(content_size, body.subspan(kHeaderBytes));
}

bool GroupBitmap::test(std::uint64_t group) const {
  return group < group_count_ && ((bits_[group / 8] >> (group % 8)) & 1) != 0;
}

bool GroupBitmap::set(std::uint64_t group) {
  require(group < group_count_);
  if (test(group)) return false;
  bits_[group / 8] = static_cast<std::uint8_t>(bits_[group / 8] | (1u << (group % 8)));
  ++groups_set_;
  return true;
}

std::uint64_t GroupBitmap::verified_bytes() const {
  if (groups_set_ == 0) return 0;
  const std::uint64_t last = group_count_ - 1;
  // Every group but the last is full.
  return (groups_set_ - (test(last) ? 1 : 0)) * kGroupBytes + (test(last) ? group_length(content_size_, last) : 0);
}

bool GroupBitmap::covers(std::uint64_t begin, std::uint64_t end) const {
  if (begin >= end) return true;
  if (end > content_size_) return false;
  for (std::uint64_t group = begin / kGroupBytes; group <= (end - 1) / kGroupBytes; ++group) {
    if (!test(group)) return false;
  }
  return true;
}

}  // namespace taho::content
