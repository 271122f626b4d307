#include "proto/perf/perf.hpp"

#include <gtest/gtest.h>

namespace taho::perf {
namespace {

// Client and server in memory, moving at most `step` bytes at a time.
void run_pair(Client& client, Server& server, std::size_t step) {
  bool client_closed = false;
  for (int rounds = 0; rounds < 1'000'000 && !client.done(); ++rounds) {
    auto out = client.pending_output();
    if (!out.empty()) {
      const auto n = std::min(out.size(), step);
      ASSERT_TRUE(server.handle_data(out.first(n)));
      client.consume_output(n);
    } else if (client.close_write_due() && !client_closed) {
      client_closed = true;
      ASSERT_TRUE(server.handle_end());
    }
    auto back = server.pending_output();
    if (!back.empty()) {
      const auto n = std::min(back.size(), step);
      ASSERT_TRUE(client.handle_data(back.first(n)));
      server.consume_output(n);
    } else if (server.close_write_due()) {
      ASSERT_TRUE(client.handle_end());
    }
  }
}

TEST(PerfTest, UploadsThenDownloads) {
  for (std::size_t step : {1u, 5u, 8u, 9u, 70'000u}) {
    auto client = Client::create(100'000, 300'000);
    ASSERT_TRUE(client);
    Server server;
    run_pair(*client, server, step);
    EXPECT_TRUE(client->done()) << step;
    EXPECT_EQ(server.uploaded_bytes(), 100'000u);
    EXPECT_EQ(server.requested_bytes(), 300'000u);
    EXPECT_EQ(client->downloaded_bytes(), 300'000u);
  }
}

TEST(PerfTest, ZeroBothWays) {
  auto client = Client::create(0, 0);
  ASSERT_TRUE(client);
  Server server;
  run_pair(*client, server, 3);
  EXPECT_TRUE(client->done());
}

TEST(PerfTest, RequestIsBigEndian) {
  auto client = Client::create(0, 0x0102030405060708ull & (download_bytes_max - 1));
  ASSERT_TRUE(client);
  auto header = client->pending_output();
  ASSERT_EQ(header.size(), header_bytes);
  const std::uint64_t expected = 0x0102030405060708ull & (download_bytes_max - 1);
  for (std::size_t i = 0; i < header_bytes; ++i) {
    EXPECT_EQ(header[i], static_cast<std::uint8_t>(expected >> (8 * (7 - i))));
  }
}

TEST(PerfTest, ServerSendsNothingBeforeTheUploadEnds) {
  Server server;
  const std::uint8_t request[] = {0, 0, 0, 0, 0, 0, 0, 10, 1, 2, 3};
  ASSERT_TRUE(server.handle_data(request));
  EXPECT_TRUE(server.pending_output().empty());
  EXPECT_EQ(server.uploaded_bytes(), 3u);
  ASSERT_TRUE(server.handle_end());
  EXPECT_EQ(server.pending_output().size(), 10u);
  EXPECT_FALSE(server.close_write_due());
  server.consume_output(10);
  EXPECT_TRUE(server.close_write_due());
}

TEST(PerfTest, ServerRefusesHugeOrTruncatedRequests) {
  Server huge;
  const std::uint8_t all_ones[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(huge.handle_data(all_ones));
  Server truncated;
  const std::uint8_t partial[3] = {0, 0, 0};
  ASSERT_TRUE(truncated.handle_data(partial));
  EXPECT_FALSE(truncated.handle_end());
  EXPECT_TRUE(truncated.pending_output().empty());
}

TEST(PerfTest, ClientRefusesExtraOrMissingBytes) {
  auto client = Client::create(0, 4);
  ASSERT_TRUE(client);
  EXPECT_FALSE(client->handle_data(Bytes(5, 0)));
  auto short_client = Client::create(0, 4);
  ASSERT_TRUE(short_client);
  ASSERT_TRUE(short_client->handle_data(Bytes(3, 0)));
  EXPECT_FALSE(short_client->handle_end());
  EXPECT_FALSE(Client::create(0, download_bytes_max + 1));
}

}  // namespace
}  // namespace taho::perf
