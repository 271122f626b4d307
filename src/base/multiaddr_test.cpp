#include "base/multiaddr.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <unordered_set>

namespace taho {
namespace {

using multiaddr::Component;
using multiaddr::Errc;
using multiaddr::Protocol;

constexpr std::string_view kEd25519Id = "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA";
constexpr std::string_view kRelayId = "QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC";

Multiaddr parsed(std::string_view text) {
  auto address = Multiaddr::parse(text);
  EXPECT_TRUE(address) << text << ": " << address.error().detail;
  return address ? *address : Multiaddr();
}

// Text and binary vectors shared by go-multiaddr, rust-multiaddr and
// js-multiaddr tests, plus our protocols' codes from the multicodec table.
TEST(Multiaddr, MatchesReferenceVectors) {
  struct Case {
    const char* text;
    const char* hex;
  };
  for (const Case& c : {
           Case{"/ip4/127.0.0.1/udp/1234", "047f000001910204d2"},
           Case{"/ip4/127.0.0.1/tcp/4001", "047f000001060fa1"},
           Case{"/ip4/192.168.2.1/tcp/5001", "04c0a80201061389"},
           Case{"/ip4/0.0.0.0", "0400000000"},
           Case{"/udp/0", "91020000"},
           Case{"/tcp/65535", "06ffff"},
           Case{"/udp/65535", "9102ffff"},
           Case{"/ip6/2001:8a0:7ac5:4201:3ac9:86ff:fe31:7095", "29200108a07ac542013ac986fffe317095"},
           Case{"/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC",
                "a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b"},
           Case{"/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC/tcp/1234",
                "a503221220d52ebb89d85b02a284948203a62ff28389c57c9f42beec4ec20db76a68911c0b0604d2"},
           Case{"/tcp/1234/tls", "0604d2c003"},
           Case{"/ip4/127.0.0.1/udp/4001/quic", "047f00000191020fa1cc03"},
           Case{"/ip4/127.0.0.1/udp/4001/quic-v1", "047f00000191020fa1cd03"},
           Case{"/ip4/127.0.0.1/tcp/4002/ws", "047f000001060fa2dd03"},
           Case{"/ip4/127.0.0.1/tcp/443/wss", "047f0000010601bbde03"},
           Case{"/dns/example.com", "350b6578616d706c652e636f6d"},
           Case{"/dns4/example.com/tcp/443", "360b6578616d706c652e636f6d0601bb"},
           Case{"/dns6/example.com", "370b6578616d706c652e636f6d"},
           Case{"/dnsaddr/bootstrap.libp2p.io", "3813626f6f7473747261702e6c69627032702e696f"},
           Case{"/p2p-circuit", "a202"},
       }) {
    auto from_text = Multiaddr::parse(c.text);
    ASSERT_TRUE(from_text) << c.text << ": " << from_text.error().detail;
    EXPECT_EQ(to_hex(from_text->bytes()), c.hex) << c.text;
    Bytes binary;
    ASSERT_TRUE(from_hex(c.hex, binary));
    auto from_binary = Multiaddr::from_bytes(binary);
    ASSERT_TRUE(from_binary) << c.hex << ": " << from_binary.error().detail;
    EXPECT_EQ(from_binary->to_string(), c.text);
    EXPECT_EQ(*from_binary, *from_text);
  }
}

TEST(Multiaddr, RoundTripsEveryProtocol) {
  for (const char* text : {
           "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
           "/ip6/::1/udp/4001/quic-v1",
           "/ip6/fe80::1/tcp/4002/wss",
           "/dns4/node.example/tcp/443/tls/ws",
           "/dns6/node.example/udp/4001/quic-v1/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
           "/dnsaddr/bootstrap.libp2p.io/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC",
           "/dns/a-b.c",
           "/ip4/1.2.3.4/tcp/1/p2p/QmcgpsyWgH8Y8ajJz1Cu72KnS5uo2Aa2LpzU7kinSupNKC/p2p-circuit/p2p/"
           "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
           "/ip4/255.255.255.255/udp/65535/quic",
       }) {
    const Multiaddr address = parsed(text);
    EXPECT_EQ(address.to_string(), text);
    auto again = Multiaddr::from_bytes(address.bytes());
    ASSERT_TRUE(again) << text;
    EXPECT_EQ(*again, address);
    EXPECT_EQ(again->to_string(), text);
  }
}

TEST(Multiaddr, Ip6TextIsCanonical) {
  struct Case {
    const char* input;
    const char* canonical;
  };
  for (const Case& c : {
           Case{"::", "::"},
           Case{"0:0:0:0:0:0:0:0", "::"},
           Case{"::1", "::1"},
           Case{"0000:0000:0000:0000:0000:0000:0000:0001", "::1"},
           Case{"1::", "1::"},
           Case{"2001:DB8::1", "2001:db8::1"},
           Case{"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
           Case{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},   // a lone zero group stays
           Case{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},           // longest run wins
           Case{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},     // first of equal runs
           Case{"fe80::", "fe80::"},
           Case{"::ffff:1.2.3.4", "::ffff:1.2.3.4"},
           Case{"::ffff:0102:0304", "::ffff:1.2.3.4"},
           Case{"64:ff9b::192.0.2.33", "64:ff9b::c000:221"},
           Case{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
           Case{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
           Case{"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
       }) {
    const std::string text = std::string("/ip6/") + c.input;
    const Multiaddr address = parsed(text);
    EXPECT_EQ(address.to_string(), std::string("/ip6/") + c.canonical) << c.input;
    EXPECT_EQ(parsed(address.to_string()), address) << c.input;
  }
}

TEST(Multiaddr, ComponentsExposeProtocolNameAndValue) {
  const Multiaddr address = parsed("/ip4/1.2.3.4/tcp/4001/ws/p2p/" + std::string(kEd25519Id));
  const auto& parts = address.components();
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_EQ(parts[0].protocol(), Protocol::ip4);
  EXPECT_EQ(parts[0].name(), "ip4");
  EXPECT_EQ(to_hex(parts[0].value()), "01020304");
  EXPECT_EQ(parts[0].value_text(), "1.2.3.4");
  EXPECT_EQ(parts[1].port(), 4001);
  EXPECT_EQ(parts[1].value_text(), "4001");
  EXPECT_FALSE(parts[0].port());
  EXPECT_EQ(parts[2].name(), "ws");
  EXPECT_TRUE(parts[2].value().empty());
  EXPECT_EQ(parts[2].value_text(), "");
  EXPECT_EQ(parts[3].value_text(), kEd25519Id);
  EXPECT_EQ(Bytes(parts[3].value().begin(), parts[3].value().end()), PeerId::parse(kEd25519Id)->bytes());
  EXPECT_TRUE(address.has(Protocol::ws));
  EXPECT_FALSE(address.has(Protocol::udp));
}

TEST(Multiaddr, ProtocolNamesAndCodes) {
  EXPECT_EQ(static_cast<int>(Protocol::quic_v1), 0x01cd);
  EXPECT_EQ(multiaddr::name(Protocol::p2p_circuit), "p2p-circuit");
  EXPECT_EQ(multiaddr::protocol_from_name("quic-v1"), Protocol::quic_v1);
  EXPECT_EQ(multiaddr::protocol_from_name("ipfs"), Protocol::p2p);
  EXPECT_FALSE(multiaddr::protocol_from_name("tpc"));
}

TEST(Multiaddr, IpfsAliasPrintsAsP2p) {
  EXPECT_EQ(parsed("/ipfs/" + std::string(kRelayId)).to_string(), "/p2p/" + std::string(kRelayId));
}

TEST(Multiaddr, P2pAcceptsCidFormPeerIds) {
  const PeerId id = *PeerId::parse(kEd25519Id);
  const Multiaddr address = parsed("/ip4/1.2.3.4/tcp/1/p2p/" + id.to_cid_string());
  EXPECT_EQ(address.to_string(), "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kEd25519Id));
}

TEST(Multiaddr, OneTrailingSlashIsTolerated) {
  EXPECT_EQ(parsed("/ip4/127.0.0.1/udp/1234/"), parsed("/ip4/127.0.0.1/udp/1234"));
  EXPECT_EQ(parsed("/ws/"), parsed("/ws"));
}

TEST(Multiaddr, PeerIdExtraction) {
  const PeerId target = *PeerId::parse(kEd25519Id);
  const PeerId relay = *PeerId::parse(kRelayId);
  const std::string relay_text = "/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kRelayId);

  EXPECT_EQ(parsed(relay_text).peer_id(), relay);
  EXPECT_EQ(parsed(relay_text).without_peer_id(), parsed("/ip4/1.2.3.4/tcp/1"));

  // Through a relay: the target is the peer after the circuit.
  const Multiaddr circuit = parsed(relay_text + "/p2p-circuit/p2p/" + std::string(kEd25519Id));
  EXPECT_EQ(circuit.peer_id(), target);
  EXPECT_EQ(circuit.without_peer_id(), parsed(relay_text + "/p2p-circuit"));

  // A relay address naming no target has no peer id; the relay's is not it.
  const Multiaddr open_circuit = parsed(relay_text + "/p2p-circuit");
  EXPECT_FALSE(open_circuit.peer_id());
  EXPECT_EQ(open_circuit.without_peer_id(), open_circuit);

  EXPECT_FALSE(parsed("/ip4/1.2.3.4/tcp/1").peer_id());
  EXPECT_EQ(parsed("/ip4/1.2.3.4/tcp/1").with_peer_id(target),
            parsed("/ip4/1.2.3.4/tcp/1/p2p/" + std::string(kEd25519Id)));
}

TEST(Multiaddr, EncapsulateAppendAndDecapsulate) {
  const Multiaddr base = parsed("/ip4/1.2.3.4/tcp/4002");
  const Multiaddr full = base.encapsulate(parsed("/ws/p2p/" + std::string(kEd25519Id)));
  EXPECT_EQ(full.to_string(), "/ip4/1.2.3.4/tcp/4002/ws/p2p/" + std::string(kEd25519Id));
  EXPECT_EQ(full.decapsulate(Protocol::ws), base);
  EXPECT_EQ(full.decapsulate(Protocol::udp), full);
  EXPECT_EQ(full.decapsulate(Protocol::ip4), Multiaddr());
  EXPECT_EQ(Multiaddr().to_string(), "/");
  EXPECT_TRUE(Multiaddr().empty());

  auto quic = Component::make(Protocol::quic_v1);
  ASSERT_TRUE(quic);
  auto udp = Component::make(Protocol::udp, "4001");
  ASSERT_TRUE(udp);
  EXPECT_EQ(parsed("/ip6/::").append(*udp).append(*quic).to_string(), "/ip6/::/udp/4001/quic-v1");
  EXPECT_EQ(parsed("/ip6/::").append(*udp).append(*quic).bytes(), parsed("/ip6/::/udp/4001/quic-v1").bytes());
}

TEST(Multiaddr, ComponentMakeValidates) {
  EXPECT_EQ(Component::make(Protocol::tcp, "65536").error().code, Errc::bad_value);
  EXPECT_EQ(Component::make(Protocol::tcp).error().code, Errc::missing_value);
  EXPECT_EQ(Component::make(Protocol::ws, "x").error().code, Errc::bad_value);
  EXPECT_EQ(Component::make(static_cast<Protocol>(999), "x").error().code, Errc::unknown_protocol);
  EXPECT_EQ(Component::make(Protocol::dns4, "a/b").error().code, Errc::bad_value);
}

TEST(Multiaddr, EqualityOrderingAndHash) {
  const Multiaddr a = parsed("/ip4/1.2.3.4/tcp/1");
  const Multiaddr b = parsed("/ip4/1.2.3.4/tcp/2");
  EXPECT_EQ(a, parsed("/ip4/1.2.3.4/tcp/1/"));
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  std::set<Multiaddr> ordered{a, b, a};
  EXPECT_EQ(ordered.size(), 2u);
  std::unordered_set<Multiaddr> hashed{a, b, a};
  EXPECT_EQ(hashed.size(), 2u);
}

MultiaddrError text_error(std::string_view text) {
  auto address = Multiaddr::parse(text);
  EXPECT_FALSE(address) << text << " parsed as " << (address ? address->to_string() : "");
  return address ? MultiaddrError{} : address.error();
}

TEST(Multiaddr, TextErrorsSayWhatAndWhere) {
  const auto unknown = text_error("/ip4/1.2.3.4/tpc/1");
  EXPECT_EQ(unknown.code, Errc::unknown_protocol);
  EXPECT_EQ(unknown.detail, "unknown protocol 'tpc' at /ip4/1.2.3.4/tpc/1");
}

TEST(Multiaddr, MalformedTextIsRefused) {
  struct Case {
    std::string text;
    Errc code;
  };
  const std::string id(kEd25519Id);
  for (const Case& c : {
           Case{"", Errc::empty},
           Case{"/", Errc::empty},
           Case{"ip4/1.2.3.4", Errc::bad_syntax},
           Case{" /ip4/1.2.3.4", Errc::bad_syntax},
           Case{"//ip4/1.2.3.4", Errc::bad_syntax},
           Case{"/ip4/1.2.3.4//tcp/1", Errc::bad_syntax},
           Case{"/ip4/1.2.3.4/tcp/1//", Errc::bad_syntax},
           Case{"/ip4", Errc::missing_value},
           Case{"/ip4/", Errc::missing_value},
           Case{"/ip4//tcp/1", Errc::missing_value},
           Case{"/tcp", Errc::missing_value},
           Case{"/ip4/1.2.3.4/tcp", Errc::missing_value},
           Case{"/p2p", Errc::missing_value},
           Case{"/dns4", Errc::missing_value},
           Case{"/foo", Errc::unknown_protocol},
           Case{"/IP4/1.2.3.4", Errc::unknown_protocol},
           Case{"/ws/extra", Errc::unknown_protocol},         // trailing garbage after a value-less protocol
           Case{"/ip4/1.2.3.4/tcp/1/x", Errc::unknown_protocol},
           Case{"/ip4/1.2.3.4/tcp/1/tcp", Errc::missing_value},
           Case{"/ip4/256.0.0.1", Errc::bad_value},
           Case{"/ip4/1.2.3", Errc::bad_value},
           Case{"/ip4/1.2.3.4.5", Errc::bad_value},
           Case{"/ip4/01.2.3.4", Errc::bad_value},
           Case{"/ip4/1.2.3.-4", Errc::bad_value},
           Case{"/ip4/1.2..4", Errc::bad_value},
           Case{"/ip4/::1", Errc::bad_value},
           Case{"/ip6/1.2.3.4", Errc::bad_value},
           Case{"/ip6/:::", Errc::bad_value},
           Case{"/ip6/1::2::3", Errc::bad_value},
           Case{"/ip6/1:2:3:4:5:6:7", Errc::bad_value},
           Case{"/ip6/1:2:3:4:5:6:7:8:9", Errc::bad_value},
           Case{"/ip6/1:2:3:4:5:6:7:8::", Errc::bad_value},
           Case{"/ip6/12345::", Errc::bad_value},
           Case{"/ip6/g::", Errc::bad_value},
           Case{"/ip6/:1::", Errc::bad_value},
           Case{"/ip6/1:", Errc::bad_value},
           Case{"/ip6/fe80::1%eth0", Errc::bad_value},
           Case{"/ip6/::1.2.3.4:5", Errc::bad_value},
           Case{"/ip6/1.2.3.4::", Errc::bad_value},
           Case{"/tcp/65536", Errc::bad_value},
           Case{"/tcp/99999999999999999999", Errc::bad_value},
           Case{"/tcp/-1", Errc::bad_value},
           Case{"/tcp/80a", Errc::bad_value},
           Case{"/tcp/+80", Errc::bad_value},
           Case{"/udp/0x10", Errc::bad_value},
           Case{"/dns4/" + std::string(multiaddr::kDnsNameBytesMax + 1, 'a'), Errc::bad_value},
           Case{"/dns4/a b", Errc::bad_value},
           Case{"/p2p/notapeerid", Errc::bad_value},
           Case{"/p2p/" + id.substr(0, id.size() - 1), Errc::bad_value},
           Case{"/p2p/bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", Errc::bad_value},
           Case{"/" + std::string(multiaddr::kTextCharsMax, 'a'), Errc::too_long},
       }) {
    const auto failure = text_error(c.text);
    EXPECT_EQ(failure.code, c.code) << c.text << ": " << failure.detail;
    EXPECT_FALSE(failure.detail.empty());
  }
}

TEST(Multiaddr, OverlongAddressesAreRefused) {
  std::string text;
  while (text.size() < multiaddr::kTextCharsMax - 100) text += "/dns/" + std::string(200, 'a');
  EXPECT_EQ(text_error(text).code, Errc::too_long);
  Bytes binary;
  while (binary.size() <= multiaddr::kBytesMax) append(binary, parsed("/tcp/1").bytes());
  EXPECT_EQ(Multiaddr::from_bytes(binary).error().code, Errc::too_long);
}

TEST(Multiaddr, LargestAddressesRoundTripThroughText) {
  // 512 x /p2p-circuit: exactly kBytesMax bytes, the widest text per byte.
  std::string text;
  for (std::size_t i = 0; i < multiaddr::kBytesMax / 2; ++i) text += "/p2p-circuit";
  const Multiaddr widest = parsed(text);
  EXPECT_EQ(widest.bytes().size(), multiaddr::kBytesMax);
  EXPECT_EQ(parsed(widest.to_string()), widest);
  EXPECT_EQ(text_error(text + "/ws").code, Errc::too_long);

  // Exactly kBytesMax bytes mixing fixed and length-prefixed values.
  std::string mixed = "/dns/" + std::string(200, 'd') + "/tcp/1";  // 1+2+200 + 3 = 206 bytes
  std::size_t size = 206;
  while (size + 206 <= multiaddr::kBytesMax) {
    mixed += "/dns/" + std::string(200, 'd') + "/tcp/1";
    size += 206;
  }
  while (size + 5 <= multiaddr::kBytesMax) {
    mixed += "/ip4/1.2.3.4";
    size += 5;
  }
  while (size < multiaddr::kBytesMax) {
    mixed += "/ws";
    size += 2;
  }
  const Multiaddr full = parsed(mixed);
  EXPECT_EQ(full.bytes().size(), size);
  EXPECT_EQ(*Multiaddr::from_bytes(full.bytes()), full);
}

MultiaddrError binary_error(std::string_view hex_text) {
  Bytes binary;
  EXPECT_TRUE(from_hex(hex_text, binary)) << hex_text;
  auto address = Multiaddr::from_bytes(binary);
  EXPECT_FALSE(address) << hex_text << " parsed as " << (address ? address->to_string() : "");
  return address ? MultiaddrError{} : address.error();
}

TEST(Multiaddr, MalformedBinaryIsRefused) {
  struct Case {
    const char* hex;
    Errc code;
  };
  for (const Case& c : {
           Case{"", Errc::empty},
           Case{"04", Errc::truncated},                        // ip4 without address
           Case{"047f0000", Errc::truncated},                  // ip4 short
           Case{"0604", Errc::truncated},                      // port short
           Case{"29200108", Errc::truncated},                  // ip6 short
           Case{"91", Errc::truncated},                        // code varint cut
           Case{"35", Errc::truncated},                        // dns length missing
           Case{"350b6578616d", Errc::truncated},              // dns shorter than its length
           Case{"35ffffffffffffffff7f", Errc::truncated},      // absurd length
           Case{"a50322", Errc::truncated},                    // p2p shorter than its length
           Case{"e703", Errc::unknown_protocol},               // unknown code 487
           Case{"047f00000100", Errc::unknown_protocol},       // trailing garbage: code 0
           Case{"047f000001ff", Errc::truncated},              // trailing garbage: a cut varint
           Case{"8400", Errc::bad_varint},                     // code 4 non-minimal
           Case{"3580007a", Errc::bad_varint},                 // length non-minimal
           Case{"3500", Errc::missing_value},                  // empty dns name
           Case{"a50300", Errc::missing_value},                // empty peer id
           Case{"35012f", Errc::bad_value},                    // dns name "/"
           Case{"350120", Errc::bad_value},                    // dns name " "
           Case{"a503021300", Errc::bad_value},                // p2p: sha2-512 multihash
           Case{"a50304000201ff", Errc::bad_value},            // p2p: identity digest not a key
       }) {
    const auto failure = binary_error(c.hex);
    EXPECT_EQ(failure.code, c.code) << c.hex << ": " << failure.detail;
    if (c.code != Errc::empty) EXPECT_NE(failure.detail.find("at byte"), std::string::npos) << failure.detail;
  }
}

TEST(Multiaddr, RandomBytesNeverBreakTheRoundTrip) {
  std::mt19937 rng(42);
  const Bytes seed = parsed("/ip4/1.2.3.4/tcp/80/ws/p2p/" + std::string(kEd25519Id)).bytes();
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    Bytes binary = seed;
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int i = 0; i < flips; ++i) binary[rng() % binary.size()] = static_cast<std::uint8_t>(rng());
    binary.resize(rng() % (binary.size() + 1));
    auto address = Multiaddr::from_bytes(binary);
    if (!address) continue;
    ++accepted;
    EXPECT_EQ(address->bytes(), binary);
    auto reparsed = Multiaddr::parse(address->to_string());
    ASSERT_TRUE(reparsed) << address->to_string() << ": " << reparsed.error().detail;
    EXPECT_EQ(*reparsed, *address);
  }
  EXPECT_GT(accepted, 100);
}

}  // namespace
}  // namespace taho
