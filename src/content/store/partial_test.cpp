#include "content/store/partial.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <numeric>
#include <random>
#include <thread>

#include "content/store/test_files.hpp"
#include "content/store/unique_fd.hpp"

namespace taho::content {
namespace {
namespace fs = std::filesystem;
using test::random_bytes;
using test::read_whole;
using test::write_whole;

class PartialTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("taho-partial-test-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  StoreOptions options(const std::string& name = "store") const {
    StoreOptions options;
    options.root = dir_ / name;
    options.partial_flush_bytes = 4 * kGroupBytes;
    options.partial_flush_interval = std::chrono::milliseconds(0);
    options.hash_threads = 2;
    return options;
  }
  Store open_store(StoreOptions store_options) {
    auto store = Store::open(std::move(store_options));
    EXPECT_TRUE(store) << store.error().detail;
    return std::move(store).value();
  }

  // Real content in a source store, and every one of its groups as the
  // fetch gets them: served with proofs and verified by RangeDecoder.
  void make_content(std::size_t size, std::uint32_t seed) {
    bytes_ = random_bytes(size, seed);
    source_.emplace(open_store(options("source")));
    auto put = source_->put_bytes(bytes_);
    ASSERT_TRUE(put) << put.error().detail;
    id_ = put->id;
    groups_.clear();
    const ByteRange whole{0, std::max<std::uint64_t>(size, 1)};
    auto encoded = source_->encode_range(id_, whole);
    ASSERT_TRUE(encoded) << encoded.error().detail;
    RangeDecoder decoder(id_.hash(), whole);
    ASSERT_TRUE(decoder.feed(*encoded));
    ASSERT_TRUE(decoder.finish());
    while (auto group = decoder.poll_group()) groups_.push_back(std::move(*group));
    ASSERT_EQ(groups_.size(), group_count(size));
  }

  fs::path partial_path(const Store& store, const char* file) const {
    return store.options().root / "partial" / id_.hex() / file;
  }

  bool group_on_disk_is_right(const Bytes& data, std::uint64_t group) const {
    const auto begin = static_cast<std::ptrdiff_t>(group * kGroupBytes);
    const auto length = static_cast<std::ptrdiff_t>(group_length(bytes_.size(), group));
    return static_cast<std::ptrdiff_t>(data.size()) >= begin + length &&
           std::equal(data.begin() + begin, data.begin() + begin + length, bytes_.begin() + begin);
  }

  fs::path dir_;
  std::optional<Store> source_;
  Bytes bytes_;
  ContentId id_;
  std::vector<VerifiedGroup> groups_;
};

TEST_F(PartialTest, ResumesAfterARestartAndCommitsAVerifiedObject) {
  make_content(100 * kGroupBytes + 123, 1);
  std::vector<std::size_t> order(groups_.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(2));
  const std::size_t first_part = 61;  // not a multiple of the flush interval: close must flush

  Bytes expected_bits;
  {
    auto store = open_store(options());
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial) << partial.error().detail;
    EXPECT_EQ(partial->completed_bitmap(), Bytes((groups_.size() + 7) / 8, 0));
    for (std::size_t i = 0; i < first_part; ++i) ASSERT_TRUE(partial->write(groups_[order[i]]));
    ASSERT_TRUE(partial->write(groups_[order[0]]));  // a second copy changes nothing
    EXPECT_EQ(partial->groups_missing(), groups_.size() - first_part);
    expected_bits = partial->completed_bitmap();
  }  // closed: the process "restarts"

