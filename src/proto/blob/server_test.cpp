#include "proto/blob/server.hpp"

#include <gtest/gtest.h>

#include "base/protobuf.hpp"
#include "content/tree/range_encoding.hpp"
#include "content/tree/tree_shape.hpp"

namespace taho::blob {
namespace {

using content::kGroupBytes;

content::Hash some_root() {
  content::Hash root{};
  root.fill(0xab);
  return root;
}

Bytes request_frame(const Request& request) { return frame(encode_request(request)); }

// The response header at the start of the server's output.
ResponseHeader header_of(ByteView output) {
  FrameReader reader(response_header_bytes_max);
  auto taken = reader.handle_data(output);
  EXPECT_TRUE(taken && reader.complete());
  auto header = decode_response_header(reader.body());
  EXPECT_TRUE(header);
  return header ? *header : ResponseHeader{};
}

Server server_with_request(const Request& request, const ServerOptions& options = {}) {
  Server server(options);
  const Bytes bytes = request_frame(request);
  for (const std::uint8_t byte : bytes) EXPECT_TRUE(server.handle_data(ByteView(&byte, 1)));
  return server;
}

TEST(BlobServer, HandsOutTheRequestOnceAndWaitsForTheEnd) {
  const Request request{some_root(), 3 * kGroupBytes, 1000, false};
  Server server = server_with_request(request);
  EXPECT_TRUE(server.wants_input());
  auto polled = server.poll_request();
  ASSERT_TRUE(polled);
  EXPECT_EQ(*polled, request);
  EXPECT_FALSE(server.poll_request());
  EXPECT_TRUE(server.pending_output().empty());
  EXPECT_FALSE(server.close_write_due());
  EXPECT_TRUE(server.handle_end());
  EXPECT_FALSE(server.wants_input());
}

TEST(BlobServer, ServesExactlyTheAnnouncedBodyInBoundedPieces) {
  ServerOptions options;
  options.output_bytes_max = 10'000;
  Server server = server_with_request({some_root(), 0, 5 * kGroupBytes, false}, options);
  ASSERT_TRUE(server.poll_request());
  EXPECT_EQ(server.push_body(Bytes{1}).error().code, Errc::wrong_state);  // before the answer
  const std::uint64_t size = 5 * kGroupBytes + 1;
  const auto body = server.respond_have(size);
  ASSERT_TRUE(body);
  EXPECT_EQ(*body, *content::encoded_range_bytes({0, 5 * kGroupBytes}, size));
  EXPECT_EQ(header_of(server.pending_output()), (ResponseHeader{Status::have, size, RemoteErrc::unspecified, {}}));
  const std::size_t header_bytes = server.pending_output().size();
  EXPECT_EQ(server.respond_dont_have().error().code, Errc::wrong_state);  // answered already

  const Bytes encoding(static_cast<std::size_t>(*body), 0x5a);
  EXPECT_EQ(server.push_body(Bytes(encoding.size() + 1, 0)).error().code, Errc::too_many_bytes);
  std::size_t pushed = 0;
  std::size_t written = 0;
  while (pushed < encoding.size()) {
    EXPECT_TRUE(server.wants_body());
    EXPECT_LE(server.pending_output().size(), options.output_bytes_max + header_bytes);
    auto taken = server.push_body(ByteView(encoding).subspan(pushed));
    ASSERT_TRUE(taken);
    EXPECT_EQ(*taken, std::min<std::size_t>(encoding.size() - pushed, options.output_bytes_max - (server.pending_output().size() - *taken)));
    pushed += *taken;
    EXPECT_EQ(server.body_bytes_remaining(), encoding.size() - pushed);
    // Write a part of what is queued, as a stream window would allow.
    const std::size_t write = std::min<std::size_t>(3000, server.pending_output().size());
    written += write;
    server.consume_output(write);
  }
  EXPECT_FALSE(server.wants_body());
  EXPECT_FALSE(server.close_write_due());  // not all written yet
  written += server.pending_output().size();
  server.consume_output(server.pending_output().size());
  EXPECT_EQ(written, header_bytes + encoding.size());
  EXPECT_TRUE(server.close_write_due());
  EXPECT_EQ(server.push_body(Bytes{1}).error().code, Errc::wrong_state);
}

TEST(BlobServer, SizeOnlyAnswerIsTheHeaderAlone) {
  Server server = server_with_request({some_root(), 0, 0, true});
  ASSERT_TRUE(server.poll_request());
  EXPECT_EQ(server.respond_have(123456).value(), 0u);
  EXPECT_EQ(header_of(server.pending_output()).size, 123456u);
  EXPECT_FALSE(server.wants_body());
  server.consume_output(server.pending_output().size());
  EXPECT_TRUE(server.close_write_due());
}

TEST(BlobServer, ClampedRangesAreMeasuredAgainstTheLimit) {
  ServerOptions options;
  options.range_bytes_max = 4 * kGroupBytes;
  // Asks for far more than the limit but the content ends within it.
  Server near_end = server_with_request({some_root(), 10 * kGroupBytes, ~0ull, false}, options);
  ASSERT_TRUE(near_end.poll_request());
  EXPECT_TRUE(near_end.respond_have(14 * kGroupBytes));
  // Past the end: only the size proof.
  Server past_end = server_with_request({some_root(), 20 * kGroupBytes, ~0ull, false}, options);
  ASSERT_TRUE(past_end.poll_request());
  EXPECT_TRUE(past_end.respond_have(14 * kGroupBytes));
  // One byte too many.
  Server over = server_with_request({some_root(), 0, 4 * kGroupBytes + 1, false}, options);
  ASSERT_TRUE(over.poll_request());
  const auto refused = over.respond_have(14 * kGroupBytes);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::range_too_large);
  const auto header = header_of(over.pending_output());
  EXPECT_EQ(header.status, Status::error);
  EXPECT_EQ(header.error_code, RemoteErrc::range_too_large);
  EXPECT_FALSE(over.wants_body());
  over.consume_output(over.pending_output().size());
  EXPECT_TRUE(over.close_write_due());
}

TEST(BlobServer, AnswersErrorAndDontHave) {
  Server busy = server_with_request({some_root(), 0, 10, false});
  ASSERT_TRUE(busy.poll_request());
  ASSERT_TRUE(busy.respond_error(RemoteErrc::busy, "32 uploads already"));
  EXPECT_EQ(header_of(busy.pending_output()), (ResponseHeader{Status::error, 0, RemoteErrc::busy, "32 uploads already"}));

  Server missing = server_with_request({some_root(), 0, 10, false});
  ASSERT_TRUE(missing.poll_request());
  ASSERT_TRUE(missing.respond_dont_have());
  EXPECT_EQ(header_of(missing.pending_output()).status, Status::dont_have);
}

TEST(BlobServer, RefusesUnalignedOffsetsAndUndecodableRequestsOnTheWire) {
  Server unaligned = server_with_request({some_root(), 100, 10, false});
  EXPECT_FALSE(unaligned.poll_request());
  ASSERT_TRUE(unaligned.refusal());
  EXPECT_EQ(unaligned.refusal()->code, Errc::bad_range);
  EXPECT_EQ(header_of(unaligned.pending_output()).error_code, RemoteErrc::bad_request);
  EXPECT_EQ(unaligned.respond_have(1000).error().code, Errc::wrong_state);

  pb::Writer short_root;
  short_root.bytes(1, Bytes(16, 1));
  Server undecodable;
  ASSERT_TRUE(undecodable.handle_data(frame(short_root.data())));
  EXPECT_FALSE(undecodable.poll_request());
  ASSERT_TRUE(undecodable.refusal());
  EXPECT_EQ(undecodable.refusal()->code, Errc::bad_field);
  EXPECT_EQ(header_of(undecodable.pending_output()).status, Status::error);
  EXPECT_TRUE(undecodable.handle_end());
  undecodable.consume_output(undecodable.pending_output().size());
  EXPECT_TRUE(undecodable.close_write_due());
}

TEST(BlobServer, FramingViolationsFailTheStream) {
  Server oversize;
  EXPECT_EQ(oversize.handle_data(Bytes{0x81, 0x02}).error().code, Errc::too_large);  // 257 bytes
  EXPECT_EQ(oversize.handle_end().error().code, Errc::too_large);                    // sticks

  Server extra;
  Bytes bytes = request_frame({some_root(), 0, 10, false});
  bytes.push_back(0);
  EXPECT_EQ(extra.handle_data(bytes).error().code, Errc::unexpected_data);

  Server later_extra = server_with_request({some_root(), 0, 10, false});
  EXPECT_TRUE(later_extra.handle_data({}));
  EXPECT_EQ(later_extra.handle_data(Bytes{1}).error().code, Errc::unexpected_data);

  Server early_end;
  ASSERT_TRUE(early_end.handle_data(Bytes{0x2a, 0x0a}));
  EXPECT_EQ(early_end.handle_end().error().code, Errc::truncated);

  Server silent;
  EXPECT_EQ(silent.handle_end().error().code, Errc::truncated);
}

}  // namespace
}  // namespace taho::blob
