// Two-party tests: a client core against a server core whose driver serves
// real range encodings of random content (content/tree), in random
// fragmentation, with the driver misbehaving in the ways a peer can.
#include <gtest/gtest.h>

#include "content/tree/tree_shape.hpp"
#include "proto/blob/test_support.hpp"

namespace taho::blob {
namespace {

using content::ByteRange;
using content::kGroupBytes;
using test::expected_groups;
using test::make_content;
using test::Misbehaviour;
using test::run_exchange;
using test::StoredContent;

Client range_client(const StoredContent& stored, ByteRange range, const ClientOptions& options = {}) {
  auto client = Client::for_range(stored.outboard.root, range, options);
  EXPECT_TRUE(client);
  return std::move(*client);
}

std::map<content::Hash, const StoredContent*> holding(const StoredContent& stored) {
  return {{stored.outboard.root, &stored}};
}

void expect_groups_match(const std::vector<content::VerifiedGroup>& groups, const StoredContent& stored,
                         const std::vector<std::uint64_t>& indices) {
  ASSERT_EQ(groups.size(), indices.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const auto& group = groups[i];
    EXPECT_EQ(group.index, indices[i]);
    EXPECT_EQ(group.offset, group.index * kGroupBytes);
    const std::size_t length = static_cast<std::size_t>(content::group_length(stored.content.size(), group.index));
    ASSERT_EQ(group.bytes.size(), length);
    EXPECT_TRUE(std::equal(group.bytes.begin(), group.bytes.end(),
                           stored.content.begin() + static_cast<std::ptrdiff_t>(group.offset)));
  }
}

TEST(BlobTransfer, EveryRangeOfEverySizeVerifiesGroupByGroup) {
  const std::uint64_t sizes[] = {0, 1, 1000, kGroupBytes - 1, kGroupBytes, kGroupBytes + 1, 5 * kGroupBytes + 1000,
                                 (1 << 20) + 1};
  std::uint32_t seed = 1;
  for (const std::uint64_t size : sizes) {
    const StoredContent stored = make_content(size, static_cast<std::uint32_t>(size) + 7);
    const ByteRange ranges[] = {{0, size},
                                {0, ~0ull},
                                {0, 1},
                                {kGroupBytes, kGroupBytes},
                                {2 * kGroupBytes, 3 * kGroupBytes + 5},
                                {(size / kGroupBytes) * kGroupBytes, 1},
                                {0, 0},
                                {64 * kGroupBytes, kGroupBytes}};
    for (const ByteRange range : ranges) {
      SCOPED_TRACE("size " + std::to_string(size) + " range " + std::to_string(range.offset) + "+" +
                   std::to_string(range.length));
      const auto outcome = run_exchange(range_client(stored, range), holding(stored), ++seed);
      ASSERT_TRUE(outcome.result) << outcome.result.error().detail;
      EXPECT_EQ(outcome.size, size);
      expect_groups_match(outcome.groups, stored, expected_groups(size, range));
    }
  }
}

TEST(BlobTransfer, SizeOnlyRequestGetsTheSizeAndNoBody) {
  const StoredContent stored = make_content(3 * kGroupBytes + 17, 3);
  const auto outcome = run_exchange(Client::for_size(stored.outboard.root), holding(stored), 5);
  ASSERT_TRUE(outcome.result) << outcome.result.error().detail;
  EXPECT_EQ(outcome.size, stored.content.size());
  EXPECT_TRUE(outcome.groups.empty());
  ASSERT_TRUE(outcome.server_answer);
  EXPECT_EQ(**outcome.server_answer, 0u);
}

TEST(BlobTransfer, UnknownContentIsDontHave) {
  const StoredContent stored = make_content(kGroupBytes * 2, 4);
  const StoredContent other = make_content(100, 5);
  const auto outcome = run_exchange(range_client(other, {0, 100}), holding(stored), 6);
  ASSERT_FALSE(outcome.result);
  EXPECT_EQ(outcome.result.error().code, Errc::dont_have);
  EXPECT_FALSE(outcome.size);

  const auto head = run_exchange(Client::for_size(other.outboard.root), holding(stored), 6);
  ASSERT_FALSE(head.result);
  EXPECT_EQ(head.result.error().code, Errc::dont_have);
}

TEST(BlobTransfer, RangeAboveTheServerLimitIsRefusedOnTheWire) {
  const StoredContent stored = make_content(1 << 20, 7);
  ServerOptions options;
  options.range_bytes_max = 256 * 1024;
  const auto outcome = run_exchange(range_client(stored, {0, 1 << 20}), holding(stored), 8, options);
  ASSERT_FALSE(outcome.result);
  EXPECT_EQ(outcome.result.error().code, Errc::remote_error);
  EXPECT_EQ(outcome.result.error().remote, RemoteErrc::range_too_large);
  ASSERT_TRUE(outcome.server_answer);
  ASSERT_FALSE(*outcome.server_answer);
  EXPECT_EQ(outcome.server_answer->error().code, Errc::range_too_large);
  ASSERT_TRUE(outcome.server_refusal);

  // Exactly at the limit, and a longer ask clamped to the content's end, are served.
  EXPECT_TRUE(run_exchange(range_client(stored, {0, 256 * 1024}), holding(stored), 9, options).result);
  EXPECT_TRUE(run_exchange(range_client(stored, {(1 << 20) - 64 * 1024, ~0ull}), holding(stored), 9, options).result);
}

// Where each item (parent pair or group) sits in the encoding of `range`.
struct Item {
  std::size_t offset;
  std::size_t length;
  std::uint64_t first_group;  // of the node's subtree
};
std::vector<Item> encoding_layout(std::uint64_t size, ByteRange range) {
  const auto groups = *content::groups_of(range, size);
  const std::uint64_t last = content::group_count(size) - 1;
  auto wanted = [&](const content::TreeNode& node) {
    return node.overlaps(groups.first, groups.end) || node.overlaps(last, last + 1);
  };
  std::vector<Item> items;
  std::size_t at = content::kSizeTrailerBytes;
  std::vector<content::TreeNode> pending{content::TreeNode::root(size)};
  while (!pending.empty()) {
    const auto node = pending.back();
    pending.pop_back();
    const auto length = static_cast<std::size_t>(node.is_leaf() ? content::group_length(size, node.first_group)
                                                                : content::kPairBytes);
    items.push_back({at, length, node.first_group});
    at += length;
    if (node.is_leaf()) continue;
    if (wanted(node.right())) pending.push_back(node.right());
    if (wanted(node.left())) pending.push_back(node.left());
  }
  return items;
}

TEST(BlobTransfer, ACorruptedItemFailsNamingTheGroupItWasFor) {
  const std::uint64_t size = 9 * kGroupBytes + 300;
  const StoredContent stored = make_content(size, 11);
  const ByteRange range{2 * kGroupBytes, 5 * kGroupBytes};
  const auto wanted = expected_groups(size, range);
  const auto items = encoding_layout(size, range);
  ASSERT_EQ(items.back().offset + items.back().length, test::encode(stored, range).size());
  std::uint32_t seed = 100;
  for (const Item& item : items) {
    if (item.length == 0) continue;
    // The first wanted group at or after the item's subtree start is the one it proves or is.
    const std::uint64_t named = *std::lower_bound(wanted.begin(), wanted.end(), item.first_group);
    for (const std::size_t inside : {std::size_t{0}, item.length / 2, item.length - 1}) {
      Misbehaviour corrupt;
      corrupt.tamper = [&](Bytes& encoding) { encoding[item.offset + inside] ^= 0x40; };
      const auto outcome = run_exchange(range_client(stored, range), holding(stored), ++seed, {}, corrupt);
      ASSERT_FALSE(outcome.result);
      EXPECT_EQ(outcome.result.error().code, Errc::bad_group) << outcome.result.error().detail;
      EXPECT_EQ(outcome.result.error().group, named) << "item at " << item.offset;
      // What was verified before the bad item is good and handed out.
      std::vector<std::uint64_t> before(wanted.begin(), std::find(wanted.begin(), wanted.end(), named));
      expect_groups_match(outcome.groups, stored, before);
    }
  }
}

TEST(BlobTransfer, AWrongSizeInTheEncodingIsCaught) {
  const StoredContent stored = make_content(4 * kGroupBytes + 10, 12);
  Misbehaviour lie;
  lie.tamper = [](Bytes& encoding) { encoding[0] ^= 0x01; };  // size differs from the header's
  const auto outcome = run_exchange(range_client(stored, {0, kGroupBytes}), holding(stored), 13, {}, lie);
  ASSERT_FALSE(outcome.result);
  EXPECT_EQ(outcome.result.error().code, Errc::bad_response);
}

TEST(BlobTransfer, ALyingSizeInHeaderAndEncodingFailsVerification) {
  // The server claims 1 byte more: header and encoding agree, the tree does not.
  StoredContent stored = make_content(2 * kGroupBytes + 5, 14);
  StoredContent liar = stored;
  liar.content.push_back(0);
  liar.outboard = content::compute_outboard(liar.content);
  const std::map<content::Hash, const StoredContent*> holdings{{stored.outboard.root, &liar}};
  const auto outcome = run_exchange(range_client(stored, {0, 3 * kGroupBytes}), holdings, 15);
  ASSERT_FALSE(outcome.result);
  EXPECT_EQ(outcome.result.error().code, Errc::bad_group);
  EXPECT_EQ(outcome.result.error().group, 0u);
  EXPECT_TRUE(outcome.groups.empty());
}

TEST(BlobTransfer, TruncatedBodyIsTruncatedAtEveryCut) {
  const StoredContent stored = make_content(3 * kGroupBytes + 99, 16);
  const ByteRange range{0, 3 * kGroupBytes + 99};
  const std::size_t total = test::encode(stored, range).size();
  std::uint32_t seed = 200;
  for (const std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{8}, std::size_t{71}, total / 2, total - 1}) {
    Misbehaviour truncate;
    truncate.cut_body_at = cut;
    const auto outcome = run_exchange(range_client(stored, range), holding(stored), ++seed, {}, truncate);
    ASSERT_FALSE(outcome.result) << "cut at " << cut;
    EXPECT_EQ(outcome.result.error().code, Errc::truncated);
  }
}

TEST(BlobTransfer, BytesAfterTheResponseAreTooMany) {
  const StoredContent stored = make_content(kGroupBytes + 1, 17);
  Misbehaviour extra;
  extra.extra_after = {1, 2, 3};
  const auto outcome = run_exchange(range_client(stored, {0, kGroupBytes}), holding(stored), 18, {}, extra);
  ASSERT_FALSE(outcome.result);
  EXPECT_EQ(outcome.result.error().code, Errc::too_many_bytes);
  expect_groups_match(outcome.groups, stored, {0, 1});  // the honest part still verified

  const auto head = run_exchange(Client::for_size(stored.outboard.root), holding(stored), 19, {}, extra);
  ASSERT_FALSE(head.result);
  EXPECT_EQ(head.result.error().code, Errc::too_many_bytes);
}

TEST(BlobTransfer, BackpressureBoundsBothSides) {
  const StoredContent stored = make_content(2 << 20, 20);
  ClientOptions client_options;
  client_options.verified_bytes_max = 64 * 1024;
  ServerOptions server_options;
  server_options.output_bytes_max = 100 * 1024;
  auto client = range_client(stored, {0, 2 << 20}, client_options);
  Server server(server_options);
  ASSERT_TRUE(server.handle_data(client.pending_output()));
  client.consume_output(client.pending_output().size());
  ASSERT_TRUE(server.poll_request());
  const Bytes encoding = test::encode(stored, {0, 2 << 20});
  ASSERT_EQ(server.respond_have(stored.content.size()).value(), encoding.size());

  std::size_t pushed = 0;
  std::size_t groups = 0;
  const std::size_t read_bytes = 16 * 1024;
  while (!client.done()) {
    while (server.wants_body()) {
      const ByteView rest = ByteView(encoding).subspan(pushed);
      auto taken = server.push_body(rest);  // takes what fits
      ASSERT_TRUE(taken);
      ASSERT_GT(*taken, 0u);
      pushed += *taken;
    }
    EXPECT_LE(server.pending_output().size(), server_options.output_bytes_max + 64);  // + the header
    if (client.wants_input()) {
      EXPECT_LT(client.verified_bytes_queued(), client_options.verified_bytes_max);
      const ByteView out = server.pending_output().first(std::min(read_bytes, server.pending_output().size()));
      ASSERT_TRUE(client.handle_data(out));
      server.consume_output(out.size());
      EXPECT_LE(client.verified_bytes_queued(), client_options.verified_bytes_max + 2 * kGroupBytes);
    } else {
      EXPECT_GE(client.verified_bytes_queued(), client_options.verified_bytes_max);
      while (client.poll_group()) ++groups;
    }
  }
  while (client.poll_group()) ++groups;
  EXPECT_EQ(pushed, encoding.size());
  EXPECT_EQ(groups, 128u);
  EXPECT_TRUE(server.close_write_due());
}

}  // namespace
}  // namespace taho::blob