  auto store = open_store(options());
  auto listed = store.list_partials();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, id_);
  EXPECT_EQ((*listed)[0].size, bytes_.size());
  EXPECT_FALSE((*listed)[0].in_use);
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial) << partial.error().detail;
  EXPECT_EQ(partial->completed_bitmap(), expected_bits);
  EXPECT_EQ(partial->completed().groups_set(), first_part);
  EXPECT_EQ((*listed)[0].verified_bytes, partial->completed().verified_bytes());
  for (std::size_t i = 0; i < first_part; ++i) EXPECT_TRUE(partial->completed().test(order[i]));

  EXPECT_EQ(partial->commit().error().code, StoreErrc::bad_request);  // not complete yet
  for (std::size_t i = first_part; i < order.size(); ++i) ASSERT_TRUE(partial->write(groups_[order[i]]));
  auto committed = partial->commit();
  ASSERT_TRUE(committed) << committed.error().detail;
  EXPECT_EQ(committed->id, id_);
  EXPECT_EQ(committed->size, bytes_.size());
  EXPECT_FALSE(committed->already_stored);
  EXPECT_TRUE(store.verify(id_));
  EXPECT_EQ(read_whole(store.stat(id_)->data_path), bytes_);
  EXPECT_EQ(store.stored_bytes(), bytes_.size() + outboard_bytes(bytes_.size()));
  EXPECT_TRUE(store.list_partials()->empty());
  EXPECT_FALSE(fs::exists(store.options().root / "partial" / id_.hex()));
  EXPECT_EQ(partial->write(groups_[0]).error().code, StoreErrc::bad_request);  // spent
  EXPECT_EQ(partial->commit().error().code, StoreErrc::bad_request);
}

TEST_F(PartialTest, EmptyAndOneGroupContent) {
  for (const std::size_t size : {0u, 1u, 16384u}) {
    SCOPED_TRACE(size);
    make_content(size, 3);
    auto store = open_store(options("store" + std::to_string(size)));
    auto partial = store.open_partial(id_, size);
    ASSERT_TRUE(partial) << partial.error().detail;
    ASSERT_TRUE(partial->write(groups_[0]));
    auto committed = partial->commit();
    ASSERT_TRUE(committed) << committed.error().detail;
    EXPECT_EQ(committed->id, id_);
    EXPECT_TRUE(store.verify(id_));
  }
}

TEST_F(PartialTest, RefusesGroupsThatDoNotFit) {
  make_content(3 * kGroupBytes + 10, 4);
  auto store = open_store(options());
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->write({3, 3 * kGroupBytes, Bytes(kGroupBytes)}).error().code, StoreErrc::bad_request);
  EXPECT_EQ(partial->write({4, 4 * kGroupBytes, Bytes(10)}).error().code, StoreErrc::bad_request);
  EXPECT_EQ(partial->write({1, 0, Bytes(kGroupBytes)}).error().code, StoreErrc::bad_request);
  EXPECT_EQ(partial->write({0, 0, Bytes(100)}).error().code, StoreErrc::bad_request);
  EXPECT_EQ(partial->completed().groups_set(), 0u);
  EXPECT_EQ(store.open_partial(id_, kContentBytesMax + 1).error().code, StoreErrc::bad_request);
}

TEST_F(PartialTest, DataDamagedUnderASetBitFailsCommitAndIsDiscarded) {
  make_content(20 * kGroupBytes, 5);
  {
    auto store = open_store(options());
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial);
    for (const auto& group : groups_) ASSERT_TRUE(partial->write(group));
  }
  auto store = open_store(options());
  Bytes data = read_whole(partial_path(store, "data"));
  ASSERT_EQ(data.size(), bytes_.size());
  data[7 * kGroupBytes + 5] ^= 0x40;
  write_whole(partial_path(store, "data"), data);

  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  EXPECT_EQ(partial->groups_missing(), 0u);  // the bitmap cannot know
  auto committed = partial->commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, StoreErrc::corrupt);
  EXPECT_NE(committed.error().detail.find("damaged"), std::string::npos) << committed.error().detail;
  EXPECT_NE(committed.error().detail.find(id_.to_string()), std::string::npos);
  EXPECT_FALSE(store.contains(id_));
  EXPECT_TRUE(store.list_partials()->empty());
  EXPECT_EQ(store.stored_bytes(), 0u);

  // The next fetch starts from nothing and succeeds.
  auto again = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->completed().groups_set(), 0u);
  for (const auto& group : groups_) ASSERT_TRUE(again->write(group));
  ASSERT_TRUE(again->commit());
  EXPECT_TRUE(store.verify(id_));
}

