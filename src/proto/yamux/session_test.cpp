// One Yamux session fed with hand-made frames: the bytes it writes, the
// events it reports, and how it treats a peer that breaks the rules.
#include "proto/yamux/session.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace taho::yamux {
namespace {

using namespace std::chrono_literals;

Bytes frame(FrameType type, std::uint16_t frame_flags, StreamId id, std::uint32_t length, ByteView payload = {}) {
  Bytes out;
  append_header(Header{kVersion, type, frame_flags, id, length}, out);
  append(out, payload);
  return out;
}

Bytes data(StreamId id, std::string_view text, std::uint16_t frame_flags = 0) {
  return frame(FrameType::data, frame_flags, id, static_cast<std::uint32_t>(text.size()), as_bytes(text));
}

Options quiet() {
  Options options;
  options.ping_on_start = false;
  options.keepalive_interval = Duration::zero();
  return options;
}

Bytes take_transmit(Session& session) {
  Bytes all;
  while (auto bytes = session.poll_transmit()) append(all, *bytes);
  return all;
}

std::vector<Event> take_events(Session& session) {
  std::vector<Event> events;
  while (auto event = session.poll_event()) events.push_back(std::move(*event));
  return events;
}

template <class T>
std::vector<T> only(const std::vector<Event>& events) {
  std::vector<T> out;
  for (const auto& event : events) {
    if (const T* wanted = std::get_if<T>(&event)) out.push_back(*wanted);
  }
  return out;
}

std::string hex(const Bytes& bytes) { return to_hex(bytes); }

const Instant t0{};

// --------------------------------------------------------------- bytes out

TEST(YamuxSession, OpenStreamSendsWindowUpdateWithSyn) {
  Session client(Role::client, t0, quiet());
  auto first = client.open_stream();
  auto second = client.open_stream();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(*first, 1u);
  EXPECT_EQ(*second, 3u);
  EXPECT_EQ(hex(take_transmit(client)), "000100010000000100000000""000100010000000300000000");

  Session server(Role::server, t0, quiet());
  EXPECT_EQ(*server.open_stream(), 2u);
}

TEST(YamuxSession, WriteSplitsIntoFramesOfAtMostTheMaximum) {
  Options options = quiet();
  options.frame_data_bytes_max = 1000;
  Session client(Role::client, t0, options);
  const StreamId id = *client.open_stream();
  take_transmit(client);
  EXPECT_EQ(*client.write(id, to_bytes("hi")), 2u);
  EXPECT_EQ(hex(take_transmit(client)), "000000000000000100000002""6869");

  const Bytes payload(2500, 0x5a);
  EXPECT_EQ(*client.write(id, payload), payload.size());
  const Bytes out = take_transmit(client);
  ASSERT_EQ(out.size(), 3 * kHeaderBytes + payload.size());
  EXPECT_EQ(hex(Bytes(out.begin(), out.begin() + kHeaderBytes)), "0000000000000001000003e8");
  EXPECT_EQ(hex(Bytes(out.begin() + 2 * (kHeaderBytes + 1000), out.begin() + 3 * kHeaderBytes + 2000)),
            "0000000000000001000001f4");
  EXPECT_EQ(client.stream_info(id)->send_window, kInitialWindowBytes - 2502);
}

TEST(YamuxSession, CloseWriteAndResetTravelOnWindowUpdates) {
  Session client(Role::client, t0, quiet());
  const StreamId a = *client.open_stream();
  const StreamId b = *client.open_stream();
  take_transmit(client);
  ASSERT_TRUE(client.close_write(a));
  ASSERT_TRUE(client.close_write(a));  // idempotent: no second FIN
  ASSERT_TRUE(client.reset(b));
  EXPECT_EQ(hex(take_transmit(client)), "000100040000000100000000""000100080000000300000000");
  EXPECT_EQ(client.write(a, to_bytes("x")).error().code, CommandErrc::write_closed);
  EXPECT_EQ(client.write(b, to_bytes("x")).error().code, CommandErrc::unknown_stream);
  EXPECT_EQ(client.read(b, 10).error().code, CommandErrc::unknown_stream);
}

TEST(YamuxSession, PingsOnStartAndAnswersPingsWithTheSameOpaque) {
  Options options = quiet();
  options.ping_on_start = true;
  Session server(Role::server, t0, options);
  EXPECT_EQ(hex(take_transmit(server)), "000200010000000000000001");
  server.handle_input(t0, frame(FrameType::ping, flags::syn, 0, 0xdeadbeef));
  EXPECT_EQ(hex(take_transmit(server)), "0002000200000000deadbeef");
  EXPECT_FALSE(server.is_closed());
}

TEST(YamuxSession, PingAckGivesRtt) {
  Session client(Role::client, t0, quiet());
  ASSERT_TRUE(client.ping());
  EXPECT_EQ(client.ping().error().code, CommandErrc::ping_in_flight);
  const Bytes sent = take_transmit(client);
  ASSERT_EQ(sent.size(), kHeaderBytes);
  const Header ping = decode_header(std::span<const std::uint8_t, kHeaderBytes>(sent.data(), kHeaderBytes));
  client.handle_input(t0 + 3ms, frame(FrameType::ping, flags::ack, 0, ping.length + 1));  // not ours
  EXPECT_TRUE(take_events(client).empty());
  client.handle_input(t0 + 7ms, frame(FrameType::ping, flags::ack, 0, ping.length));
  const auto rtts = only<PingRtt>(take_events(client));
  ASSERT_EQ(rtts.size(), 1u);
  EXPECT_EQ(rtts[0].rtt, 7ms);
  EXPECT_EQ(client.rtt(), 7ms);
}

TEST(YamuxSession, GoAwayBytes) {
  Session client(Role::client, t0, quiet());
  client.go_away();
  EXPECT_EQ(hex(take_transmit(client)), "000300000000000000000000");
  const auto closed = only<SessionClosed>(take_events(client));
  ASSERT_EQ(closed.size(), 1u);  // no streams: nothing left to finish
  EXPECT_EQ(closed[0].error.code, Errc::closed_normally);
}

// --------------------------------------------------------------- inbound streams

TEST(YamuxSession, AcceptsAStreamOpenedTheJsWay) {
  Session server(Role::server, t0, quiet());
  server.handle_input(t0, frame(FrameType::window_update, flags::syn, 1, 0));
  auto events = take_events(server);
  ASSERT_EQ(only<StreamIncoming>(events).size(), 1u);
  EXPECT_EQ(only<StreamIncoming>(events)[0].stream, 1u);
  EXPECT_TRUE(take_transmit(server).empty());  // no implicit ACK
  EXPECT_EQ(server.accept_stream(), 1u);
  EXPECT_FALSE(server.accept_stream());
  EXPECT_EQ(hex(take_transmit(server)), "000100020000000100000000");

  server.handle_input(t0, data(1, "ping"));
  events = take_events(server);
  ASSERT_EQ(only<StreamReadable>(events).size(), 1u);
  auto read = server.read(1, 100);
  ASSERT_TRUE(read);
  EXPECT_EQ(as_text(read->data), "ping");
  EXPECT_FALSE(read->finished);
}

TEST(YamuxSession, DataBeforeAcceptIsHeldAndSignalledOnAccept) {
  Session server(Role::server, t0, quiet());
  server.handle_input(t0, data(1, "early", flags::syn | flags::fin));
  auto events = take_events(server);
  EXPECT_EQ(only<StreamIncoming>(events).size(), 1u);
  EXPECT_TRUE(only<StreamReadable>(events).empty());
  EXPECT_EQ(server.accept_stream(), 1u);
  events = take_events(server);
  ASSERT_EQ(only<StreamReadable>(events).size(), 1u);
  auto read = server.read(1, 100);
  EXPECT_EQ(as_text(read->data), "early");
  EXPECT_TRUE(read->finished);
  EXPECT_TRUE(server.close_write(1));
  EXPECT_EQ(only<StreamClosed>(take_events(server)).size(), 1u);
  EXPECT_EQ(server.stream_count(), 0u);
}

TEST(YamuxSession, ExcessInboundStreamsGetReset) {
  Options options = quiet();
  options.inbound_backlog_max = 2;
  Session server(Role::server, t0, options);
  Bytes input;
  for (StreamId id : {1u, 3u, 5u}) append(input, frame(FrameType::window_update, flags::syn, id, 0));
  append(input, data(5, "in flight"));  // for the refused stream: ignored, not a violation
  server.handle_input(t0, input);
  EXPECT_EQ(hex(take_transmit(server)), "000100080000000500000000");
  EXPECT_EQ(server.refused_streams(), 1u);
  EXPECT_EQ(only<StreamIncoming>(take_events(server)).size(), 2u);
  EXPECT_FALSE(server.is_closed());
  // Accepting frees a backlog slot.
  EXPECT_EQ(server.accept_stream(), 1u);
  server.handle_input(t0, frame(FrameType::window_update, flags::syn, 7, 0));
  EXPECT_EQ(only<StreamIncoming>(take_events(server)).size(), 1u);
}

TEST(YamuxSession, StreamsMaxBoundsBothDirections) {
  Options options = quiet();
  options.streams_max = 2;
  Session server(Role::server, t0, options);
  ASSERT_TRUE(server.open_stream());
  server.handle_input(t0, frame(FrameType::window_update, flags::syn, 1, 0));
  EXPECT_EQ(server.open_stream().error().code, CommandErrc::too_many_streams);
  take_transmit(server);
  server.handle_input(t0, frame(FrameType::window_update, flags::syn, 3, 0));
  EXPECT_EQ(hex(take_transmit(server)), "000100080000000300000000");
}

TEST(YamuxSession, AckBacklogLimitsUnacknowledgedOpens) {
  Options options = quiet();
  options.outbound_unacked_max = 2;
  Session client(Role::client, t0, options);
  ASSERT_TRUE(client.open_stream());
  ASSERT_TRUE(client.open_stream());
  EXPECT_EQ(client.open_stream().error().code, CommandErrc::ack_backlog_full);
  client.handle_input(t0, frame(FrameType::window_update, flags::ack, 1, 0));
  EXPECT_TRUE(client.open_stream());
}

TEST(YamuxSession, PeerResetRemovesTheStream) {
  Session client(Role::client, t0, quiet());
  const StreamId id = *client.open_stream();
  client.handle_input(t0, frame(FrameType::window_update, flags::rst, id, 0));
  const auto resets = only<StreamReset>(take_events(client));
  ASSERT_EQ(resets.size(), 1u);
  EXPECT_EQ(resets[0].stream, id);
  EXPECT_EQ(client.read(id, 1).error().code, CommandErrc::unknown_stream);
  // Later frames for it are stale, not a violation.
  client.handle_input(t0, data(id, "late"));
  EXPECT_FALSE(client.is_closed());
}

TEST(YamuxSession, FramesForAStreamWeResetAreDropped) {
  Session client(Role::client, t0, quiet());
  const StreamId id = *client.open_stream();
  ASSERT_TRUE(client.reset(id));
  const StreamId other = *client.open_stream();
  Bytes input = data(id, "discard me");
  append(input, data(other, "keep me", flags::ack));
  client.handle_input(t0, input);
  EXPECT_FALSE(client.is_closed());
  EXPECT_EQ(as_text(client.read(other, 100)->data), "keep me");
}

TEST(YamuxSession, WritesStopAtThePeersWindow) {
  Session client(Role::client, t0, quiet());
  const StreamId id = *client.open_stream();
  const Bytes big(300 * 1024, 1);
  EXPECT_EQ(*client.write(id, big), kInitialWindowBytes);
  EXPECT_EQ(*client.write(id, big), 0u);
  take_transmit(client);
  EXPECT_TRUE(only<StreamWritable>(take_events(client)).empty());
  client.handle_input(t0, frame(FrameType::window_update, flags::ack, id, 1000));
  const auto writable = only<StreamWritable>(take_events(client));
  ASSERT_EQ(writable.size(), 1u);
  EXPECT_EQ(writable[0].stream, id);
  EXPECT_EQ(*client.write(id, big), 1000u);
}

TEST(YamuxSession, WritesStopAtTheTransmitBudget) {
  Options options = quiet();
  options.transmit_bytes_max = 100 * 1024;
  Session client(Role::client, t0, options);
  const StreamId id = *client.open_stream();
  const Bytes big(200 * 1024, 2);
  const std::size_t first = *client.write(id, big);
  EXPECT_LT(first, big.size());
  EXPECT_GT(first, 90u * 1024);
  EXPECT_EQ(*client.write(id, big), 0u);
  EXPECT_TRUE(client.poll_transmit());
  const auto writable = only<StreamWritable>(take_events(client));
  ASSERT_EQ(writable.size(), 1u);
  EXPECT_GT(*client.write(id, big), 0u);
}

// The Connection's path: read the queued frames in place, then consume them.
TEST(YamuxSession, PeekAndConsumeTransmitMatchPollTransmitAndFreeTheBudget) {
  Options options = quiet();
  options.transmit_bytes_max = 100 * 1024;
  Session peeked(Role::client, t0, options);
  Session polled(Role::client, t0, options);
  const StreamId id = *peeked.open_stream();
  ASSERT_EQ(*polled.open_stream(), id);
  const Bytes big(200 * 1024, 3);
  ASSERT_EQ(*peeked.write(id, big), *polled.write(id, big));
  EXPECT_EQ(*peeked.write(id, big), 0u);
  const Bytes expected = take_transmit(polled);
  EXPECT_TRUE(Bytes(peeked.peek_transmit().begin(), peeked.peek_transmit().end()) == expected);
  EXPECT_EQ(peeked.peek_transmit().size(), peeked.pending_transmit_bytes());
  EXPECT_TRUE(only<StreamWritable>(take_events(peeked)).empty()) << "peeking frees nothing";
  peeked.consume_transmit();
  EXPECT_TRUE(peeked.peek_transmit().empty());
  EXPECT_EQ(only<StreamWritable>(take_events(peeked)).size(), 1u);
  // The buffer is reused: the next frames come out the same way.
  const std::size_t second = *peeked.write(id, big);
  EXPECT_GT(second, 0u);
  EXPECT_EQ(peeked.peek_transmit().size(), peeked.pending_transmit_bytes());
  EXPECT_EQ(decode_header(peeked.peek_transmit().first<kHeaderBytes>()).stream, id);
}

TEST(YamuxSession, ReadingGrantsWindowInBatches) {
  Session server(Role::server, t0, quiet());
  server.handle_input(t0, frame(FrameType::window_update, flags::syn, 1, 0));
  server.accept_stream();
  take_transmit(server);
  const Bytes chunk(64 * 1024, 3);
  for (int i = 0; i < 3; ++i) server.handle_input(t0, frame(FrameType::data, 0, 1, 64 * 1024, chunk));
  ASSERT_EQ(server.read(1, 64 * 1024)->data.size(), 64u * 1024);
  EXPECT_TRUE(take_transmit(server).empty());  // a quarter read: too early
  ASSERT_EQ(server.read(1, 64 * 1024)->data.size(), 64u * 1024);
  // Half read: one update gives back exactly what was consumed (no RTT yet, so no tuning).
  EXPECT_EQ(hex(take_transmit(server)), "000100000000000100020000");
  EXPECT_EQ(server.stream_info(1)->receive_window, kInitialWindowBytes - 64 * 1024);
}

TEST(YamuxSession, ReservedWindowIsGrantedAtOnceAndBounded) {
  Options options = quiet();
  options.stream_receive_window_bytes_max = 1024 * 1024;
  options.session_receive_window_bytes_max = 1536 * 1024;  // 1.5 MiB across streams
  Session client(Role::client, t0, options);
  const StreamId first = *client.open_stream();
  take_transmit(client);

  // One WindowUpdate for the growth; the window never shrinks.
  ASSERT_TRUE(client.reserve_receive_window(first, 768 * 1024));
  EXPECT_EQ(hex(take_transmit(client)), hex(frame(FrameType::window_update, 0, first, 512 * 1024)));
  EXPECT_EQ(client.stream_info(first)->receive_window, 768u * 1024);
  ASSERT_TRUE(client.reserve_receive_window(first, 100 * 1024));
  EXPECT_TRUE(take_transmit(client).empty());

  // Capped by the stream maximum...
  ASSERT_TRUE(client.reserve_receive_window(first, 64 * 1024 * 1024));
  EXPECT_EQ(hex(take_transmit(client)), hex(frame(FrameType::window_update, 0, first, 256 * 1024)));
  EXPECT_EQ(client.stream_info(first)->receive_window, 1024u * 1024);

  // ...and by what the session may still add: 1.5 MiB - (1 MiB + 256 KiB
  // initial for the second stream) = 256 KiB.
  const StreamId second = *client.open_stream();
  take_transmit(client);
  ASSERT_TRUE(client.reserve_receive_window(second, 1024 * 1024));
  EXPECT_EQ(hex(take_transmit(client)), hex(frame(FrameType::window_update, 0, second, 256 * 1024)));

  // The peer may now send the whole reservation without our reading.
  const Bytes chunk(256 * 1024, 7);
  for (int i = 0; i < 4; ++i) client.handle_input(t0, frame(FrameType::data, flags::ack, first, 256 * 1024, chunk));
  EXPECT_FALSE(client.is_closed());
  EXPECT_EQ(client.stream_info(first)->receive_window, 0u);

  // After the peer's FIN there is nothing left to reserve; unknown streams fail.
  client.handle_input(t0, frame(FrameType::window_update, flags::fin, second, 0));
  take_transmit(client);
  ASSERT_TRUE(client.reserve_receive_window(second, 1024 * 1024));
  EXPECT_TRUE(take_transmit(client).empty());
  EXPECT_FALSE(client.reserve_receive_window(99, 1024 * 1024));
}

TEST(YamuxSession, PeerFinEndsTheReadSide) {
  Session client(Role::client, t0, quiet());
  const StreamId id = *client.open_stream();
  client.handle_input(t0, data(id, "answer", flags::ack | flags::fin));
  EXPECT_EQ(only<StreamReadable>(take_events(client)).size(), 1u);
  auto read = client.read(id, 3);
  EXPECT_EQ(as_text(read->data), "ans");
  EXPECT_FALSE(read->finished);
  read = client.read(id, 100);
  EXPECT_EQ(as_text(read->data), "wer");
  EXPECT_TRUE(read->finished);
  EXPECT_TRUE(client.stream_info(id));  // our side is still open
  ASSERT_TRUE(client.write(id, to_bytes("still allowed")));
  ASSERT_TRUE(client.close_write(id));
  const auto closed = only<StreamClosed>(take_events(client));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(client.stream_count(), 0u);
}

// --------------------------------------------------------------- violations

struct Violation {
  const char* name;
  Bytes input;
  Errc expected;
  Role role = Role::server;
  Options options = quiet();
};

std::vector<Violation> violations() {
  std::vector<Violation> cases;
  Bytes bad_version = frame(FrameType::window_update, flags::syn, 1, 0);
  bad_version[0] = 1;
  cases.push_back({"bad version", bad_version, Errc::bad_version});
  Bytes bad_type = frame(FrameType::ping, flags::syn, 0, 0);
  bad_type[1] = 4;
  cases.push_back({"bad type", bad_type, Errc::bad_frame_type});
  Options small_frames = quiet();
  small_frames.inbound_frame_bytes_max = 1024;
  cases.push_back({"oversized frame", frame(FrameType::data, flags::syn, 1, 1025), Errc::frame_too_large,
                   Role::server, small_frames});
  cases.push_back({"data beyond the initial window", frame(FrameType::data, flags::syn, 1, kInitialWindowBytes + 1),
                   Errc::window_exceeded});
  Bytes beyond = frame(FrameType::data, flags::syn, 1, 200 * 1024, Bytes(200 * 1024, 0));
  append(beyond, frame(FrameType::data, 0, 1, 56 * 1024 + 1));
  cases.push_back({"data beyond the remaining window", beyond, Errc::window_exceeded});
  cases.push_back({"unknown stream", data(7, "who?"), Errc::unknown_stream});
  cases.push_back({"window update for unknown stream", frame(FrameType::window_update, 0, 9, 5),
                   Errc::unknown_stream});
  cases.push_back({"SYN on our parity", frame(FrameType::window_update, flags::syn, 2, 0), Errc::bad_stream_id});
  cases.push_back({"SYN on stream 0", frame(FrameType::window_update, flags::syn, 0, 0), Errc::bad_stream_id});
  Bytes twice = frame(FrameType::window_update, flags::syn, 1, 0);
  append(twice, frame(FrameType::window_update, flags::syn, 1, 0));
  cases.push_back({"duplicate SYN", twice, Errc::bad_stream_id});
  Bytes backwards = frame(FrameType::window_update, flags::syn, 5, 0);
  append(backwards, frame(FrameType::window_update, flags::syn, 3, 0));
  cases.push_back({"reused lower id", backwards, Errc::bad_stream_id});
  Bytes after_fin = data(1, "a", flags::syn | flags::fin);
  append(after_fin, data(1, "b"));
  cases.push_back({"data after FIN", after_fin, Errc::data_after_fin});
  cases.push_back({"client gets SYN on odd id", frame(FrameType::window_update, flags::syn, 1, 0),
                   Errc::bad_stream_id, Role::client});
  return cases;
}

TEST(YamuxSession, EachViolationSendsGoAwayProtocolError) {
  for (const auto& test : violations()) {
    SCOPED_TRACE(test.name);
    Session session(test.role, t0, test.options);
    // One byte at a time: the parser must not depend on fragmentation.
    for (std::uint8_t byte : test.input) session.handle_input(t0, ByteView(&byte, 1));
    ASSERT_TRUE(session.is_closed());
    const Bytes out = take_transmit(session);
    ASSERT_GE(out.size(), kHeaderBytes);
    EXPECT_EQ(hex(Bytes(out.end() - kHeaderBytes, out.end())), "000300000000000000000001");
    const auto closed = only<SessionClosed>(take_events(session));
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].error.code, test.expected) << closed[0].error.detail;
    EXPECT_TRUE(is_protocol_violation(closed[0].error.code));
    // A dead session ignores input and refuses commands.
    session.handle_input(t0, frame(FrameType::ping, flags::syn, 0, 1));
    EXPECT_FALSE(session.poll_transmit());
    EXPECT_EQ(session.open_stream().error().code, CommandErrc::session_closed);
    EXPECT_FALSE(session.next_timeout());
  }
}

