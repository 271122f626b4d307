#include "proto/noise/handshake.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

namespace taho::noise {
namespace {

// SplitMix64: a seeded Rng so every handshake here replays exactly.
class TestRng final : public Rng {
 public:
  explicit TestRng(std::uint64_t seed) : state_(seed) {}
  void fill(std::span<std::uint8_t> out) override {
    for (auto& byte : out) byte = static_cast<std::uint8_t>(next());
  }

 private:
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  std::uint64_t state_;
};

crypto::Ed25519KeyPair identity(std::uint8_t fill) {
  crypto::Ed25519Seed seed{};
  seed.fill(fill);
  auto pair = crypto::Ed25519KeyPair::from_seed(seed);
  EXPECT_TRUE(pair);
  return *pair;
}

HandshakeOptions options_for(const crypto::Ed25519KeyPair& id, std::vector<std::string> muxers = {}) {
  HandshakeOptions options;
  options.identity = id;
  options.stream_muxers = std::move(muxers);
  return options;
}

Bytes hex(std::string_view text) {
  Bytes bytes;
  EXPECT_TRUE(from_hex(text, bytes));
  return bytes;
}

// Feeds `bytes` to `receiver` in random pieces (1 byte at a time when
// `piece_max` is 1). Bytes left after the handshake completes go to `rest`.
Expected<void, NoiseError> deliver(Handshake& receiver, ByteView bytes, std::mt19937& generator,
                                   std::size_t piece_max, Bytes* rest = nullptr) {
  while (!bytes.empty()) {
    const std::size_t piece = std::min<std::size_t>(bytes.size(), 1 + generator() % piece_max);
    auto used = receiver.handle_data(bytes.first(piece));
    if (!used) return unexpected(std::move(used).error());
    if (*used < piece) {
      EXPECT_TRUE(receiver.is_complete());
      if (rest) append(*rest, bytes.subspan(*used));
      return {};
    }
    bytes = bytes.subspan(piece);
  }
  return {};
}

struct Parties {
  crypto::OpenSslCryptoSuite suite;
  TestRng rng{1};
  std::optional<Handshake> initiator;
  std::optional<Handshake> responder;

