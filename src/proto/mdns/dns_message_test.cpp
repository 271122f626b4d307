#include "proto/mdns/dns_message.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace taho::mdns::dns {
namespace {

Bytes hex(std::string_view text) {
  Bytes out;
  EXPECT_TRUE(from_hex(text, out)) << text;
  return out;
}

Name name(std::string_view dotted) { return *Name::parse(dotted); }

// "_p2p._udp.local" in wire form.
constexpr std::string_view kServiceWire = "045f703270045f756470056c6f63616c00";

TEST(DnsMessage, DecodesAQueryForTheService) {
  const Bytes query = hex(std::string("000000000001000000000000") + std::string(kServiceWire) + "000c0001");
  auto message = decode(query);
  ASSERT_TRUE(message) << message.error().detail;
  EXPECT_FALSE(message->is_response());
  ASSERT_EQ(message->questions.size(), 1u);
  EXPECT_EQ(message->questions[0].name.to_string(), "_p2p._udp.local");
  EXPECT_EQ(message->questions[0].qtype, type::ptr);
  EXPECT_EQ(message->questions[0].qclass, class_in);
  EXPECT_EQ(*encode(*message), query);
}

TEST(DnsMessage, RoundTripsEveryParsedRecordType) {
  Message message;
  message.header = {0x1234, flag_response | flag_authoritative};
  message.questions.push_back({name("_p2p._udp.local"), type::any, class_in | class_top_bit});
  message.answers.push_back({name("_p2p._udp.local"), type::ptr, class_in, 120, PtrData{name("abc._p2p._udp.local")}});
  message.answers.push_back(
      {name("abc._p2p._udp.local"), type::txt, class_in | class_top_bit, 120, TxtData{{"dnsaddr=/ip4/10.0.0.1/tcp/1", ""}}});
  message.authorities.push_back({name("host.local"), type::a, class_in, 60, AData{{10, 0, 0, 1}}});
  AaaaData v6;
  v6.address[0] = 0xfe;
  v6.address[1] = 0x80;
  v6.address[15] = 1;
  message.additionals.push_back({name("host.local"), type::aaaa, class_in, 60, v6});
  message.additionals.push_back({name("abc._p2p._udp.local"), type::srv, class_in, 60, SrvData{0, 5, 4001, name("host.local")}});
  message.additionals.push_back({name("x.local"), 47, class_in, 60, OpaqueData{{1, 2, 3}}});  // NSEC, kept opaque
  auto bytes = encode(message);
  ASSERT_TRUE(bytes);
  auto back = decode(*bytes);
  ASSERT_TRUE(back) << back.error().detail;
  EXPECT_EQ(*back, message);
}

TEST(DnsMessage, FollowsCompressionPointers) {
  // A response: PTR _p2p._udp.local -> "ab" + pointer to offset 12.
  const Bytes response = hex(std::string("000084000000000100000000") + std::string(kServiceWire) +
                             "000c0001" "00000078" "0005" "026162c00c");
  auto message = decode(response);
  ASSERT_TRUE(message) << message.error().detail;
  ASSERT_EQ(message->answers.size(), 1u);
  EXPECT_EQ(std::get<PtrData>(message->answers[0].data).target.to_string(), "ab._p2p._udp.local");
  EXPECT_EQ(message->answers[0].ttl, 120u);
}

TEST(DnsMessage, NamesCompareCaseInsensitively) {
  EXPECT_TRUE(name("_P2P._udp.LOCAL").equals(name("_p2p._udp.local")));
  EXPECT_FALSE(name("_p2p._udp").equals(name("_p2p._udp.local")));
  EXPECT_TRUE(Name::parse("a.b.").has_value());
  EXPECT_EQ(Name::parse("a..b").error().code, Errc::bad_label);
  EXPECT_EQ(Name::parse(std::string(64, 'x')).error().code, Errc::bad_label);
}

struct Malformed {
  const char* what;
  std::string hex;
  Errc code;
};

TEST(DnsMessage, RefusesMalformedInput) {
  const std::string header_1q = "000000000001000000000000";
  const std::string header_1an = "000084000000000100000000";
  const std::vector<Malformed> cases = {
      {"short header", "0000000000", Errc::truncated},
      {"question missing", header_1q, Errc::truncated},
      {"question without type", header_1q + std::string(kServiceWire), Errc::truncated},
      {"label past the end", header_1q + "0561", Errc::truncated},
      {"pointer to itself", header_1q + "c00c000c0001", Errc::bad_pointer},
      {"pointer forwards", header_1q + "c00e000c0001", Errc::bad_pointer},
      {"pointer cut", header_1q + "c0", Errc::truncated},
      {"reserved label type", header_1q + "4000000c0001", Errc::bad_label},
      {"A record of 3 bytes", header_1an + "00" "0001" "0001" "00000078" "0003" "0a0000", Errc::bad_rdata},
      {"AAAA record of 4 bytes", header_1an + "00" "001c" "0001" "00000078" "0004" "0a000001", Errc::bad_rdata},
      {"TXT string past its record", header_1an + "00" "0010" "0001" "00000078" "0002" "0561", Errc::bad_rdata},
      {"rdata past the end", header_1an + "00" "0010" "0001" "00000078" "0010" "00", Errc::truncated},
      {"PTR name shorter than rdata", header_1an + "00" "000c" "0001" "00000078" "0003" "000000", Errc::bad_rdata},
      {"PTR name longer than rdata", header_1an + "00" "000c" "0001" "00000078" "0001" "016100", Errc::bad_rdata},
      {"SRV too short", header_1an + "00" "0021" "0001" "00000078" "0004" "00000000", Errc::bad_rdata},
      {"records announced but missing", "000000000001000100010001", Errc::truncated},
      {"too many announced", "00000000ffff000000000000", Errc::too_many_records},
  };
  for (const auto& c : cases) {
    auto message = decode(hex(c.hex));
    ASSERT_FALSE(message) << c.what;
    EXPECT_EQ(message.error().code, c.code) << c.what << ": " << message.error().detail;
  }
}

TEST(DnsMessage, RefusesNamesOver255Bytes) {
  std::string wire = "000000000001000000000000";
  for (int i = 0; i < 5; ++i) wire += "3f" + std::string(126, '6') ;  // 5 labels of 63 'f'
  wire += "00000c0001";
  auto message = decode(hex(wire));
  ASSERT_FALSE(message);
  EXPECT_EQ(message.error().code, Errc::name_too_long);
}

TEST(DnsMessage, RefusesMessagesThatExpandPastTheLimit) {
  // One 200-byte name, then many records whose names point at it: each 2-byte
  // pointer stands for 200 bytes once expanded.
  Message message;
  message.header.flags = flag_response;
  Bytes wire = hex("000084000000");
  const std::size_t records = 60;
  wire.push_back(0);
  wire.push_back(static_cast<std::uint8_t>(records));
  append(wire, hex("00000000"));
  // First record: literal name of 4 labels of 49 bytes.
  for (int i = 0; i < 4; ++i) {
    wire.push_back(49);
    for (int j = 0; j < 49; ++j) wire.push_back('a');
  }
  wire.push_back(0);
  append(wire, hex("0010000100000078" "0000"));
  for (std::size_t i = 1; i < records; ++i) append(wire, hex("c00c" "0010000100000078" "0000"));
  ASSERT_LT(wire.size(), 1000u);
  Limits limits;
  limits.message_bytes_max = 9000;
  auto message_decoded = decode(wire, limits);
  ASSERT_FALSE(message_decoded);
  EXPECT_EQ(message_decoded.error().code, Errc::too_large);
  limits.message_bytes_max = 20000;
  ASSERT_TRUE(decode(wire, limits).has_value());
}

TEST(DnsMessage, RefusesOversizeDatagrams) {
  Bytes big(9001, 0);
  EXPECT_EQ(decode(big).error().code, Errc::too_large);
}

TEST(DnsMessage, IgnoresTrailingBytes) {
  Bytes query = hex(std::string("000000000001000000000000") + std::string(kServiceWire) + "000c0001" + "ffff");
  ASSERT_TRUE(decode(query).has_value());
}

TEST(DnsMessage, EncodeRefusesValuesWithoutAnEncoding) {
  Message message;
  message.answers.push_back({name("a.local"), type::txt, class_in, 1, TxtData{{std::string(256, 'x')}}});
  EXPECT_EQ(encode(message).error().code, Errc::bad_field);
  message.answers[0] = {name("a.local"), type::a, class_in, 1, TxtData{{"x"}}};
  EXPECT_EQ(encode(message).error().code, Errc::bad_field);
  message.answers[0] = {name("a.local"), type::a, class_in, 1, OpaqueData{{1, 2, 3, 4}}};
  EXPECT_EQ(encode(message).error().code, Errc::bad_field);
  message.answers[0] = {Name{{""}}, type::a, class_in, 1, AData{}};
  EXPECT_EQ(encode(message).error().code, Errc::bad_label);
}

// The fuzz seeds are real packets: every one of them decodes and round-trips.
TEST(DnsMessage, DecodesEveryFuzzSeed) {
  const std::filesystem::path corpus = std::filesystem::path(TAHO_SOURCE_DIR) / "fuzz/corpus/mdns_message";
  std::size_t seeds = 0;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    std::ifstream file(entry.path(), std::ios::binary);
    const Bytes bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    auto message = decode(bytes);
    ASSERT_TRUE(message) << entry.path() << ": " << message.error().detail;
    auto again = decode(*encode(*message));
    ASSERT_TRUE(again);
    EXPECT_EQ(*again, *message);
    ++seeds;
  }
  EXPECT_GE(seeds, 5u);
}

}  // namespace
}  // namespace taho::mdns::dns