TEST_F(PartialTest, CommitBuildsTheOutboardFromTheVerifiedChainingValues) {
  make_content(300 * kGroupBytes + 5, 12);
  for (const bool restart : {false, true}) {
    auto store = open_store(options(restart ? "resumed" : "direct"));
    {
      auto partial = store.open_partial(id_, bytes_.size());
      ASSERT_TRUE(partial);
      // With a restart, the first half comes from disk and is hashed at commit.
      for (std::size_t i = 0; i < groups_.size() / 2; ++i) ASSERT_TRUE(partial->write(groups_[i]));
      if (!restart) {
        for (std::size_t i = groups_.size() / 2; i < groups_.size(); ++i) ASSERT_TRUE(partial->write(groups_[i]));
        ASSERT_TRUE(partial->commit());
      }
    }
    if (restart) {
      auto partial = store.open_partial(id_, bytes_.size());
      ASSERT_TRUE(partial);
      for (std::size_t i = groups_.size() / 2; i < groups_.size(); ++i) ASSERT_TRUE(partial->write(groups_[i]));
      ASSERT_TRUE(partial->commit());
    }
    const fs::path object = store.stat(id_)->data_path.parent_path();
    EXPECT_EQ(read_whole(object / "outboard"), compute_outboard(bytes_).bytes) << "restart " << restart;
    EXPECT_EQ(read_whole(object / "data"), bytes_);
    EXPECT_TRUE(store.verify(id_));
  }
}

TEST_F(PartialTest, AWrongChainingValueNeverCommits) {
  make_content(30 * kGroupBytes + 100, 13);
  auto store = open_store(options());
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    VerifiedGroup group = groups_[i];
    if (i == 11) group.chaining_value[5] ^= 0x10;  // what a broken verifier would hand over
    ASSERT_TRUE(partial->write(group));
  }
  auto committed = partial->commit();
  ASSERT_FALSE(committed);
  EXPECT_EQ(committed.error().code, StoreErrc::corrupt);
  EXPECT_TRUE(partial->spent());
  EXPECT_FALSE(store.contains(id_));
  EXPECT_TRUE(store.list_partials()->empty());
  EXPECT_EQ(store.stored_bytes(), 0u);
}

TEST_F(PartialTest, ADifferentSizeStartsAfresh) {
  make_content(10 * kGroupBytes, 6);
  {
    auto store = open_store(options());
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial);
    for (std::size_t i = 0; i < 6; ++i) ASSERT_TRUE(partial->write(groups_[i]));
  }
  auto store = open_store(options());
  const fs::path data = partial_path(store, "data");
  const UniqueFd reader(::open(data.c_str(), O_RDONLY));  // a reader of the old data file
  struct stat old_data {};
  ASSERT_EQ(::fstat(reader.get(), &old_data), 0);
  {
    auto other = store.open_partial(id_, bytes_.size() + 1);
    ASSERT_TRUE(other);
    EXPECT_EQ(other->completed().groups_set(), 0u);
    EXPECT_EQ(other->size(), bytes_.size() + 1);
    EXPECT_EQ(fs::file_size(data), bytes_.size() + 1);
    struct stat new_data {};
    ASSERT_EQ(::stat(data.c_str(), &new_data), 0);
    EXPECT_NE(new_data.st_ino, old_data.st_ino);  // a reader of the old file can tell
  }
  auto back = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->completed().groups_set(), 0u);  // the old progress is gone, not mixed in
}