  Parties(HandshakeOptions initiator_options, HandshakeOptions responder_options, std::uint64_t seed = 1) : rng(seed) {
    auto i = Handshake::start(Role::initiator, std::move(initiator_options), suite, rng);
    auto r = Handshake::start(Role::responder, std::move(responder_options), suite, rng);
    EXPECT_TRUE(i && r);
    if (i) initiator.emplace(std::move(*i));
    if (r) responder.emplace(std::move(*r));
  }
};

// Runs the three messages with random fragmentation; reports the first failure.
Expected<void, NoiseError> run(Parties& parties, std::mt19937& generator, std::size_t piece_max = 64) {
  EXPECT_TRUE(parties.responder->poll_transmit().empty());  // the responder speaks second
  const Bytes message1 = parties.initiator->poll_transmit();
  if (auto delivered = deliver(*parties.responder, message1, generator, piece_max); !delivered) return delivered;
  const Bytes message2 = parties.responder->poll_transmit();
  if (auto delivered = deliver(*parties.initiator, message2, generator, piece_max); !delivered) return delivered;
  const Bytes message3 = parties.initiator->poll_transmit();
  return deliver(*parties.responder, message3, generator, piece_max);
}

Bytes random_bytes(std::size_t size, std::mt19937& generator) {
  Bytes bytes(size);
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(generator());
  return bytes;
}

void expect_transport_round_trip(Session& sender, Session& receiver, std::size_t size, std::mt19937& generator) {
  const Bytes data = random_bytes(size, generator);
  Bytes wire;
  ASSERT_TRUE(sender.encrypt(data, wire));
  Bytes received;
  std::size_t offset = 0;
  while (offset < wire.size()) {
    const std::size_t piece = std::min<std::size_t>(wire.size() - offset, 1 + generator() % 200000);
    ASSERT_TRUE(receiver.decrypt(ByteView(wire).subspan(offset, piece), received));
    offset += piece;
  }
  EXPECT_EQ(received, data);
}

TEST(Handshake, CompletesUnderRandomFragmentationAndExchangesExtensions) {
  const auto alice = identity(1), bob = identity(2);
  for (std::uint64_t seed = 1; seed <= 12; ++seed) {
    auto alice_options = options_for(alice, {"/yamux/1.0.0", "/mplex/6.7.0"});
    auto bob_options = options_for(bob, {"/yamux/1.0.0"});
    bob_options.webtransport_certhashes = {hex("1220aabbcc"), hex("1220ddeeff")};
    Parties parties(std::move(alice_options), std::move(bob_options), seed);
    std::mt19937 generator(static_cast<std::uint32_t>(seed));
    ASSERT_TRUE(run(parties, generator, seed == 1 ? 1 : 100)) << seed;
    ASSERT_TRUE(parties.initiator->is_complete() && parties.responder->is_complete());

    auto at_alice = parties.initiator->finish();
    auto at_bob = parties.responder->finish();
    ASSERT_TRUE(at_alice && at_bob);
    EXPECT_EQ(at_alice->remote.peer_id, PeerId::from_ed25519(bob.public_key()));
    EXPECT_EQ(at_bob->remote.peer_id, PeerId::from_ed25519(alice.public_key()));
    EXPECT_EQ(at_alice->remote.ed25519_key, bob.public_key());
    EXPECT_EQ(at_alice->remote.public_key, PublicKey::ed25519(bob.public_key()).encode());
    EXPECT_EQ(at_bob->remote.ed25519_key, alice.public_key());
    EXPECT_EQ(at_bob->remote.public_key, PublicKey::ed25519(alice.public_key()).encode());
    EXPECT_TRUE(at_alice->remote_sent_extensions);
    EXPECT_EQ(at_alice->remote_extensions.stream_muxers, std::vector<std::string>{"/yamux/1.0.0"});
    EXPECT_EQ(at_alice->remote_extensions.webtransport_certhashes,
              (std::vector<Bytes>{hex("1220aabbcc"), hex("1220ddeeff")}));
    EXPECT_TRUE(at_bob->remote_sent_extensions);
    EXPECT_EQ(at_bob->remote_extensions.stream_muxers, (std::vector<std::string>{"/yamux/1.0.0", "/mplex/6.7.0"}));
    EXPECT_TRUE(at_bob->remote_extensions.webtransport_certhashes.empty());
    EXPECT_EQ(at_alice->handshake_hash, at_bob->handshake_hash);

    expect_transport_round_trip(at_alice->session, at_bob->session, 3 * 1024 * 1024 + seed, generator);
    expect_transport_round_trip(at_bob->session, at_alice->session, 1024 * 1024 + 7 * seed, generator);
    expect_transport_round_trip(at_alice->session, at_bob->session, 1, generator);
  }
}

TEST(Handshake, WithoutExtensionsNoneAreReported) {
  Parties parties(options_for(identity(1)), options_for(identity(2)));
  std::mt19937 generator(3);
  ASSERT_TRUE(run(parties, generator));
  auto at_alice = parties.initiator->finish();
  auto at_bob = parties.responder->finish();
  ASSERT_TRUE(at_alice && at_bob);
  EXPECT_FALSE(at_alice->remote_sent_extensions);
  EXPECT_FALSE(at_bob->remote_sent_extensions);
  EXPECT_EQ(at_alice->remote_extensions, Extensions{});
}

TEST(Handshake, RemoteStaticKeyIsTheOneTheRemoteUsed) {
  crypto::OpenSslCryptoSuite suite;
  TestRng key_rng(99);
  auto static_key = suite.generate_x25519(key_rng);
  ASSERT_TRUE(static_key);
  auto bob_options = options_for(identity(2));
  bob_options.static_key = *static_key;
  Parties parties(options_for(identity(1)), std::move(bob_options));
  std::mt19937 generator(4);
  ASSERT_TRUE(run(parties, generator));
  auto at_alice = parties.initiator->finish();
  ASSERT_TRUE(at_alice);
  EXPECT_EQ(at_alice->remote.noise_static_key, static_key->public_key);
}

// libp2p lets the initiator send its first transport frame in the same write
// as handshake message 3; the responder must hand those bytes to the session.
TEST(Handshake, BytesAfterTheLastMessageBelongToTheSession) {
  Parties parties(options_for(identity(1)), options_for(identity(2)));
  ASSERT_TRUE(parties.responder->handle_data(parties.initiator->poll_transmit()));
  ASSERT_TRUE(parties.initiator->handle_data(parties.responder->poll_transmit()));
  ASSERT_TRUE(parties.initiator->is_complete());
  auto at_alice = parties.initiator->finish();
  ASSERT_TRUE(at_alice);
  Bytes write = parties.initiator->poll_transmit();
  const std::size_t message3_bytes = write.size();
  ASSERT_TRUE(at_alice->session.encrypt(to_bytes("/multistream/1.0.0\n"), write));

  auto used = parties.responder->handle_data(write);
  ASSERT_TRUE(used);
  EXPECT_EQ(*used, message3_bytes);
  auto at_bob = parties.responder->finish();
  ASSERT_TRUE(at_bob);
  Bytes plaintext;
  ASSERT_TRUE(at_bob->session.decrypt(ByteView(write).subspan(*used), plaintext));
  EXPECT_EQ(as_text(plaintext), "/multistream/1.0.0\n");
}

TEST(Handshake, TamperingWithAnyByteOfAnyMessageIsDetected) {
  const auto alice = identity(1), bob = identity(2);
  for (std::size_t tampered = 0; tampered < 3; ++tampered) {
    // Learn the message length from a clean run with the same seed.
    std::size_t length = 0;
    {
      Parties clean(options_for(alice, {"/yamux/1.0.0"}), options_for(bob, {"/yamux/1.0.0"}));
      Bytes m = clean.initiator->poll_transmit();
      if (tampered > 0) {
        ASSERT_TRUE(clean.responder->handle_data(m));
        m = clean.responder->poll_transmit();
      }
      if (tampered > 1) {
        ASSERT_TRUE(clean.initiator->handle_data(m));
        m = clean.initiator->poll_transmit();
      }
      length = m.size();
    }
    // Every byte of the message body (the 2-byte header is checked below).
    for (std::size_t position = frame_header_bytes; position < length; ++position) {
      Parties parties(options_for(alice, {"/yamux/1.0.0"}), options_for(bob, {"/yamux/1.0.0"}));
      Handshake* sender = parties.initiator ? &*parties.initiator : nullptr;
      Handshake* receiver = &*parties.responder;
      std::optional<NoiseError> failure;
      for (std::size_t index = 0; index < 3 && !failure; ++index) {
        Bytes message = sender->poll_transmit();
        if (index == tampered) message[position] ^= static_cast<std::uint8_t>(1u << (position % 8));
        auto used = receiver->handle_data(message);
        if (!used) failure = used.error();
        std::swap(sender, receiver);
      }
      ASSERT_TRUE(failure) << "message " << tampered + 1 << " byte " << position;
      EXPECT_TRUE(failure->code == Errc::decrypt_failed || failure->code == Errc::bad_key)
          << to_string(failure->code);
      EXPECT_FALSE(parties.initiator->is_complete() && parties.responder->is_complete());
    }
  }
}

TEST(Handshake, TamperedLengthHeaderNeverCompletes) {
  Parties parties(options_for(identity(1)), options_for(identity(2)));
  Bytes message1 = parties.initiator->poll_transmit();
  message1[1] ^= 0x01;  // 32 → 33: the responder waits for a byte that is not coming
  auto used = parties.responder->handle_data(message1);
  ASSERT_TRUE(used);
  EXPECT_TRUE(parties.responder->poll_transmit().empty());
  message1[1] = 0x1f;  // 31: too short for an ephemeral key
  Parties again(options_for(identity(1)), options_for(identity(2)));
  again.initiator->poll_transmit();
  auto short_message = again.responder->handle_data(message1);
  ASSERT_FALSE(short_message);
  EXPECT_EQ(short_message.error().code, Errc::bad_length);
}

// A remote built from the plain Noise state machine, so its payload can lie.
struct ForgingResponder {
  crypto::OpenSslCryptoSuite& suite;
  HandshakeState state;

