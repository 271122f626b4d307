#include "proto/blob/client.hpp"

#include <gtest/gtest.h>

#include "content/tree/tree_shape.hpp"
#include "proto/blob/test_support.hpp"

namespace taho::blob {
namespace {

using content::kGroupBytes;

Bytes header_frame(const ResponseHeader& header) { return frame(encode_response_header(header)); }

TEST(BlobClient, WritesOneRequestThenClosesItsSide) {
  content::Hash root{};
  root.fill(3);
  auto client = Client::for_range(root, {kGroupBytes, 5000});
  ASSERT_TRUE(client);
  const Bytes expected = frame(encode_request({root, kGroupBytes, 5000, false}));
  EXPECT_EQ(Bytes(client->pending_output().begin(), client->pending_output().end()), expected);
  EXPECT_FALSE(client->close_write_due());
  client->consume_output(10);
  EXPECT_EQ(client->pending_output().size(), expected.size() - 10);
  client->consume_output(1000);
  EXPECT_TRUE(client->pending_output().empty());
  EXPECT_TRUE(client->close_write_due());

  EXPECT_EQ(Client::for_range(root, {kGroupBytes + 1, 10}).error().code, Errc::bad_range);
  Client head = Client::for_size(root);
  EXPECT_EQ(Bytes(head.pending_output().begin(), head.pending_output().end()),
            frame(encode_request({root, 0, 0, true})));
}

TEST(BlobClient, ReadsAResponseSplitAnywhere) {
  const auto stored = test::make_content(3 * kGroupBytes + 5, 1);
  const content::ByteRange range{kGroupBytes, kGroupBytes};
  Bytes response = header_frame({Status::have, stored.content.size(), RemoteErrc::unspecified, {}});
  append(response, test::encode(stored, range));
  for (const std::size_t piece : {std::size_t{1}, std::size_t{7}, std::size_t{5000}, response.size()}) {
    auto client = Client::for_range(stored.outboard.root, range);
    ASSERT_TRUE(client);
    for (std::size_t at = 0; at < response.size(); at += piece) {
      ASSERT_TRUE(client->handle_data(ByteView(response).subspan(at, std::min(piece, response.size() - at))));
      if (at >= 10) EXPECT_EQ(client->size(), stored.content.size());
    }
    EXPECT_TRUE(client->done());
    ASSERT_TRUE(client->handle_end());
    std::vector<std::uint64_t> indices;
    while (auto group = client->poll_group()) indices.push_back(group->index);
    EXPECT_EQ(indices, (std::vector<std::uint64_t>{1, 3}));
    EXPECT_EQ(client->received_bytes(), response.size());
  }
}

TEST(BlobClient, RemoteErrorsCarryTheirReason) {
  content::Hash root{};
  auto client = Client::for_range(root, {0, 1});
  ASSERT_TRUE(client);
  const auto failed = client->handle_data(header_frame({Status::error, 0, RemoteErrc::busy, "too many uploads"}));
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::remote_error);
  EXPECT_EQ(failed.error().remote, RemoteErrc::busy);
  EXPECT_NE(failed.error().detail.find("too many uploads"), std::string::npos);
  EXPECT_FALSE(client->wants_input());
  // The failure sticks.
  EXPECT_EQ(client->handle_end().error().code, Errc::remote_error);
  EXPECT_EQ(client->failure()->code, Errc::remote_error);
}

TEST(BlobClient, MalformedHeadersAreErrors) {
  content::Hash root{};
  auto oversize = Client::for_range(root, {0, 1});
  EXPECT_EQ(oversize->handle_data(Bytes{0x81, 0x08}).error().code, Errc::too_large);  // 1025 bytes

  auto bad_prefix = Client::for_range(root, {0, 1});
  EXPECT_EQ(bad_prefix->handle_data(Bytes(10, 0xff)).error().code, Errc::bad_length_prefix);

  auto unknown_status = Client::for_range(root, {0, 1});
  EXPECT_EQ(unknown_status->handle_data(Bytes{0x02, 0x08, 0x09}).error().code, Errc::bad_field);

  auto garbage = Client::for_range(root, {0, 1});
  EXPECT_EQ(garbage->handle_data(Bytes{0x02, 0x07, 0x00}).error().code, Errc::bad_protobuf);
}

TEST(BlobClient, EndingEarlyIsTruncated) {
  content::Hash root{};
  auto silent = Client::for_range(root, {0, 1});
  EXPECT_EQ(silent->handle_end().error().code, Errc::truncated);

  auto mid_header = Client::for_range(root, {0, 1});
  ASSERT_TRUE(mid_header->handle_data(Bytes{0x05, 0x08}));
  EXPECT_EQ(mid_header->handle_end().error().code, Errc::truncated);

  auto no_body = Client::for_range(root, {0, 1});
  ASSERT_TRUE(no_body->handle_data(header_frame({Status::have, 10, RemoteErrc::unspecified, {}})));
  EXPECT_FALSE(no_body->done());
  EXPECT_EQ(no_body->handle_end().error().code, Errc::truncated);

  Client head = Client::for_size(root);
  EXPECT_EQ(head.handle_end().error().code, Errc::truncated);
}

TEST(BlobClient, DataAfterTheEndIsRefused) {
  const auto stored = test::make_content(10, 2);
  Client head = Client::for_size(stored.outboard.root);
  ASSERT_TRUE(head.handle_data(header_frame({Status::have, 10, RemoteErrc::unspecified, {}})));
  EXPECT_TRUE(head.done());
  EXPECT_EQ(head.size(), 10u);
  ASSERT_TRUE(head.handle_end());
  EXPECT_EQ(head.handle_data(Bytes{1}).error().code, Errc::unexpected_data);
}

}  // namespace
}  // namespace taho::blob
