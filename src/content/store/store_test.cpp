#include "content/store/store.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "content/store/test_files.hpp"
#include "content/store/unique_fd.hpp"
#include "content/tree/range_decoder.hpp"

namespace taho::content {
namespace {
namespace fs = std::filesystem;
using test::random_bytes;

class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("taho-store-test-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Store open_store(StoreOptions options = {}) {
    options.root = dir_ / "store";
    auto store = Store::open(options);
    EXPECT_TRUE(store) << store.error().detail;
    return std::move(store).value();
  }

  fs::path write_file(const std::string& name, ByteView bytes) {
    const fs::path path = dir_ / name;
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return path;
  }

  fs::path dir_;
};

std::string b3sum(const fs::path& path) {
  const std::string command = "b3sum --no-names '" + path.string() + "'";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {};
  char line[128] = {};
  const bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  ::pclose(pipe);
  std::string hex = got ? line : "";
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  return hex;
}

TEST_F(StoreTest, PublishedIdIsWhatB3sumPrints) {
  auto store = open_store();
  for (const std::size_t size : {0u, 1u, 1023u, 1024u, 16383u, 16384u, 16385u, (1u << 20) + 1, 5u * (1 << 20) + 3}) {
    SCOPED_TRACE(size);
    const auto bytes = random_bytes(size, static_cast<std::uint32_t>(size) + 11);
    const auto path = write_file("file-" + std::to_string(size), bytes);
    auto put = store.put_file(path);
    ASSERT_TRUE(put) << put.error().detail;
    const std::string expected = b3sum(path);
    ASSERT_EQ(expected.size(), 64u) << "b3sum missing?";
    EXPECT_EQ(put->id.to_string(), "ca_blake3_" + expected);
    EXPECT_EQ(put->size, size);
    EXPECT_TRUE(store.verify(put->id));
    auto read = store.read(put->id, 0, size, true);
    ASSERT_TRUE(read) << read.error().detail;
    EXPECT_EQ(*read, bytes);
  }
}

TEST_F(StoreTest, ParallelHashingMatchesTheTreeForAnyThreadCount) {
  const std::size_t size = 3 * (1 << 20) + 16384 * 5 + 77;
  const auto bytes = random_bytes(size, 4);
  const auto path = write_file("big", bytes);
  const auto expected = compute_outboard(bytes);
  const UniqueFd fd(::open(path.c_str(), O_RDONLY));
  for (const unsigned threads : {1u, 2u, 3u}) {
    Bytes outboard;
    std::uint64_t last_progress = 0;
    // Small windows and batches: many windows, uneven last batch.
    const ParallelHashOptions options{threads, 3 * kGroupBytes, 20 * kGroupBytes};
    auto root = hash_file(fd.get(), size, {.outboard = &outboard}, options,
                          [&](std::uint64_t done) { last_progress = done; });
    ASSERT_TRUE(root) << root.error().detail;
    EXPECT_EQ(*root, expected.root);
    EXPECT_EQ(outboard, expected.bytes);
    EXPECT_EQ(last_progress, size);
  }
}

TEST_F(StoreTest, SameBytesAreStoredOnce) {
  auto store = open_store();
  const auto bytes = random_bytes(100'000, 5);
  auto first = store.put_bytes(bytes);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->already_stored);
  const auto used = store.stored_bytes();
  EXPECT_EQ(used, 100'000 + outboard_bytes(100'000));
  auto second = store.put_file(write_file("copy", bytes));
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->already_stored);
  EXPECT_EQ(second->id, first->id);
  EXPECT_EQ(store.stored_bytes(), used);
  EXPECT_EQ(store.list()->size(), 1u);
  // Nothing left behind in tmp/.
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "tmp"));
}

