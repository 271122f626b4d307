// DNS messages as multicast DNS uses them (RFC 1035 §4, RFC 6762 §18):
// header, questions and the three record sections. A, AAAA, PTR, TXT and SRV
// data are parsed; any other type is kept as opaque bytes.
//
// Decoding follows compression pointers (RFC 1035 §4.1.4) only backwards, so
// a name cannot loop, and it refuses a message whose uncompressed encoding
// would exceed Limits::message_bytes_max: a small datagram cannot expand into
// a large message ("compression bomb"), and encode() of anything decode()
// returned fits the same limit. encode() writes names uncompressed.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::mdns::dns {

enum class Errc {
  too_large,          // over Limits::message_bytes_max (as received, or once names are expanded)
  too_many_records,   // the header announces more than Limits::records_max entries
  truncated,          // the message ends inside a field
  bad_label,          // an empty label where none may be, a label over 63 bytes, or reserved label type 0x40/0x80
  name_too_long,      // a name over 255 bytes in wire form
  bad_pointer,        // a compression pointer that does not point strictly backwards (would loop)
  bad_rdata,          // record data that does not match its type (A not 4 bytes, a TXT string past the end ...)
  bad_field,          // encode(): a value that cannot be written (TXT string over 255 bytes, data over 65535 ...)
};
using DnsError = Error<Errc>;

std::string_view to_string(Errc code);

inline constexpr std::size_t label_bytes_max = 63;
inline constexpr std::size_t name_wire_bytes_max = 255;  // length octets and the final zero included
inline constexpr std::size_t txt_string_bytes_max = 255;

struct Limits {
  // RFC 6762 §17: a multicast DNS message may be up to 9000 bytes.
  std::size_t message_bytes_max = 9000;
  // Questions plus records of all sections.
  std::size_t records_max = 256;
};

// Record types this codec parses, plus those mDNS queries name.
namespace type {
inline constexpr std::uint16_t a = 1;
inline constexpr std::uint16_t ptr = 12;
inline constexpr std::uint16_t txt = 16;
inline constexpr std::uint16_t aaaa = 28;
inline constexpr std::uint16_t srv = 33;
inline constexpr std::uint16_t any = 255;
}  // namespace type

inline constexpr std::uint16_t class_in = 1;
// mDNS reuses the top bit of the class: "unicast response wanted" in a
// question (RFC 6762 §5.4), "cache flush" in a record (§10.2).
inline constexpr std::uint16_t class_top_bit = 0x8000;
inline constexpr std::uint16_t flag_response = 0x8000;       // QR
inline constexpr std::uint16_t flag_authoritative = 0x0400;  // AA

// A domain name as its labels; a label is any 1..63 bytes (DNS-SD instance
// names may hold dots or spaces). The root name has no labels.
struct Name {
  std::vector<std::string> labels;

  // "a.b.local" (a trailing dot is allowed); fails on empty or long labels.
  static Expected<Name, DnsError> parse(std::string_view dotted);
  std::string to_string() const;  // labels joined with '.'
  // DNS names compare ASCII case-insensitively (RFC 1035 §2.3.3).
  bool equals(const Name& other) const;
  // Wire size, uncompressed: one length byte per label, the bytes, the final zero.
  std::size_t wire_bytes() const;

  bool operator==(const Name& other) const = default;  // exact, case-sensitive
};

struct Header {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // QR, opcode, AA, TC, RD, RA, Z, RCODE as on the wire
  bool operator==(const Header& other) const = default;
};

struct Question {
  Name name;
  std::uint16_t qtype = type::ptr;
  std::uint16_t qclass = class_in;  // top bit: unicast response requested
  bool operator==(const Question& other) const = default;
};

struct AData {
  std::array<std::uint8_t, 4> address{};
  bool operator==(const AData& other) const = default;
};
struct AaaaData {
  std::array<std::uint8_t, 16> address{};
  bool operator==(const AaaaData& other) const = default;
};
struct PtrData {
  Name target;
  bool operator==(const PtrData& other) const = default;
};
struct TxtData {
  std::vector<std::string> strings;  // each 0..255 bytes, not necessarily text
  bool operator==(const TxtData& other) const = default;
};
struct SrvData {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  Name target;
  bool operator==(const SrvData& other) const = default;
};
// The rdata of a type this codec does not parse, exactly as received.
struct OpaqueData {
  Bytes bytes;
  bool operator==(const OpaqueData& other) const = default;
};
using RecordData = std::variant<AData, AaaaData, PtrData, TxtData, SrvData, OpaqueData>;

struct Record {
  Name name;
  std::uint16_t rtype = type::txt;  // must agree with `data` (OpaqueData for unparsed types)
  std::uint16_t rclass = class_in;  // top bit: cache flush
  std::uint32_t ttl = 0;            // seconds
  RecordData data;
  bool operator==(const Record& other) const = default;
};

struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authorities;
  std::vector<Record> additionals;

  bool is_response() const { return (header.flags & flag_response) != 0; }
  bool operator==(const Message& other) const = default;
};

// Bytes after the last announced record are ignored (as most resolvers do).
Expected<Message, DnsError> decode(ByteView datagram, const Limits& limits = {});
// Fails (bad_field / bad_label / name_too_long) only on values that have
// no encoding, e.g. a record whose type disagrees with its data.
Expected<Bytes, DnsError> encode(const Message& message);

}  // namespace taho::mdns::dns