  ForgingResponder(crypto::OpenSslCryptoSuite& s, const HandshakeKeys& keys)
      : suite(s), state(s, Role::responder, keys, {}) {}

  Bytes answer(ByteView framed_message1, ByteView payload) {
    Bytes ignored, message, framed;
    EXPECT_TRUE(state.read_message(framed_message1.subspan(frame_header_bytes), ignored));
    EXPECT_TRUE(state.write_message(payload, message));
    append_frame_header(framed, message.size());
    append(framed, message);
    return framed;
  }
};

HandshakeKeys keys_from(crypto::CryptoSuite& suite, std::uint64_t seed) {
  TestRng rng(seed);
  HandshakeKeys keys;
  keys.static_key = *suite.generate_x25519(rng);
  keys.ephemeral_key = *suite.generate_x25519(rng);
  return keys;
}

Bytes payload_bytes(ByteView identity_key, ByteView signature) {
  HandshakePayload payload;
  payload.identity_key.assign(identity_key.begin(), identity_key.end());
  payload.identity_sig.assign(signature.begin(), signature.end());
  return encode_payload(payload);
}

Errc initiator_error_for_forged_payload(const std::function<Bytes(const HandshakeKeys&)>& make_payload) {
  crypto::OpenSslCryptoSuite suite;
  TestRng rng(5);
  auto initiator = Handshake::start(Role::initiator, options_for(identity(1)), suite, rng);
  EXPECT_TRUE(initiator);
  const HandshakeKeys forger_keys = keys_from(suite, 77);
  ForgingResponder forger(suite, forger_keys);
  const Bytes message2 = forger.answer(initiator->poll_transmit(), make_payload(forger_keys));
  auto used = initiator->handle_data(message2);
  EXPECT_FALSE(used);
  EXPECT_TRUE(initiator->poll_transmit().empty());  // no message 3: our identity stays private
  return used ? Errc::unexpected_message : used.error().code;
}

TEST(Handshake, ForgedIdentitiesAreRejected) {
  const auto bob = identity(2), mallory = identity(3);
  const Bytes bob_key = PublicKey::ed25519(bob.public_key()).encode();

  // A well-formed payload passes: the forging harness itself is sound.
  crypto::OpenSslCryptoSuite suite;
  TestRng rng(5);
  auto initiator = Handshake::start(Role::initiator, options_for(identity(1)), suite, rng);
  ASSERT_TRUE(initiator);
  const HandshakeKeys honest_keys = keys_from(suite, 77);
  ForgingResponder honest(suite, honest_keys);
  const auto honest_signature = bob.sign(static_key_signature_message(honest_keys.static_key.public_key));
  ASSERT_TRUE(initiator->handle_data(honest.answer(initiator->poll_transmit(), payload_bytes(bob_key, honest_signature))));
  EXPECT_TRUE(initiator->is_complete());

  // Signed by the claimed identity, but over another static key.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys&) {
              crypto::X25519PublicKey other{};
              other.fill(9);
              return payload_bytes(bob_key, bob.sign(static_key_signature_message(other)));
            }),
            Errc::bad_signature);
  // Claims Bob, signed by Mallory.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys& keys) {
              return payload_bytes(bob_key, mallory.sign(static_key_signature_message(keys.static_key.public_key)));
            }),
            Errc::bad_signature);
  // A truncated signature.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys& keys) {
              const auto signature = bob.sign(static_key_signature_message(keys.static_key.public_key));
              return payload_bytes(bob_key, ByteView(signature).first(63));
            }),
            Errc::bad_signature);
  // No signature at all.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys&) { return payload_bytes(bob_key, {}); }),
            Errc::bad_signature);
  // A secp256k1 identity (peer-ids spec vector): not supported.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys&) {
              return payload_bytes(hex("08021221037777e994e452c21604f91de093ce415f5432f701dd8cd1a7a6fea0e630bfca99"),
                                   Bytes(64, 1));
            }),
            Errc::unsupported_key_type);
  // Not a payload at all, and an empty one.
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys&) { return hex("0aff01"); }),
            Errc::bad_payload);
  EXPECT_EQ(initiator_error_for_forged_payload([&](const HandshakeKeys&) { return Bytes{}; }), Errc::bad_payload);
}

