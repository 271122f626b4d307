#include "node/store_content_storage.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <thread>

namespace taho::node {
namespace {
namespace fs = std::filesystem;
using content::kGroupBytes;

Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(rng());
  return out;
}

class StoreContentStorageTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("taho-storage-test-" + std::to_string(::getpid()) + "-" +
                                        testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  content::Store open_store(const std::string& name) {
    content::StoreOptions options;
    options.root = dir_ / name;
    options.hash_threads = 2;
    auto store = content::Store::open(options);
    EXPECT_TRUE(store) << store.error().detail;
    return std::move(store).value();
  }

  // The groups of `range` as a fetch gets them from `holder`: verified.
  static std::vector<content::VerifiedGroup> fetch(host::ContentStorage& holder, const content::Hash& root,
                                                   content::ByteRange range) {
    auto encoded = holder.encode_range(root, range);
    EXPECT_TRUE(encoded) << encoded.error().text;
    if (!encoded) return {};
    content::RangeDecoder decoder(root, range);
    EXPECT_TRUE(decoder.feed(*encoded));
    EXPECT_TRUE(decoder.finish());
    std::vector<content::VerifiedGroup> groups;
    while (auto group = decoder.poll_group()) groups.push_back(std::move(*group));
    return groups;
  }

  // Begins the commit and waits for its outcome, as the host polls for it.
  static Result<void> commit(StoreContentStorage& storage, const content::Hash& root) {
    if (auto begun = storage.begin_commit(root); !begun) return begun;
    for (;;) {
      if (auto outcome = storage.poll_commit(root)) return *outcome;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }

  fs::path dir_;
};

TEST_F(StoreContentStorageTest, FetchesIntoAPartialAcrossRestartsAndServesTheResult) {
  auto source_store = open_store("source");
  StoreContentStorage source(source_store);
  const Bytes bytes = random_bytes(50 * kGroupBytes + 1000, 1);
  auto put = source_store.put_bytes(bytes);
  ASSERT_TRUE(put);
  const content::Hash root = put->id.hash();
  ASSERT_EQ(source.size_of(root), bytes.size());

  auto target_store = open_store("target");
  {
    StoreContentStorage target(target_store);
    EXPECT_FALSE(target.size_of(root));
    auto bitmap = target.open_partial(root, bytes.size());
    ASSERT_TRUE(bitmap) << bitmap.error().text;
    EXPECT_EQ(*bitmap, Bytes(7, 0));  // 51 groups
    for (const auto& group : fetch(source, root, {0, 20 * kGroupBytes})) {
      ASSERT_TRUE(target.write_group(root, group));
    }
    EXPECT_EQ(target.open_partials(), 1u);
    // Opening again while open answers from memory, unflushed groups included.
    auto again = target.open_partial(root, bytes.size());
    ASSERT_TRUE(again);
    EXPECT_EQ((*again)[0], 0xff);
    EXPECT_EQ((*again)[2], 0x0f);
    EXPECT_EQ((*again)[6], 0x04);  // the last group travels with every range
  }  // the node stops without closing: the storage flushes on its way out

  StoreContentStorage target(target_store);
  auto resumed = target.open_partial(root, bytes.size());
  ASSERT_TRUE(resumed) << resumed.error().text;
  EXPECT_EQ((*resumed)[0], 0xff);
  EXPECT_EQ((*resumed)[1], 0xff);
  EXPECT_EQ((*resumed)[2], 0x0f);
  EXPECT_EQ((*resumed)[3], 0x00);
  EXPECT_EQ((*resumed)[6], 0x04);
  EXPECT_FALSE(target.begin_commit(root));  // groups missing
  EXPECT_EQ(target.open_partials(), 1u);    // still open for them
  for (const auto& group : fetch(source, root, {20 * kGroupBytes, 40 * kGroupBytes})) {
    ASSERT_TRUE(target.write_group(root, group));
  }
  auto committed = commit(target, root);
  ASSERT_TRUE(committed) << committed.error().text;
  EXPECT_EQ(target.open_partials(), 0u);
  EXPECT_EQ(target.commits_running(), 0u);
  EXPECT_EQ(target.size_of(root), bytes.size());
  EXPECT_TRUE(target_store.verify(put->id));
  EXPECT_TRUE(target_store.list_partials()->empty());

  // It serves what it fetched, verifiably.
  const auto served = fetch(target, root, {16 * kGroupBytes, 3 * kGroupBytes});
  ASSERT_FALSE(served.empty());
  EXPECT_TRUE(std::equal(served[0].bytes.begin(), served[0].bytes.end(), bytes.begin() + 16 * kGroupBytes));
  EXPECT_FALSE(target.encode_range(root, {1, 10}));  // unaligned
  const auto held = target.held();
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].root, root);
  EXPECT_EQ(held[0].size, bytes.size());
}

