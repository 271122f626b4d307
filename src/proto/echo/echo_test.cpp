#include "proto/echo/echo.hpp"

#include <gtest/gtest.h>

namespace taho::echo {
namespace {

// Runs a client against a server in memory, moving at most `step` bytes at a time.
void run_pair(Client& client, Server& server, std::size_t step) {
  for (int rounds = 0; rounds < 1'000'000 && !client.done(); ++rounds) {
    auto out = client.pending_output();
    if (!out.empty() && server.wants_input()) {
      const auto n = std::min({out.size(), step, server.input_room()});
      ASSERT_TRUE(server.handle_data(out.first(n)));
      client.consume_output(n);
    } else if (out.empty() && client.close_write_due() && server.wants_input()) {
      server.handle_end();
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

TEST(EchoTest, RoundTripsAPayloadInSmallAndLargeSteps) {
  for (std::size_t step : {1u, 7u, 1000u, 300'000u}) {
    auto client = Client::create(42, 200'000);
    ASSERT_TRUE(client);
    Server server;
    run_pair(*client, server, step);
    EXPECT_TRUE(client->done()) << step;
    EXPECT_EQ(client->received_bytes(), 200'000u);
    EXPECT_EQ(server.echoed_bytes(), 200'000u);
  }
}

TEST(EchoTest, EmptyPayloadIsDoneOnceTheServerCloses) {
  auto client = Client::create(1, 0);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->close_write_due());
  EXPECT_FALSE(client->done());
  EXPECT_TRUE(client->handle_end());
  EXPECT_TRUE(client->done());
}

TEST(EchoTest, ClientRejectsAChangedByte) {
  auto client = Client::create(9, 100);
  ASSERT_TRUE(client);
  Bytes back(client->pending_output().begin(), client->pending_output().end());
  back[50] ^= 1;
  auto result = client->handle_data(ByteView(back).first(40));
  EXPECT_TRUE(result);
  result = client->handle_data(ByteView(back).subspan(40));
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().text.find("byte 50"), std::string::npos);
}

TEST(EchoTest, ClientRejectsTooManyOrTooFewBytes) {
  auto client = Client::create(9, 4);
  ASSERT_TRUE(client);
  Bytes five(5, 0);
  EXPECT_FALSE(client->handle_data(five));
  auto short_client = Client::create(9, 4);
  ASSERT_TRUE(short_client);
  EXPECT_FALSE(short_client->handle_end());
  EXPECT_FALSE(short_client->done());
}

TEST(EchoTest, ClientRefusesAPayloadAboveTheLimit) {
  EXPECT_FALSE(Client::create(1, payload_bytes_max + 1));
  EXPECT_TRUE(Client::create(1, payload_bytes_max));
}

TEST(EchoTest, ServerBacklogIsBounded) {
  Server server;
  Bytes big(echo_backlog_bytes_max, 3);
  ASSERT_TRUE(server.handle_data(big));
  EXPECT_FALSE(server.wants_input());
  EXPECT_EQ(server.input_room(), 0u);
  EXPECT_FALSE(server.handle_data(Bytes(1, 0)));
  server.consume_output(1000);
  EXPECT_EQ(server.input_room(), 1000u);
  EXPECT_TRUE(server.handle_data(Bytes(1000, 0)));
  EXPECT_EQ(server.pending_output().size(), echo_backlog_bytes_max);
}

TEST(EchoTest, ServerClosesOnlyAfterEverythingWentBack) {
  Server server;
  ASSERT_TRUE(server.handle_data(Bytes(10, 1)));
  server.handle_end();
  EXPECT_FALSE(server.close_write_due());
  EXPECT_FALSE(server.handle_data(Bytes(1, 0)));
  server.consume_output(10);
  EXPECT_TRUE(server.close_write_due());
}

TEST(EchoTest, PayloadDependsOnSeedAndOffset) {
  int same_seed_differs = 0;
  int other_seed_differs = 0;
  for (std::uint64_t i = 0; i < 256; ++i) {
    same_seed_differs += payload_byte(5, i) != payload_byte(5, i + 1);
    other_seed_differs += payload_byte(5, i) != payload_byte(6, i);
  }
  EXPECT_GT(same_seed_differs, 200);
  EXPECT_GT(other_seed_differs, 200);
}

}  // namespace
}  // namespace taho::echo