// --------------------------------------------------------------- GoAway and timers

TEST(YamuxSession, PeerGoAwayNormalLetsStreamsFinish) {
  Session client(Role::client, t0, quiet());
  const StreamId id = *client.open_stream();
  client.handle_input(t0, frame(FrameType::go_away, 0, 0, 0));
  const auto events = take_events(client);
  ASSERT_EQ(only<GoAwayReceived>(events).size(), 1u);
  EXPECT_FALSE(client.is_closed());
  EXPECT_EQ(client.open_stream().error().code, CommandErrc::going_away);
  take_transmit(client);
  client.handle_input(t0, frame(FrameType::window_update, flags::syn, 2, 0));  // peer broke its word: refuse
  EXPECT_EQ(hex(take_transmit(client)), "000100080000000200000000");
  client.handle_input(t0, data(id, "bye", flags::ack | flags::fin));
  ASSERT_TRUE(client.read(id, 10)->finished);
  ASSERT_TRUE(client.close_write(id));
  const auto closed = only<SessionClosed>(take_events(client));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, Errc::closed_normally);
}

TEST(YamuxSession, PeerGoAwayWithErrorEndsAtOnce) {
  const std::pair<std::uint32_t, Errc> cases[] = {{1, Errc::remote_protocol_error},
                                                  {2, Errc::remote_internal_error},
                                                  {77, Errc::remote_unknown_error}};
  for (const auto& [code, expected] : cases) {
    Session client(Role::client, t0, quiet());
    ASSERT_TRUE(client.open_stream());
    client.handle_input(t0, frame(FrameType::go_away, 0, 0, code));
    const auto closed = only<SessionClosed>(take_events(client));
    ASSERT_EQ(closed.size(), 1u);
    EXPECT_EQ(closed[0].error.code, expected);
    EXPECT_EQ(client.stream_count(), 0u);
  }
}

