#include "swarm/external_muxer.hpp"

#include <gtest/gtest.h>

namespace taho::swarm {
namespace {

ExternalMuxerOptions small() {
  ExternalMuxerOptions options;
  options.stream_receive_bytes_max = 8;
  options.stream_send_bytes_max = 8;
  options.streams_max = 3;
  options.incoming_backlog_max = 2;
  return options;
}

template <class T>
std::vector<T> commands_of(ExternalMuxer& muxer) {
  std::vector<T> found;
  while (auto command = muxer.poll_command()) {
    if (auto* match = std::get_if<T>(&*command)) found.push_back(*match);
  }
  return found;
}

template <class T>
std::vector<T> events_of(ExternalMuxer& muxer) {
  std::vector<T> found;
  while (auto event = muxer.poll_event()) {
    if (auto* match = std::get_if<T>(&*event)) found.push_back(*match);
  }
  return found;
}

TEST(ExternalMuxer, WritesStopAtTheSendCreditAndResumeWhenTheTransportTakesBytes) {
  ExternalMuxer muxer(small());
  auto id = muxer.open_stream();
  ASSERT_TRUE(id);
  auto written = muxer.write(*id, Bytes(12, 0xab));
  ASSERT_TRUE(written);
  EXPECT_EQ(*written, 8u);
  EXPECT_EQ(*muxer.write(*id, Bytes{1}), 0u);
  auto writes = commands_of<stream_command::Write>(muxer);
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].bytes.size(), 8u);
  EXPECT_TRUE(events_of<muxer_event::StreamWritable>(muxer).empty());
  muxer.handle_sent(*id, 5);
  EXPECT_EQ(events_of<muxer_event::StreamWritable>(muxer).size(), 1u);
  EXPECT_EQ(*muxer.write(*id, Bytes(12, 1)), 5u);
}

TEST(ExternalMuxer, ReceiveBufferIsBoundedAndReadingResumesTheDriver) {
  ExternalMuxer muxer(small());
  auto id = muxer.handle_opened();
  ASSERT_TRUE(id);
  EXPECT_EQ(muxer.accept_stream(), id);
  EXPECT_EQ(muxer.receive_room(*id), 8u);
  muxer.handle_data(*id, Bytes(8, 7));
  EXPECT_EQ(muxer.receive_room(*id), 0u);
  EXPECT_EQ(events_of<muxer_event::StreamReadable>(muxer).size(), 1u);
  auto chunk = muxer.read(*id, 3);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->data.size(), 3u);
  EXPECT_EQ(commands_of<stream_command::ResumeReading>(muxer).size(), 1u);
  EXPECT_EQ(muxer.receive_room(*id), 3u);
  // More than the room is the driver breaking its contract: the stream goes.
  muxer.handle_data(*id, Bytes(4, 1));
  EXPECT_EQ(commands_of<stream_command::Reset>(muxer).size(), 1u);
  EXPECT_EQ(events_of<muxer_event::StreamReset>(muxer).size(), 1u);
  EXPECT_FALSE(muxer.read(*id, 1));
}

TEST(ExternalMuxer, StreamClosesOnceBothEndsAreDone) {
  ExternalMuxer muxer(small());
  auto id = *muxer.handle_opened();
  (void)muxer.accept_stream();
  muxer.handle_data(id, Bytes{1, 2});
  muxer.handle_end(id);
  auto chunk = muxer.read(id, 10);
  ASSERT_TRUE(chunk);
  EXPECT_EQ(chunk->data, (Bytes{1, 2}));
  EXPECT_TRUE(chunk->finished);
  EXPECT_TRUE(events_of<muxer_event::StreamClosed>(muxer).empty());
  ASSERT_TRUE(muxer.close_write(id));
  EXPECT_EQ(events_of<muxer_event::StreamClosed>(muxer).size(), 1u);
  EXPECT_EQ(muxer.stream_count(), 0u);
}

TEST(ExternalMuxer, LimitsRefuseStreams) {
  ExternalMuxer muxer(small());
  EXPECT_TRUE(muxer.handle_opened());
  EXPECT_TRUE(muxer.handle_opened());
  EXPECT_FALSE(muxer.handle_opened());  // backlog full: nobody accepted them
  (void)muxer.accept_stream();
  EXPECT_TRUE(muxer.handle_opened());
  EXPECT_FALSE(muxer.handle_opened());  // streams_max
  EXPECT_FALSE(muxer.open_stream());
}

TEST(ExternalMuxer, TransportClosedEndsEverything) {
  ExternalMuxer muxer(small());
  auto id = *muxer.open_stream();
  muxer.handle_transport_closed(Instant{});
  EXPECT_EQ(muxer.stream_count(), 0u);
  EXPECT_FALSE(muxer.poll_command());
  auto closed = events_of<muxer_event::Closed>(muxer);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, ConnectionErrc::transport_closed);
  EXPECT_FALSE(muxer.write(id, Bytes{1}));
  EXPECT_FALSE(muxer.handle_opened());
}

}  // namespace
}  // namespace taho::swarm