TEST_F(PartialTest, TornOrGarbageBitmapMeansNothingVerified) {
  make_content(30 * kGroupBytes + 1, 7);
  {
    auto store = open_store(options());
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial);
    for (std::size_t i = 0; i < 20; ++i) ASSERT_TRUE(partial->write(groups_[i]));
  }
  const fs::path bitmap_path = dir_ / "store" / "partial" / id_.hex() / "bitmap";
  const Bytes good = read_whole(bitmap_path);
  ASSERT_EQ(good.size(), GroupBitmap::file_bytes(bytes_.size()));

  std::vector<Bytes> damaged;
  damaged.push_back({});                                                    // empty file
  damaged.push_back(Bytes(good.begin(), good.begin() + 20));                // torn short
  damaged.push_back(Bytes(good.begin(), good.end() - 1));                   // torn at the end
  damaged.push_back(random_bytes(good.size(), 8));                          // garbage of the right length
  Bytes flipped = good;
  flipped[GroupBitmap::kHeaderBytes] ^= 0x80;  // a bit without a matching checksum
  damaged.push_back(flipped);
  Bytes longer = good;
  longer.push_back(0);
  damaged.push_back(longer);
  for (std::size_t i = 0; i < damaged.size(); ++i) {
    SCOPED_TRACE(i);
    write_whole(bitmap_path, damaged[i]);
    auto store = open_store(options());
    EXPECT_EQ(store.read_partial(id_, 0, kGroupBytes).error().code, StoreErrc::not_verified);
    auto listed = store.list_partials();
    ASSERT_TRUE(listed);
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].verified_bytes, 0u);
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial) << partial.error().detail;
    EXPECT_EQ(partial->completed().groups_set(), 0u);
  }
  // What open wrote in place of the damaged file is a good, empty bitmap.
  auto reread = GroupBitmap::from_file(read_whole(bitmap_path));
  ASSERT_TRUE(reread) << reread.error().text;
  EXPECT_EQ(reread->groups_set(), 0u);
}

TEST_F(PartialTest, ReadPartialReturnsVerifiedBytesOnly) {
  make_content(40 * kGroupBytes + 77, 9);
  auto writer_options = options();
  writer_options.partial_flush_bytes = 1000 * kGroupBytes;  // flushes only when asked
  auto store = open_store(writer_options);
  EXPECT_EQ(store.read_partial(id_, 0, 10).error().code, StoreErrc::not_found);
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  for (std::size_t i = 0; i < 10; ++i) ASSERT_TRUE(partial->write(groups_[i]));
  ASSERT_TRUE(partial->write(groups_[39]));
  ASSERT_TRUE(partial->write(groups_[40]));
  // Written but not flushed: the bitmap on disk does not vouch for it yet.
  EXPECT_EQ(store.read_partial(id_, 0, kGroupBytes).error().code, StoreErrc::not_verified);
  // The fetch's contiguous verified prefix does.
  auto vouched = store.read_partial(id_, 100, 3 * kGroupBytes, 10 * kGroupBytes);
  ASSERT_TRUE(vouched) << vouched.error().detail;
  EXPECT_TRUE(std::equal(vouched->begin(), vouched->end(), bytes_.begin() + 100));
  EXPECT_EQ(store.read_partial(id_, 9 * kGroupBytes, 2 * kGroupBytes, 10 * kGroupBytes).error().code,
            StoreErrc::not_verified);

  ASSERT_TRUE(partial->flush());
  auto other_handle = open_store(options());  // like the API's own Store
  auto head = other_handle.read_partial(id_, 5, 10 * kGroupBytes - 5);
  ASSERT_TRUE(head) << head.error().detail;
  EXPECT_TRUE(std::equal(head->begin(), head->end(), bytes_.begin() + 5));
  EXPECT_EQ(head->size(), 10 * kGroupBytes - 5);
  auto tail = other_handle.read_partial(id_, 39 * kGroupBytes + 3, 1 << 20);  // clamped to the size
  ASSERT_TRUE(tail) << tail.error().detail;
  EXPECT_EQ(tail->size(), bytes_.size() - 39 * kGroupBytes - 3);
  EXPECT_TRUE(std::equal(tail->begin(), tail->end(), bytes_.begin() + 39 * kGroupBytes + 3));
  EXPECT_EQ(other_handle.read_partial(id_, 10 * kGroupBytes - 1, 2).error().code, StoreErrc::not_verified);
  EXPECT_EQ(other_handle.read_partial(id_, 20 * kGroupBytes, 10).error().code, StoreErrc::not_verified);
  EXPECT_TRUE(other_handle.read_partial(id_, bytes_.size(), 10)->empty());

  // Once committed, the partial is gone; the bytes are the object's.
  for (const auto& group : groups_) ASSERT_TRUE(partial->write(group));
  ASSERT_TRUE(partial->commit());
  EXPECT_EQ(other_handle.read_partial(id_, 0, 10).error().code, StoreErrc::not_found);
  EXPECT_TRUE(other_handle.contains(id_));
}