TEST_F(StoreContentStorageTest, ClearErrorsForWhatIsNotOpen) {
  auto store = open_store("store");
  StoreContentStorage storage(store);
  const auto root = crypto::blake3::hash(as_bytes("never opened"));
  auto written = storage.write_group(root, {0, 0, Bytes(10)});
  ASSERT_FALSE(written);
  EXPECT_NE(written.error().text.find("no partial download of ca_blake3_"), std::string::npos);
  EXPECT_FALSE(storage.begin_commit(root));
  EXPECT_FALSE(storage.poll_commit(root));
  storage.close_partial(root);  // harmless
  EXPECT_FALSE(storage.encode_range(root, {0, kGroupBytes}));
  EXPECT_FALSE(storage.size_of(root));

  ASSERT_TRUE(storage.open_partial(root, 3 * kGroupBytes));
  auto misfit = storage.write_group(root, {5, 5 * kGroupBytes, Bytes(kGroupBytes)});
  ASSERT_FALSE(misfit);
  EXPECT_NE(misfit.error().text.find("does not fit"), std::string::npos) << misfit.error().text;
}

TEST_F(StoreContentStorageTest, APartialDamagedOnDiskIsDroppedAtCommit) {
  auto source_store = open_store("source");
  StoreContentStorage source(source_store);
  const Bytes bytes = random_bytes(4 * kGroupBytes, 2);
  auto put = source_store.put_bytes(bytes);
  ASSERT_TRUE(put);
  const content::Hash root = put->id.hash();
  const auto groups = fetch(source, root, {0, bytes.size()});
  ASSERT_EQ(groups.size(), 4u);

  auto store = open_store("store");
  {
    StoreContentStorage storage(store);
    ASSERT_TRUE(storage.open_partial(root, bytes.size()));
    for (const auto& group : groups) ASSERT_TRUE(storage.write_group(root, group));
  }  // the node stops before committing
  // Meanwhile the disk (or someone) changes a byte the bitmap vouches for.
  const fs::path data = store.options().root / "partial" / put->id.hex() / "data";
  {
    std::fstream file(data, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(2 * kGroupBytes + 9);
    file.put(static_cast<char>(bytes[2 * kGroupBytes + 9] ^ 1));
  }
  StoreContentStorage storage(store);
  auto bitmap = storage.open_partial(root, bytes.size());
  ASSERT_TRUE(bitmap);
  EXPECT_EQ(*bitmap, Bytes{0x0f});  // every group, as far as the bitmap knows
  auto committed = commit(storage, root);
  ASSERT_FALSE(committed);
  EXPECT_NE(committed.error().text.find("damaged"), std::string::npos) << committed.error().text;
  EXPECT_EQ(storage.open_partials(), 0u);
  EXPECT_FALSE(storage.size_of(root));
  EXPECT_FALSE(store.contains(put->id));
  // The next fetch starts from nothing.
  auto afresh = storage.open_partial(root, bytes.size());
  ASSERT_TRUE(afresh);
  EXPECT_EQ(*afresh, Bytes{0});
}

TEST_F(StoreContentStorageTest, CommitsRunOffTheCallersThread) {
  auto source_store = open_store("source");
  StoreContentStorage source(source_store);
  const Bytes bytes = random_bytes(40 * kGroupBytes + 5, 3);
  const Bytes other = random_bytes(3 * kGroupBytes, 4);
  auto put = source_store.put_bytes(bytes);
  ASSERT_TRUE(put);
  const content::Hash root = put->id.hash();

  auto store = open_store("store");
  auto held = store.put_bytes(other);
  ASSERT_TRUE(held);
  // The runner keeps the job: the commit is under way until the test runs it.
  std::vector<std::function<void()>> jobs;
  StoreContentStorage storage(store, [&jobs](std::function<void()> job) { jobs.push_back(std::move(job)); });
  ASSERT_TRUE(storage.open_partial(root, bytes.size()));
  for (const auto& group : fetch(source, root, {0, bytes.size()})) ASSERT_TRUE(storage.write_group(root, group));
  ASSERT_TRUE(storage.begin_commit(root));
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(storage.commits_running(), 1u);
  EXPECT_EQ(storage.open_partials(), 0u);

  // Meanwhile the caller's thread goes on: serving, other partials. The
  // partial being committed is not for writing, nor to be opened again.
  EXPECT_FALSE(storage.poll_commit(root));
  EXPECT_FALSE(storage.size_of(root));
  EXPECT_EQ(storage.size_of(held->id.hash()), other.size());
  EXPECT_TRUE(storage.encode_range(held->id.hash(), {0, kGroupBytes}));
  EXPECT_FALSE(storage.write_group(root, fetch(source, root, {0, kGroupBytes})[0]));
  EXPECT_FALSE(storage.open_partial(root, bytes.size()));
  EXPECT_FALSE(storage.begin_commit(root));

  std::thread worker(jobs[0]);
  worker.join();
  auto outcome = storage.poll_commit(root);
  ASSERT_TRUE(outcome);
  EXPECT_TRUE(*outcome) << outcome->error().text;
  EXPECT_FALSE(storage.poll_commit(root)) << "an outcome is told once";
  EXPECT_EQ(storage.commits_running(), 0u);
  EXPECT_EQ(storage.size_of(root), bytes.size());
  EXPECT_TRUE(store.verify(put->id));
}

TEST_F(StoreContentStorageTest, ASecondSizeStartsAfresh) {
  auto store = open_store("store");
  StoreContentStorage storage(store);
  const Bytes bytes = random_bytes(2 * kGroupBytes, 3);
  const auto root = crypto::blake3::hash(bytes);
  ASSERT_TRUE(storage.open_partial(root, bytes.size()));
  ASSERT_TRUE(storage.write_group(root, {0, 0, Bytes(bytes.begin(), bytes.begin() + kGroupBytes)}));
  auto other = storage.open_partial(root, 3 * kGroupBytes);
  ASSERT_TRUE(other);
  EXPECT_EQ(*other, Bytes{0});
  EXPECT_EQ(storage.open_partials(), 1u);
}

TEST_F(StoreContentStorageTest, HeldListsNewestFirst) {
  auto store = open_store("store");
  StoreContentStorage storage(store);
  std::vector<content::PutResult> puts;
  for (std::uint32_t i = 0; i < 4; ++i) {
    auto put = store.put_bytes(random_bytes(1000 + i, 10 + i));
    ASSERT_TRUE(put);
    puts.push_back(*put);
  }
  // Written at these many hours ago, out of order.
  const int hours_ago[] = {5, 1, 9, 3};
  const auto now = fs::file_time_type::clock::now();
  for (std::size_t i = 0; i < puts.size(); ++i) {
    fs::last_write_time(store.stat(puts[i].id)->data_path, now - std::chrono::hours(hours_ago[i]));
  }
  const auto held = storage.held();
  ASSERT_EQ(held.size(), 4u);
  const std::size_t newest_first[] = {1, 3, 0, 2};
  for (std::size_t rank = 0; rank < 4; ++rank) {
    EXPECT_EQ(held[rank].root, puts[newest_first[rank]].id.hash()) << rank;
    EXPECT_EQ(held[rank].size, puts[newest_first[rank]].size);
  }
}

}  // namespace
}  // namespace taho::node
