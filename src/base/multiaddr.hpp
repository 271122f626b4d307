// Multiaddr: self-describing network addresses, text ("/ip4/1.2.3.4/tcp/4001")
// and binary (<code varint><value>...), per multiformats/multiaddr. Only the
// protocols taho speaks are known; anything else is refused with an error.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"
#include "base/peer_id.hpp"

namespace taho {

class Multiaddr;

namespace multiaddr {

// Codes from the multicodec table.
enum class Protocol : std::uint32_t {
  ip4 = 4,
  tcp = 6,
  ip6 = 41,
  dns = 53,
  dns4 = 54,
  dns6 = 55,
  dnsaddr = 56,
  udp = 273,
  p2p_circuit = 290,
  p2p = 421,  // text name "ipfs" is accepted as an alias on input
  tls = 448,
  quic = 460,     // draft-29 QUIC, kept so such addresses parse and print
  quic_v1 = 461,  // 0x01cd
  ws = 477,
  wss = 478,
};

enum class Errc {
  empty,             // no components
  too_long,          // over kBytesMax / kTextCharsMax
  bad_syntax,        // text not starting with '/', or an empty component ("//")
  unknown_protocol,  // a name or code not in Protocol
  missing_value,     // the protocol takes a value and none follows
  bad_value,         // value does not parse (bad ip, port > 65535, bad peer id, bad dns name ...)
  truncated,         // binary ends inside a component
  bad_varint,        // binary code or length varint malformed
};

// Bounds for addresses from peers and files: real addresses are < 200 bytes.
inline constexpr std::size_t kBytesMax = 1024;
// Text may be up to 6 times the binary ("/p2p-circuit" is 12 characters for
// 2 bytes), so every address within kBytesMax also prints within this.
inline constexpr std::size_t kTextCharsMax = 8 * kBytesMax;
inline constexpr std::size_t kDnsNameBytesMax = 255;

std::string_view name(Protocol protocol);
std::optional<Protocol> protocol_from_name(std::string_view name);  // accepts "ipfs" for p2p

}  // namespace multiaddr

using MultiaddrError = Error<multiaddr::Errc>;

namespace multiaddr {

// One /protocol/value pair. Always valid: made only by parsing or make().
class Component {
 public:
  // Builds a component from its text value ("" for protocols without one).
  static Expected<Component, MultiaddrError> make(Protocol protocol, std::string_view value_text = {});

  Protocol protocol() const { return protocol_; }
  std::string_view name() const { return multiaddr::name(protocol_); }
  // The binary value without any length prefix: 4 or 16 address bytes, a
  // 2-byte big-endian port, the UTF-8 name, the peer id multihash, or nothing.
  ByteView value() const { return value_; }
  // The value as in text ("1.2.3.4", "::1", "4001", a base58btc peer id); empty if none.
  std::string value_text() const;
  // For tcp and udp.
  std::optional<std::uint16_t> port() const;

  bool operator==(const Component& other) const = default;

 private:
  friend class taho::Multiaddr;
  Component(Protocol protocol, Bytes value) : protocol_(protocol), value_(std::move(value)) {}
  Protocol protocol_;
  Bytes value_;
};

}  // namespace multiaddr

class Multiaddr {
 public:
  // The empty address, printed as "/". parse and from_bytes never return it.
  Multiaddr() = default;

  static Expected<Multiaddr, MultiaddrError> parse(std::string_view text);
  static Expected<Multiaddr, MultiaddrError> from_bytes(ByteView binary);

  std::string to_string() const;
  const Bytes& bytes() const { return bytes_; }
  const std::vector<multiaddr::Component>& components() const { return components_; }
  bool empty() const { return components_.empty(); }
  bool has(multiaddr::Protocol protocol) const;

  // This address followed by `inner` (e.g. /ip4/.../tcp/1 + /p2p/<id>).
  // Not checked against kBytesMax: both parts were bounded when parsed.
  Multiaddr encapsulate(const Multiaddr& inner) const;
  Multiaddr append(const multiaddr::Component& component) const;
  // Drops the last component with this protocol and everything after it;
  // unchanged when the protocol is absent.
  Multiaddr decapsulate(multiaddr::Protocol protocol) const;

  // The peer the address leads to: the last /p2p/ component, unless a
  // /p2p-circuit follows it (then that /p2p/ is the relay, and the target,
  // if named, comes after the circuit).
  std::optional<PeerId> peer_id() const;
  // The address without that peer id component (and anything after it).
  Multiaddr without_peer_id() const;
  Multiaddr with_peer_id(const PeerId& id) const;

  bool operator==(const Multiaddr& other) const { return bytes_ == other.bytes_; }
  std::strong_ordering operator<=>(const Multiaddr& other) const { return bytes_ <=> other.bytes_; }

 private:
  explicit Multiaddr(std::vector<multiaddr::Component> components);
  std::optional<std::size_t> peer_id_index() const;

  std::vector<multiaddr::Component> components_;
  Bytes bytes_;  // kept in step with components_
};

}  // namespace taho

template <>
struct std::hash<taho::Multiaddr> {
  std::size_t operator()(const taho::Multiaddr& address) const noexcept {
    return std::hash<std::string_view>{}(taho::as_text(address.bytes()));
  }
};