TEST_F(PartialTest, FlushesNeedBytesAndTime) {
  make_content(12 * kGroupBytes, 16);
  auto store_options = options();
  store_options.partial_flush_interval = std::chrono::hours(1);
  auto store = open_store(store_options);
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  for (std::size_t i = 0; i < 8; ++i) ASSERT_TRUE(partial->write(groups_[i]));
  EXPECT_EQ(store.list_partials()->at(0).verified_bytes, 0u);  // bytes enough, but too soon
  ASSERT_TRUE(partial->flush());
  EXPECT_EQ(store.list_partials()->at(0).verified_bytes, 8 * kGroupBytes);

  auto by_bytes = options();  // interval 0: every 4 groups
  auto eager = open_store(by_bytes);
  const ContentId other(crypto::blake3::hash(as_bytes("other")));
  auto second = eager.open_partial(other, bytes_.size());
  ASSERT_TRUE(second);
  for (std::size_t i = 0; i < 3; ++i) ASSERT_TRUE(second->write(groups_[i]));
  auto listed = eager.list_partials();
  const auto find = [&](const ContentId& id) {
    return std::find_if(listed->begin(), listed->end(), [&](const PartialInfo& info) { return info.id == id; });
  };
  EXPECT_EQ(find(other)->verified_bytes, 0u);
  ASSERT_TRUE(second->write(groups_[3]));  // starts a flush on a worker thread
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    listed = eager.list_partials();
    if (find(other)->verified_bytes != 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(find(other)->verified_bytes, 4 * kGroupBytes);
}

// A reader on another thread streams a fetch in progress: whatever it gets
// is the content's bytes.
TEST_F(PartialTest, ConcurrentReaderSeesOnlyRightBytes) {
  make_content(64 * kGroupBytes, 10);
  auto store = open_store(options());
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  std::atomic<bool> done{false};
  std::atomic<int> good_reads{0};
  std::atomic<int> bad_reads{0};
  std::thread reader([&] {
    auto own = Store::open(options());
    std::mt19937 rng(11);
    while (!done) {
      const std::uint64_t offset = rng() % bytes_.size();
      auto got = own->read_partial(id_, offset, 3 * kGroupBytes);
      if (!got) continue;
      const bool right = std::equal(got->begin(), got->end(), bytes_.begin() + static_cast<std::ptrdiff_t>(offset));
      (right ? good_reads : bad_reads)++;
    }
  });
  std::vector<std::size_t> order(groups_.size());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(12));
  for (const std::size_t group : order) {
    ASSERT_TRUE(partial->write(groups_[group]));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(partial->flush());
  // Everything is marked on disk now: the reader's next reads succeed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (good_reads == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  done = true;
  reader.join();
  EXPECT_EQ(bad_reads, 0);
  EXPECT_GT(good_reads, 0);
}

// A writer killed at a random moment: every group its bitmap marks has its
// bytes on disk, and the next writer resumes from there.
TEST_F(PartialTest, KilledWriterNeverMarksAGroupWithoutItsBytes) {
  make_content(256 * kGroupBytes + 500, 13);
  std::mt19937 rng(14);
  std::uint64_t resumed_groups = 0;
  for (int round = 0; round < 5; ++round) {
    SCOPED_TRACE(round);
    const unsigned seed = static_cast<unsigned>(rng());
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(ready[0]);
      auto store = Store::open(options());
      if (!store) ::_exit(2);
      auto partial = store->open_partial(id_, bytes_.size());
      if (!partial) ::_exit(3);
      const char go = 'g';
      if (::write(ready[1], &go, 1) != 1) ::_exit(5);
      std::vector<std::size_t> order(groups_.size());
      std::iota(order.begin(), order.end(), 0);
      std::shuffle(order.begin(), order.end(), std::mt19937(seed));
      for (const std::size_t group : order) {
        if (!partial->write(groups_[group])) ::_exit(4);
        ::usleep(100);
      }
      ::pause();  // done: wait for the kill rather than close cleanly
      ::_exit(0);
    }
    ::close(ready[1]);
    char go = 0;
    const bool started = ::read(ready[0], &go, 1) == 1;  // the child has the partial open
    ::close(ready[0]);
    // Killed somewhere in the writes, some flushes (each two fdatasyncs) in.
    ::usleep(5000 + rng() % 60000);
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(started);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);

    auto store = open_store(options());
    const Bytes data = read_whole(partial_path(store, "data"));
    auto partial = store.open_partial(id_, bytes_.size());
    ASSERT_TRUE(partial) << partial.error().detail;
    for (std::uint64_t group = 0; group < groups_.size(); ++group) {
      if (partial->completed().test(group)) {
        EXPECT_TRUE(group_on_disk_is_right(data, group)) << "group " << group << " marked but wrong";
      }
    }
    EXPECT_GE(partial->completed().groups_set(), resumed_groups);  // progress is never lost on resume
    resumed_groups = partial->completed().groups_set();
  }
  EXPECT_GT(resumed_groups, 0u);

  auto store = open_store(options());
  auto partial = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(partial);
  for (const auto& group : groups_) ASSERT_TRUE(partial->write(group));
  auto committed = partial->commit();
  ASSERT_TRUE(committed) << committed.error().detail;
  EXPECT_TRUE(store.verify(id_));
}