TEST(Handshake, ForgedInitiatorIsRejectedByTheResponder) {
  crypto::OpenSslCryptoSuite suite;
  TestRng rng(6);
  auto responder = Handshake::start(Role::responder, options_for(identity(2)), suite, rng);
  ASSERT_TRUE(responder);
  HandshakeState forger(suite, Role::initiator, keys_from(suite, 31), {});
  Bytes message, framed, ignored;
  ASSERT_TRUE(forger.write_message({}, message));
  append_frame_header(framed, message.size());
  append(framed, message);
  ASSERT_TRUE(responder->handle_data(framed));
  const Bytes message2 = responder->poll_transmit();
  ASSERT_TRUE(forger.read_message(ByteView(message2).subspan(frame_header_bytes), ignored));
  const auto alice = identity(1);
  crypto::X25519PublicKey other{};
  other.fill(4);
  message.clear();
  framed.clear();
  ASSERT_TRUE(forger.write_message(
      payload_bytes(PublicKey::ed25519(alice.public_key()).encode(), alice.sign(static_key_signature_message(other))),
      message));
  append_frame_header(framed, message.size());
  append(framed, message);
  auto used = responder->handle_data(framed);
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code, Errc::bad_signature);
  EXPECT_FALSE(responder->is_complete());
}

