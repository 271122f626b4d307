#include "content/store/parallel_hasher.hpp"

#include <gtest/gtest.h>

#include "content/store/test_files.hpp"

namespace taho::content {
namespace {
using test::random_bytes;

// Every group's chaining value, as verification finds them.
GroupChainingValues all_values(ByteView bytes) {
  GroupChainingValues values(bytes.size());
  for (std::uint64_t group = 0; group < values.slots(); ++group) {
    values.set(group, group_chaining_value(bytes.subspan(group * kGroupBytes, kGroupBytes), group));
  }
  return values;
}

TEST(HashWithChainingValues, GivesTheOutboardAndRootOfHashingEverything) {
  const ParallelHashOptions options{.threads = 3, .batch_bytes = 2 * kGroupBytes};
  for (const std::size_t size : {0u, 1u, 16384u, 16385u, 5u * 16384u, 100u * 16384u + 77u, 257u * 16384u}) {
    const Bytes bytes = random_bytes(size, static_cast<std::uint32_t>(size));
    const Outboard expected = compute_outboard(bytes);
    // All values known, none known, and every third one known.
    for (int pattern = 0; pattern < 3; ++pattern) {
      GroupChainingValues values(size);
      const GroupChainingValues known = all_values(bytes);
      for (std::uint64_t group = 0; group < values.slots(); ++group) {
        if (pattern == 0 || (pattern == 2 && group % 3 == 0)) values.set(group, known.at(group));
      }
      Bytes outboard;
      auto root = hash_with_chaining_values(bytes, values, {.outboard = &outboard}, options);
      ASSERT_TRUE(root) << root.error().detail;
      EXPECT_EQ(*root, expected.root) << "size " << size << " pattern " << pattern;
      EXPECT_EQ(outboard, expected.bytes) << "size " << size << " pattern " << pattern;
      EXPECT_TRUE(values.missing().empty()) << "the hashed values are kept";
    }
  }
}

TEST(HashWithChainingValues, AWrongValueGivesAnotherRoot) {
  const Bytes bytes = random_bytes(40 * kGroupBytes + 3, 9);
  GroupChainingValues values = all_values(bytes);
  Hash wrong = values.at(17);
  wrong[0] ^= 1;
  values.set(17, wrong);
  auto root = hash_with_chaining_values(bytes, values, {}, {});
  ASSERT_TRUE(root);
  EXPECT_NE(*root, compute_outboard(bytes).root);
}

TEST(GroupChainingValues, SlotsForEveryGroupButTheLast) {
  EXPECT_EQ(GroupChainingValues(0).slots(), 0u);
  EXPECT_EQ(GroupChainingValues(kGroupBytes).slots(), 0u);
  EXPECT_EQ(GroupChainingValues(kGroupBytes + 1).slots(), 1u);
  EXPECT_EQ(GroupChainingValues(GroupChainingValues::kContentBytesMax).slots(),
            GroupChainingValues::kContentBytesMax / kGroupBytes - 1);
  EXPECT_EQ(GroupChainingValues(GroupChainingValues::kContentBytesMax + 1).slots(), 0u) << "too large to keep";
  GroupChainingValues values(3 * kGroupBytes);
  EXPECT_EQ(values.missing(), (std::vector<std::uint64_t>{0, 1}));
  values.set(1, Hash{});
  values.set(2, Hash{});  // the last group has no slot: ignored
  values.set(99, Hash{});
  EXPECT_TRUE(values.has(1));
  EXPECT_FALSE(values.has(2));
  EXPECT_EQ(values.missing(), (std::vector<std::uint64_t>{0}));
}

}  // namespace
}  // namespace taho::content