TEST_F(PartialTest, OneWriterAtATime) {
  make_content(5 * kGroupBytes, 15);
  auto store = open_store(options());
  auto first = store.open_partial(id_, bytes_.size());
  ASSERT_TRUE(first);
  auto second = store.open_partial(id_, bytes_.size());
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, StoreErrc::in_use);
  EXPECT_EQ(store.remove_partial(id_).error().code, StoreErrc::in_use);
  auto listed = open_store(options()).list_partials();
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_TRUE((*listed)[0].in_use);
  // A store opened meanwhile (the CLI) leaves a partial in use alone.
  EXPECT_TRUE(fs::exists(partial_path(store, "data")));

  { auto closing = std::move(*first); }
  ASSERT_TRUE(store.remove_partial(id_));
  EXPECT_TRUE(store.list_partials()->empty());
  EXPECT_EQ(store.remove_partial(id_).error().code, StoreErrc::not_found);
}

TEST_F(PartialTest, OpenRemovesStaleAndExcessPartials) {
  auto store_options = options();
  std::vector<ContentId> ids;
  {
    auto store = open_store(store_options);
    for (std::uint32_t i = 0; i < 4; ++i) {
      const auto content = random_bytes(8 * kGroupBytes, 20 + i);
      const ContentId id(crypto::blake3::hash(content));
      ids.push_back(id);
      auto partial = store.open_partial(id, content.size());
      ASSERT_TRUE(partial) << partial.error().detail;
    }
  }
  const fs::path partials = dir_ / "store" / "partial";
  const auto now = fs::file_time_type::clock::now();
  auto age = [&](const ContentId& id, std::chrono::hours hours) {
    for (const char* name : {"data", "bitmap"}) fs::last_write_time(partials / id.hex() / name, now - hours);
  };
  age(ids[0], std::chrono::hours(24 * 8));  // older than a week
  age(ids[1], std::chrono::hours(30));
  age(ids[2], std::chrono::hours(20));
  fs::create_directories(partials / "not-a-partial");
  fs::create_directories(partials / std::string(64, 'a'));  // no data file: never got started

  // Room for two partials of 8 groups (and their outboards), not three.
  store_options.store_bytes_max = 2 * (8 * kGroupBytes + outboard_bytes(8 * kGroupBytes)) + 100;
  auto store = open_store(store_options);
  auto listed = store.list_partials();
  ASSERT_TRUE(listed);
  std::vector<ContentId> kept;
  for (const auto& info : *listed) kept.push_back(info.id);
  std::sort(ids.begin() + 2, ids.end());
  EXPECT_EQ(kept, std::vector<ContentId>(ids.begin() + 2, ids.end()));  // the week-old and the oldest one went
  EXPECT_TRUE(fs::exists(partials / "not-a-partial"));
  EXPECT_FALSE(fs::exists(partials / std::string(64, 'a')));

  // Partials count against the limit: a third one does not fit.
  const auto content = random_bytes(8 * kGroupBytes, 30);
  const ContentId id(crypto::blake3::hash(content));
  auto refused = store.open_partial(id, content.size());
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, StoreErrc::store_full);
  EXPECT_FALSE(fs::exists(partials / id.hex()));
  EXPECT_EQ(store.put_bytes(content).error().code, StoreErrc::store_full);
}