TEST(Handshake, ExpectedPeerMismatchIsRejectedBeforeWeReveal) {
  const auto alice = identity(1), bob = identity(2), carol = identity(3);
  auto alice_options = options_for(alice);
  alice_options.expected_remote_peer = PeerId::from_ed25519(carol.public_key());
  Parties parties(std::move(alice_options), options_for(bob));
  ASSERT_TRUE(parties.responder->handle_data(parties.initiator->poll_transmit()));
  auto used = parties.initiator->handle_data(parties.responder->poll_transmit());
  ASSERT_FALSE(used);
  EXPECT_EQ(used.error().code, Errc::peer_id_mismatch);
  EXPECT_TRUE(parties.initiator->poll_transmit().empty());
  EXPECT_TRUE(parties.initiator->has_failed());
  EXPECT_FALSE(parties.responder->is_complete());
}

TEST(Handshake, ExpectedPeerMatchCompletes) {
  auto alice_options = options_for(identity(1));
  alice_options.expected_remote_peer = PeerId::from_ed25519(identity(2).public_key());
  auto bob_options = options_for(identity(2));
  bob_options.expected_remote_peer = PeerId::from_ed25519(identity(1).public_key());
  Parties parties(std::move(alice_options), std::move(bob_options));
  std::mt19937 generator(8);
  ASSERT_TRUE(run(parties, generator));
  EXPECT_TRUE(parties.initiator->finish());
  EXPECT_TRUE(parties.responder->finish());
}

TEST(Handshake, ResponderExpectingSomeoneElseRejects) {
  auto bob_options = options_for(identity(2));
  bob_options.expected_remote_peer = PeerId::from_ed25519(identity(3).public_key());
  Parties parties(options_for(identity(1)), std::move(bob_options));
  std::mt19937 generator(9);
  auto result = run(parties, generator);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::peer_id_mismatch);
  EXPECT_FALSE(parties.responder->is_complete());
}