TEST(YamuxSession, LocalGoAwayWithErrorEndsAtOnce) {
  Session server(Role::server, t0, quiet());
  ASSERT_TRUE(server.open_stream());
  take_transmit(server);
  server.go_away(GoAwayCode::internal_error);
  EXPECT_EQ(hex(take_transmit(server)), "000300000000000000000002");
  const auto closed = only<SessionClosed>(take_events(server));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, Errc::closed_locally);
}

TEST(YamuxSession, KeepalivePingsAndTimesOut) {
  Options options;  // defaults: ping on start, every 30 s, 15 s timeout
  Session client(Role::client, t0, options);
  EXPECT_EQ(hex(take_transmit(client)), "000200010000000000000001");
  EXPECT_EQ(client.next_timeout(), t0 + 15s);  // waiting for the first answer
  client.handle_input(t0 + 1ms, frame(FrameType::ping, flags::ack, 0, 1));
  EXPECT_EQ(client.next_timeout(), t0 + 30s);
  client.handle_timeout(t0 + 30s);
  EXPECT_EQ(hex(take_transmit(client)), "000200010000000000000002");
  EXPECT_EQ(client.next_timeout(), t0 + 45s);
  client.handle_timeout(t0 + 44s);
  EXPECT_FALSE(client.is_closed());
  client.handle_timeout(t0 + 45s);
  const auto closed = only<SessionClosed>(take_events(client));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, Errc::keepalive_timeout);
}