TEST_F(StoreTest, ConcurrentPublishersOfTheSameBytes) {
  auto store = open_store();
  const auto path = write_file("same", random_bytes(2 << 20, 6));
  std::vector<std::thread> publishers;
  std::vector<bool> ok(4, false);
  for (int i = 0; i < 4; ++i) {
    publishers.emplace_back([&, i] { ok[static_cast<std::size_t>(i)] = store.put_file(path).has_value(); });
  }
  for (auto& publisher : publishers) publisher.join();
  for (const bool each : ok) EXPECT_TRUE(each);
  ASSERT_EQ(store.list()->size(), 1u);
  EXPECT_TRUE(store.verify(store.list()->front().id));
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "tmp"));
}

TEST_F(StoreTest, ListStatRemove) {
  auto store = open_store();
  auto a = store.put_bytes(random_bytes(10, 1));
  auto b = store.put_bytes(random_bytes(20'000, 2));
  ASSERT_TRUE(a && b);
  auto listed = store.list();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_LT((*listed)[0].id, (*listed)[1].id);
  EXPECT_EQ(store.stat(b->id)->size, 20'000u);

  ASSERT_TRUE(store.remove(a->id));
  EXPECT_FALSE(store.contains(a->id));
  EXPECT_EQ(store.stat(a->id).error().code, StoreErrc::not_found);
  EXPECT_EQ(store.remove(a->id).error().code, StoreErrc::not_found);
  EXPECT_EQ(store.read(a->id, 0, 10).error().code, StoreErrc::not_found);
  EXPECT_EQ(store.stored_bytes(), 20'000 + outboard_bytes(20'000));
  EXPECT_EQ(store.list()->size(), 1u);
}

TEST_F(StoreTest, CorruptionIsFoundWhenAsked) {
  auto store = open_store();
  const auto bytes = random_bytes(100'000, 8);
  auto put = store.put_bytes(bytes);
  ASSERT_TRUE(put);
  const auto data_path = store.stat(put->id)->data_path;
  {
    std::fstream file(data_path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(50'000);
    file.put(static_cast<char>(bytes[50'000] ^ 0x01));
  }
  EXPECT_EQ(store.verify(put->id).error().code, StoreErrc::corrupt);
  EXPECT_EQ(store.read(put->id, 49'152, 100, true).error().code, StoreErrc::corrupt);
  // Groups away from the damage still verify; unverified reads see the damage.
  EXPECT_TRUE(store.read(put->id, 0, 100, true));
  EXPECT_TRUE(store.read(put->id, 49'152, 100, false));
  const UniqueFd sink(::open("/dev/null", O_WRONLY));
  EXPECT_EQ(store.write_to(put->id, sink.get(), true).error().code, StoreErrc::corrupt);
  EXPECT_TRUE(store.write_to(put->id, sink.get(), false));
}

TEST_F(StoreTest, CorruptOutboardIsFound) {
  auto store = open_store();
  auto put = store.put_bytes(random_bytes(100'000, 9));
  ASSERT_TRUE(put);
  const auto outboard_path = store.stat(put->id)->data_path.parent_path() / "outboard";
  {
    std::fstream file(outboard_path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(3);
    file.put('x');
  }
  EXPECT_EQ(store.verify(put->id).error().code, StoreErrc::corrupt);
  EXPECT_EQ(store.read(put->id, 0, 10, true).error().code, StoreErrc::corrupt);
}

TEST_F(StoreTest, WritesWholeContentToAFile) {
  auto store = open_store();
  const auto bytes = random_bytes(17 << 20, 10);  // more than one verified range
  auto put = store.put_bytes(bytes);
  ASSERT_TRUE(put);
  for (const bool verify : {false, true}) {
    const fs::path out = dir_ / ("out-" + std::to_string(verify));
    {
      const UniqueFd fd(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
      ASSERT_TRUE(store.write_to(put->id, fd.get(), verify));
    }
    std::ifstream in(out, std::ios::binary);
    const Bytes written((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(written, bytes) << verify;
  }
}

TEST_F(StoreTest, StreamsFromAPipe) {
  auto store = open_store();
  const auto bytes = random_bytes(3 << 20, 12);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {
    ByteView rest(bytes);
    while (!rest.empty()) {
      const auto put = ::write(fds[1], rest.data(), std::min<std::size_t>(rest.size(), 70'000));
      if (put <= 0) break;
      rest = rest.subspan(static_cast<std::size_t>(put));
    }
    ::close(fds[1]);
  });
  auto put = store.put_stream(fds[0]);
  writer.join();
  ::close(fds[0]);
  ASSERT_TRUE(put) << put.error().detail;
  EXPECT_EQ(put->id, ContentId(crypto::blake3::hash(bytes)));
  EXPECT_TRUE(store.verify(put->id));
}

TEST_F(StoreTest, RefusesBadSources) {
  auto store = open_store();
  EXPECT_EQ(store.put_file(dir_ / "missing").error().code, StoreErrc::source_missing);
  auto directory = store.put_file(dir_);
  EXPECT_EQ(directory.error().code, StoreErrc::source_directory);
  EXPECT_NE(directory.error().detail.find("not supported yet"), std::string::npos);
  if (::geteuid() != 0) {  // root reads anything
    const auto path = write_file("secret", random_bytes(10, 1));
    fs::permissions(path, fs::perms::none);
    EXPECT_EQ(store.put_file(path).error().code, StoreErrc::source_unreadable);
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "tmp"));
}

TEST_F(StoreTest, StoreLimitIsEnforced) {
  StoreOptions options;
  options.store_bytes_max = 150'000;
  auto store = open_store(options);
  ASSERT_TRUE(store.put_bytes(random_bytes(100'000, 1)));
  auto refused = store.put_bytes(random_bytes(100'000, 2));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrc::store_full);
  EXPECT_NE(refused.error().detail.find("max_store_gb"), std::string::npos);
  auto refused_file = store.put_file(write_file("f", random_bytes(100'000, 3)));
  EXPECT_EQ(refused_file.error().code, StoreErrc::store_full);
  EXPECT_EQ(store.list()->size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "store" / "tmp"));
}

TEST_F(StoreTest, FullDiskIsRefusedClearly) {
  StoreOptions options;
  options.free_bytes_reserve = std::uint64_t{1} << 60;  // more than any disk has
  auto store = open_store(options);
  auto refused = store.put_bytes(random_bytes(10, 1));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrc::disk_full);
  EXPECT_NE(refused.error().detail.find("free disk space"), std::string::npos);
}

TEST_F(StoreTest, CleansLeftoversOfKilledWritersButNotLiveOnes) {
  const fs::path tmp = dir_ / "store" / "tmp";
  fs::create_directories(tmp / "dead");
  std::ofstream(tmp / "dead.lock") << "";
  std::ofstream(tmp / "dead" / "data") << "half";
  fs::create_directories(tmp / "old.trash" / "x");
  std::ofstream(tmp / "unnamed.lock.new") << "";
  fs::create_directories(tmp / "live");
  const UniqueFd live_lock(::open((tmp / "live.lock").c_str(), O_RDWR | O_CREAT, 0600));
  ASSERT_EQ(::flock(live_lock.get(), LOCK_EX), 0);

  auto store = open_store();
  EXPECT_FALSE(fs::exists(tmp / "dead"));
  EXPECT_FALSE(fs::exists(tmp / "dead.lock"));
  EXPECT_FALSE(fs::exists(tmp / "old.trash"));
  EXPECT_FALSE(fs::exists(tmp / "unnamed.lock.new"));
  EXPECT_TRUE(fs::exists(tmp / "live"));
  EXPECT_TRUE(fs::exists(tmp / "live.lock"));
  EXPECT_TRUE(store.list()->empty());
}

TEST_F(StoreTest, CacheStaysWithinItsBound) {
  StoreOptions options;
  options.cache_bytes_max = 3 * kGroupBytes;
  auto store = open_store(options);
  const auto bytes = random_bytes(20 * kGroupBytes, 13);
  auto put = store.put_bytes(bytes);
  ASSERT_TRUE(put);
  for (std::uint64_t group = 0; group < 20; ++group) {
    auto read = store.read(put->id, group * kGroupBytes, kGroupBytes, true);
    ASSERT_TRUE(read);
    EXPECT_TRUE(std::equal(read->begin(), read->end(), bytes.begin() + static_cast<std::ptrdiff_t>(group * kGroupBytes)));
    EXPECT_LE(store.cache().bytes_used(), 3 * kGroupBytes);
  }
  EXPECT_GT(store.cache().bytes_used(), 0u);
}

TEST_F(StoreTest, EncodeRangeBoundsItsResponse) {
  auto store = open_store();
  auto put = store.put_bytes(random_bytes(100'000, 15));
  ASSERT_TRUE(put);
  EXPECT_EQ(store.encode_range(put->id, {1, 10}).error().code, StoreErrc::bad_request);
  auto unknown = ContentId(crypto::blake3::hash(as_bytes("unknown")));
  EXPECT_EQ(store.encode_range(unknown, {0, 10}).error().code, StoreErrc::not_found);
}

// Served ranges read the data file group by group: what they hold is the
// object's bytes with the proof between them, and a data file cut short
// (damaged store) is an error, not a short or garbage answer.
TEST_F(StoreTest, EncodeRangeReadsTheDataFileAndNoticesItCutShort) {
  auto store = open_store();
  const auto bytes = random_bytes(200'000, 16);
  auto put = store.put_bytes(bytes);
  ASSERT_TRUE(put);
  const ByteRange range{kGroupBytes, 3 * kGroupBytes};
  auto encoded = store.encode_range(put->id, range);
  ASSERT_TRUE(encoded);
  RangeDecoder decoder(put->id.hash(), range);
  ASSERT_TRUE(decoder.feed(*encoded));
  ASSERT_TRUE(decoder.finish());
  std::size_t groups = 0;
  while (auto group = decoder.poll_group()) {
    const auto offset = group->index * kGroupBytes;
    EXPECT_TRUE(std::equal(group->bytes.begin(), group->bytes.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset)));
    ++groups;
  }
  EXPECT_EQ(groups, 4u);  // the three asked for and the last, which proves the size

  fs::resize_file(store.stat(put->id)->data_path, 150'000);
  EXPECT_EQ(store.encode_range(put->id, range).error().code, StoreErrc::corrupt);
}

// More pieces than one preadv takes (IOV_MAX), of uneven sizes, one empty:
// each gets its bytes; a file too short for them all is source_changed.
TEST_F(StoreTest, ScatteredReadFillsEveryPieceInFileOrder) {
  const auto bytes = random_bytes(3000 * 7 + 100, 17);
  const fs::path path = write_file("scattered", bytes);
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  std::vector<Bytes> buffers;
  for (std::size_t i = 0; i < 3000; ++i) buffers.emplace_back(i == 5 ? 0 : 1 + i % 13);
  std::vector<MutableByteView> pieces(buffers.begin(), buffers.end());
  ASSERT_TRUE(read_exact_scattered_at(fd.get(), pieces, 50));
  std::size_t at = 50;
  for (const Bytes& buffer : buffers) {
    ASSERT_TRUE(std::equal(buffer.begin(), buffer.end(), bytes.begin() + static_cast<std::ptrdiff_t>(at))) << at;
    at += buffer.size();
  }
  Bytes beyond(200);
  const MutableByteView past_the_end[] = {MutableByteView(beyond)};
  EXPECT_EQ(read_exact_scattered_at(fd.get(), past_the_end, bytes.size() - 100).error().code,
            StoreErrc::source_changed);
}

}  // namespace
}  // namespace taho::content