TEST(Handshake, FailuresAreFinalAndResultsComeOnce) {
  Parties parties(options_for(identity(1)), options_for(identity(2)));
  auto early = parties.responder->finish();
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::unexpected_message);

  Bytes garbage;
  append_frame_header(garbage, 100);
  garbage.insert(garbage.end(), 100, 0x5a);
  auto failed = parties.initiator->handle_data(garbage);  // not a valid message 2
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::decrypt_failed);
  auto again = parties.initiator->handle_data(to_bytes("anything"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::decrypt_failed);
  EXPECT_FALSE(parties.initiator->finish());

  Parties fine(options_for(identity(1)), options_for(identity(2)));
  std::mt19937 generator(10);
  ASSERT_TRUE(run(fine, generator));
  EXPECT_TRUE(fine.initiator->finish());
  auto twice = fine.initiator->finish();
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::unexpected_message);
}

TEST(Handshake, ShortMessagesAreBadLength) {
  Parties parties(options_for(identity(1)), options_for(identity(2)));
  const Bytes empty_frame = {0x00, 0x00};
  auto at_responder = parties.responder->handle_data(empty_frame);
  ASSERT_FALSE(at_responder);
  EXPECT_EQ(at_responder.error().code, Errc::bad_length);
  Bytes short_message2;
  append_frame_header(short_message2, 95);  // e + encrypted s + tag need 96
  short_message2.insert(short_message2.end(), 95, 1);
  auto at_initiator = parties.initiator->handle_data(short_message2);
  ASSERT_FALSE(at_initiator);
  EXPECT_EQ(at_initiator.error().code, Errc::bad_length);
}

TEST(Handshake, OversizedOwnExtensionsAreRefusedAtStart) {
  crypto::OpenSslCryptoSuite suite;
  TestRng rng(1);
  auto options = options_for(identity(1), std::vector<std::string>(10, std::string(7000, 'm')));
  auto started = Handshake::start(Role::responder, std::move(options), suite, rng);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, Errc::payload_too_large);
}

// Known bytes on the wire, with every key fixed: message 1 is the framed
// ephemeral key, and message 2 — opened by the plain Noise machine that the
// cacophony vector pins — carries exactly the protobuf the libp2p spec
// describes, built here by hand.
TEST(Handshake, WireBytesFollowTheLibp2pSpec) {
  crypto::OpenSslCryptoSuite suite;
  const HandshakeKeys alice_keys = keys_from(suite, 1001), bob_keys = keys_from(suite, 2002);
  const auto bob = identity(2);
  auto initiator = Handshake::start_with_keys(Role::initiator, options_for(identity(1)), suite, alice_keys);
  auto responder = Handshake::start_with_keys(Role::responder, options_for(bob, {"/yamux/1.0.0"}), suite, bob_keys);
  ASSERT_TRUE(initiator && responder);

  const Bytes message1 = initiator->poll_transmit();
  EXPECT_EQ(to_hex(message1), "0020" + to_hex(alice_keys.ephemeral_key.public_key));

  HandshakeState observer(suite, Role::initiator, alice_keys, {});
  Bytes scratch;
  ASSERT_TRUE(observer.write_message({}, scratch));
  ASSERT_TRUE(responder->handle_data(message1));
  const Bytes message2 = responder->poll_transmit();
  ASSERT_GE(message2.size(), 2u);
  EXPECT_EQ((std::size_t{message2[0]} << 8 | message2[1]), message2.size() - 2);
  Bytes payload;
  ASSERT_TRUE(observer.read_message(ByteView(message2).subspan(2), payload));
  EXPECT_EQ(observer.remote_static(), bob_keys.static_key.public_key);
  const auto signature = bob.sign(static_key_signature_message(bob_keys.static_key.public_key));
  const std::string expected = "0a24" "08011220" + to_hex(bob.public_key()) +  // identity_key
                               "1240" + to_hex(signature) +                      // identity_sig
                               "220e" "120c" + to_hex(to_bytes("/yamux/1.0.0"));  // extensions.stream_muxers
  EXPECT_EQ(to_hex(payload), expected);

  // Same keys, same transcript: runs replay exactly.
  auto replay = Handshake::start_with_keys(Role::responder, options_for(bob, {"/yamux/1.0.0"}), suite, bob_keys);
  ASSERT_TRUE(replay);
  ASSERT_TRUE(replay->handle_data(message1));
  EXPECT_EQ(replay->poll_transmit(), message2);
}

}  // namespace
}  // namespace taho::noise