namespace taho::blob {
namespace {

// The example exchange in docs/protocols/blob.md, byte for byte where it
// gives bytes.
TEST(BlobTransfer, DocumentedExample) {
  const StoredContent stored = make_content(40000, 40);
  auto client = Client::for_range(stored.outboard.root, {16384, 16384});
  ASSERT_TRUE(client);
  Bytes request = {0x2a, 0x0a, 0x20};
  append(request, stored.outboard.root);
  append(request, Bytes{0x10, 0x80, 0x80, 0x01, 0x18, 0x80, 0x80, 0x01});
  EXPECT_EQ(Bytes(client->pending_output().begin(), client->pending_output().end()), request);

  Server server;
  ASSERT_TRUE(server.handle_data(request));
  ASSERT_TRUE(server.poll_request());
  EXPECT_EQ(server.respond_have(40000).value(), 23752u);  // 8 + 64 + 64 + 16384 + 7232
  EXPECT_EQ(Bytes(server.pending_output().begin(), server.pending_output().end()),
            (Bytes{0x06, 0x08, 0x01, 0x10, 0xc0, 0xb8, 0x02}));
  const Bytes encoding = test::encode(stored, {16384, 16384});
  EXPECT_EQ(Bytes(encoding.begin(), encoding.begin() + 8), (Bytes{0x40, 0x9c, 0, 0, 0, 0, 0, 0}));
  const auto items = encoding_layout(40000, {16384, 16384});
  ASSERT_EQ(items.size(), 4u);
  EXPECT_EQ(items[2].offset, 136u);
  EXPECT_EQ(items[3].offset, 136u + 16384);
}

}  // namespace
}  // namespace taho::blob