TEST(GroupBitmapTest, FileRoundTripAndChecks) {
  for (const std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, 7 * kGroupBytes, 8 * kGroupBytes + 1,
                                   std::uint64_t{1} << 30}) {
    SCOPED_TRACE(size);
    GroupBitmap bitmap(size);
    std::mt19937 rng(static_cast<unsigned>(size));
    for (std::uint64_t group = 0; group < bitmap.group_count(); ++group) {
      if (rng() % 3 == 0) bitmap.set(group);
    }
    const Bytes file = bitmap.to_file();
    EXPECT_EQ(file.size(), GroupBitmap::file_bytes(size));
    auto back = GroupBitmap::from_file(file);
    ASSERT_TRUE(back) << back.error().text;
    EXPECT_EQ(back->bits(), bitmap.bits());
    EXPECT_EQ(back->groups_set(), bitmap.groups_set());
    EXPECT_EQ(back->content_size(), size);
    if (file.size() > 200) continue;
    for (std::size_t byte = 0; byte < file.size(); ++byte) {  // every single-bit flip is caught
      Bytes damaged = file;
      damaged[byte] ^= static_cast<std::uint8_t>(1u << (byte % 8));
      EXPECT_FALSE(GroupBitmap::from_file(damaged)) << "flip in byte " << byte;
    }
    for (std::size_t length = 0; length < file.size(); ++length) {
      EXPECT_FALSE(GroupBitmap::from_file(ByteView(file).first(length)));
    }
  }
  std::mt19937 rng(1);
  for (int i = 0; i < 2000; ++i) {
    Bytes garbage(rng() % 100);
    for (auto& byte : garbage) byte = static_cast<std::uint8_t>(rng());
    if (i % 2 == 0 && garbage.size() >= 8) std::memcpy(garbage.data(), "TAHOPBM1", 8);
    EXPECT_FALSE(GroupBitmap::from_file(garbage));
  }
}

TEST(GroupBitmapTest, BitsLikeRangePlan) {
  const std::uint64_t size = 10 * kGroupBytes + 5;  // 11 groups
  GroupBitmap bitmap(size);
  EXPECT_TRUE(bitmap.set(0));
  EXPECT_TRUE(bitmap.set(9));
  EXPECT_TRUE(bitmap.set(10));
  EXPECT_FALSE(bitmap.set(10));
  EXPECT_EQ(bitmap.bits(), (Bytes{0x01, 0x06}));
  EXPECT_EQ(bitmap.verified_bytes(), 2 * kGroupBytes + 5);
  EXPECT_TRUE(bitmap.covers(3, kGroupBytes));
  EXPECT_FALSE(bitmap.covers(3, kGroupBytes + 1));
  EXPECT_TRUE(bitmap.covers(9 * kGroupBytes, size));
  EXPECT_FALSE(bitmap.covers(9 * kGroupBytes, size + 1));
  EXPECT_FALSE(GroupBitmap::from_bits(size, Bytes{0x01, 0x08}));  // group 11 does not exist
  EXPECT_FALSE(GroupBitmap::from_bits(size, Bytes{0x01}));
  auto restored = GroupBitmap::from_bits(size, Bytes{0xff, 0x07});
  ASSERT_TRUE(restored);
  EXPECT_TRUE(restored->complete());
  EXPECT_EQ(restored->verified_bytes(), size);
}

}  // namespace
}  // namespace taho::content
