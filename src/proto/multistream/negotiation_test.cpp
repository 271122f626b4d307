// Dialer and listener talking to each other in memory, and to the bytes
// js-libp2p puts on the wire.
#include <gtest/gtest.h>

#include <optional>
#include <string_view>

#include "proto/multistream/dialer.hpp"
#include "proto/multistream/listener.hpp"

namespace taho::multistream {
namespace {

using namespace std::string_view_literals;

struct Outcome {
  std::optional<Negotiated> dialer;
  std::optional<Negotiated> listener;
  std::optional<Errc> dialer_error;
  std::optional<Errc> listener_error;
  Bytes dialer_sent;    // everything the dialer wrote
  Bytes listener_sent;  // everything the listener wrote
};

// Feeds `bytes` to `core` `fragment` bytes at a time; stops at the result or error.
template <class Core>
void feed(Core& core, ByteView bytes, std::size_t fragment, std::optional<Negotiated>& result,
          std::optional<Errc>& error) {
  while (!bytes.empty() && !result && !error) {
    const std::size_t size = std::min(fragment, bytes.size());
    auto progress = core.handle_input(bytes.first(size));
    bytes = bytes.subspan(size);
    if (!progress) {
      error = progress.error().code;
    } else if (*progress) {
      result = std::move(**progress);
      append(result->leftover, bytes);  // what the core never saw also belongs to the next layer
    }
  }
}

// Runs both sides to completion. `dialer_data` follows the dialer's first
// flight (lazy mode) and must come out as the listener's leftover;
// `listener_data` follows the listener's echo and must reach the dialer.
Outcome run(Dialer& dialer, Listener& listener, std::size_t fragment, ByteView dialer_data = {},
            ByteView listener_data = {}) {
  Outcome out;
  for (int round = 0; round < 64; ++round) {
    Bytes to_listener;
    while (auto bytes = dialer.poll_transmit()) append(to_listener, *bytes);
    if (round == 0) append(to_listener, dialer_data);
    append(out.dialer_sent, to_listener);
    const bool listener_was_done = out.listener.has_value();
    if (!out.listener && !out.listener_error) {
      feed(listener, to_listener, fragment, out.listener, out.listener_error);
    }
    Bytes to_dialer;
    while (auto bytes = listener.poll_transmit()) append(to_dialer, *bytes);
    if (out.listener && !listener_was_done) append(to_dialer, listener_data);
    append(out.listener_sent, to_dialer);
    if (!out.dialer && !out.dialer_error) feed(dialer, to_dialer, fragment, out.dialer, out.dialer_error);
    if (to_listener.empty() && to_dialer.empty()) break;
  }
  return out;
}

Dialer make_dialer(std::vector<std::string> protocols, DialerOptions options = {}) {
  auto dialer = Dialer::create(std::move(protocols), options);
  if (!dialer) __builtin_trap();
  return std::move(*dialer);
}

Listener make_listener(std::vector<std::string> protocols, ListenerOptions options = {}) {
  auto listener = Listener::create(std::move(protocols), options);
  if (!listener) __builtin_trap();
  return std::move(*listener);
}

TEST(MultistreamNegotiation, AgreesOnFirstProposalWithOneByteFragments) {
  auto dialer = make_dialer({"/noise"});
  auto listener = make_listener({"/tls/1.0.0", "/noise"});
  const auto out = run(dialer, listener, 1);
  ASSERT_TRUE(out.dialer);
  ASSERT_TRUE(out.listener);
  EXPECT_EQ(out.dialer->protocol, "/noise");
  EXPECT_EQ(out.listener->protocol, "/noise");
  EXPECT_TRUE(out.dialer->leftover.empty());
  EXPECT_TRUE(out.listener->leftover.empty());
}

TEST(MultistreamNegotiation, FallsBackAfterNotAvailable) {
  auto dialer = make_dialer({"/tls/1.0.0", "/mplex/6.7.0", "/yamux/1.0.0"});
  auto listener = make_listener({"/yamux/1.0.0"});
  const auto out = run(dialer, listener, 1);
  ASSERT_TRUE(out.dialer && out.listener);
  EXPECT_EQ(out.dialer->protocol, "/yamux/1.0.0");
  EXPECT_EQ(out.listener->protocol, "/yamux/1.0.0");
  Bytes expected_from_listener;
  append_message(kProtocolId, expected_from_listener);
  append_message("na", expected_from_listener);
  append_message("na", expected_from_listener);
  append_message("/yamux/1.0.0", expected_from_listener);
  EXPECT_EQ(out.listener_sent, expected_from_listener);
}

TEST(MultistreamNegotiation, FailsWhenNothingIsSupported) {
  auto dialer = make_dialer({"/a", "/b"});
  auto listener = make_listener({"/c"});
  const auto out = run(dialer, listener, 3);
  EXPECT_EQ(out.dialer_error, Errc::no_protocol_agreed);
  EXPECT_FALSE(out.listener);
}

TEST(MultistreamNegotiation, LazyDialerSendsDataInTheSameWrite) {
  auto dialer = make_dialer({"/ipfs/ping/1.0.0"}, {.mode = DialerMode::lazy});
  EXPECT_EQ(dialer.current_proposal(), "/ipfs/ping/1.0.0");
  auto listener = make_listener({"/ipfs/ping/1.0.0"});
  const Bytes ping_payload = to_bytes("0123456789abcdef0123456789abcdef");
  const Bytes pong_payload = to_bytes("pong!");
  const auto out = run(dialer, listener, 1, ping_payload, pong_payload);
  ASSERT_TRUE(out.dialer && out.listener);
  EXPECT_EQ(out.listener->leftover, ping_payload);
  EXPECT_EQ(out.dialer->leftover, pong_payload);
}

TEST(MultistreamNegotiation, LazyDialerFailsOnNotAvailable) {
  auto dialer = make_dialer({"/x/1"}, {.mode = DialerMode::lazy});
  auto listener = make_listener({"/y/1"});
  const auto out = run(dialer, listener, 5, to_bytes("early data"));
  EXPECT_EQ(out.dialer_error, Errc::no_protocol_agreed);
}

TEST(MultistreamNegotiation, LeftoverSurvivesWholeBufferDelivery) {
  auto listener = make_listener({"/noise"});
  Bytes wire;
  append_message(kProtocolId, wire);
  append_message("/noise", wire);
  append(wire, to_bytes("\x00\x20handshake"sv));
  auto result = listener.handle_input(wire);
  ASSERT_TRUE(result && *result);
  EXPECT_EQ((*result)->leftover, to_bytes("\x00\x20handshake"sv));
  EXPECT_EQ(listener.handle_input(to_bytes("more")).error().code, Errc::finished);
}

TEST(MultistreamNegotiation, ListenerAnswersLs) {
  auto listener = make_listener({"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"});
  Bytes request;
  append_message(kProtocolId, request);
  append_message(kList, request);
  auto result = listener.handle_input(request);
  ASSERT_TRUE(result);
  EXPECT_FALSE(*result);
  const auto answer = listener.poll_transmit();
  ASSERT_TRUE(answer);
  MessageReader reader;
  ByteView input(*answer);
  auto header = reader.next(input);
  ASSERT_TRUE(header && *header);
  EXPECT_EQ(**header, kProtocolId);
  auto list = reader.next(input);
  ASSERT_TRUE(list && *list);
  auto protocols = parse_protocol_list(**list, 16);
  ASSERT_TRUE(protocols);
  EXPECT_EQ(*protocols, (std::vector<std::string>{"/ipfs/id/1.0.0", "/ipfs/ping/1.0.0"}));
  EXPECT_TRUE(input.empty());
}

TEST(MultistreamNegotiation, DialerWritesWhatJsExpects) {
  auto dialer = make_dialer({"/ipfs/ping/1.0.0"});
  const auto first = dialer.poll_transmit();
  ASSERT_TRUE(first);
  // /multistream/1.0.0 is 18 characters (+ newline = 0x13); /ipfs/ping/1.0.0 is 16 (0x11).
  EXPECT_EQ(*first, to_bytes("\x13/multistream/1.0.0\n\x11/ipfs/ping/1.0.0\n"));
  EXPECT_FALSE(dialer.poll_transmit());
}

TEST(MultistreamNegotiation, DialerAcceptsJsListenerBytes) {
  auto dialer = make_dialer({"/noise"});
  (void)dialer.poll_transmit();
  // js answers the header and the echo; the noise handshake may follow at once.
  const Bytes from_js = to_bytes("\x13/multistream/1.0.0\n\x07/noise\n\x00\x20"sv);
  auto result = dialer.handle_input(from_js);
  ASSERT_TRUE(result && *result);
  EXPECT_EQ((*result)->protocol, "/noise");
  EXPECT_EQ((*result)->leftover, to_bytes("\x00\x20"sv));
}

TEST(MultistreamNegotiation, ListenerAnswersJsDialerBytes) {
  auto listener = make_listener({"/yamux/1.0.0"});
  // The js dialer's first write: header and proposal together.
  const Bytes from_js = to_bytes("\x13/multistream/1.0.0\n\x0d/yamux/1.0.0\n");
  auto result = listener.handle_input(from_js);
  ASSERT_TRUE(result && *result);
  EXPECT_EQ((*result)->protocol, "/yamux/1.0.0");
  EXPECT_EQ(*listener.poll_transmit(), from_js);  // header back, then the echo
}

TEST(MultistreamNegotiation, ListenerStaysSilentUntilHeader) {
  auto listener = make_listener({"/noise"});
  auto result = listener.handle_input(to_bytes("\x13/multistream/1.0"));
  ASSERT_TRUE(result);
  EXPECT_FALSE(listener.poll_transmit());
}

TEST(MultistreamNegotiation, RejectsWrongHeader) {
  auto listener = make_listener({"/noise"});
  Bytes wire;
  append_message("/multistream/2.0.0", wire);
  EXPECT_EQ(listener.handle_input(wire).error().code, Errc::bad_header);

  auto dialer = make_dialer({"/noise"});
  Bytes reply;
  append_message("/noise", reply);  // the echo without the header
  EXPECT_EQ(dialer.handle_input(reply).error().code, Errc::bad_header);
}

TEST(MultistreamNegotiation, DialerRejectsEchoOfAnotherProtocol) {
  auto dialer = make_dialer({"/a/1"});
  Bytes reply;
  append_message(kProtocolId, reply);
  append_message("/b/1", reply);
  EXPECT_EQ(dialer.handle_input(reply).error().code, Errc::unexpected_message);
}

TEST(MultistreamNegotiation, ListenerLimitsProposals) {
  auto listener = make_listener({"/yes"}, {.proposals_max = 3});
  Bytes wire;
  append_message(kProtocolId, wire);
  for (int i = 0; i < 3; ++i) append_message("/no", wire);
  auto ok = listener.handle_input(wire);
  ASSERT_TRUE(ok);
  EXPECT_FALSE(*ok);
  Bytes more;
  append_message(kList, more);
  EXPECT_EQ(listener.handle_input(more).error().code, Errc::too_many_proposals);
}

TEST(MultistreamNegotiation, MalformedInputIsAnError) {
  auto listener = make_listener({"/noise"});
  EXPECT_EQ(listener.handle_input(to_bytes("\x13/multistream/1.0.0X")).error().code, Errc::missing_newline);
  auto dialer = make_dialer({"/noise"});
  EXPECT_EQ(dialer.handle_input(Bytes{0xff, 0xff}).error().code, Errc::message_too_long);
  EXPECT_EQ(dialer.handle_input(Bytes{0x01}).error().code, Errc::finished);
}

TEST(MultistreamNegotiation, CreateValidatesArguments) {
  EXPECT_EQ(Dialer::create({}).error().code, Errc::invalid_argument);
  EXPECT_EQ(Dialer::create({"/a", "/b"}, {.mode = DialerMode::lazy}).error().code, Errc::invalid_argument);
  EXPECT_EQ(Dialer::create({"bad\nname"}).error().code, Errc::invalid_argument);
  EXPECT_EQ(Dialer::create({""}).error().code, Errc::invalid_argument);
  EXPECT_EQ(Dialer::create({"/a", "/b", "/c"}, {.proposals_max = 2}).error().code, Errc::too_many_proposals);
  EXPECT_EQ(Listener::create({"na"}).error().code, Errc::invalid_argument);
  EXPECT_EQ(Listener::create({std::string(kMessageBytesMax, 'x')}).error().code, Errc::invalid_argument);
  EXPECT_TRUE(Listener::create({}));  // supports nothing: answers na to everything
}

}  // namespace
}  // namespace taho::multistream