TEST(YamuxSession, TransportClosedEndsTheSession) {
  Session client(Role::client, t0, quiet());
  ASSERT_TRUE(client.open_stream());
  client.handle_transport_closed(t0);
  const auto closed = only<SessionClosed>(take_events(client));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, Errc::transport_closed);
}

TEST(YamuxSession, PeerThatFloodsPingsWithoutReadingIsCutOff) {
  Options options = quiet();
  options.transmit_bytes_max = 1024;
  options.transmit_control_bytes_max = 1024;
  Session server(Role::server, t0, options);
  Bytes flood;
  for (std::uint32_t i = 0; i < 1000; ++i) append(flood, frame(FrameType::ping, flags::syn, 0, i));
  server.handle_input(t0, flood);  // the driver never drains poll_transmit
  const auto closed = only<SessionClosed>(take_events(server));
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error.code, Errc::transmit_overflow);
}

TEST(YamuxSession, IgnoresUnknownFlagsAndStrayPingAnswers) {
  Session server(Role::server, t0, quiet());
  server.handle_input(t0, frame(FrameType::ping, 0x0100, 0, 5));
  server.handle_input(t0, frame(FrameType::ping, flags::ack, 0, 5));
  server.handle_input(t0, frame(FrameType::window_update, flags::syn | 0x0040, 1, 0));
  EXPECT_FALSE(server.is_closed());
  EXPECT_EQ(only<StreamIncoming>(take_events(server)).size(), 1u);
}

}  // namespace
}  // namespace taho::yamux
