#include "base/multiaddr.hpp"

#include <algorithm>
#include <array>

#include "base/varint.hpp"

namespace taho {
namespace multiaddr {
namespace {

// How a protocol's value is written, in binary and in text.
enum class ValueKind { none, ip4, ip6, port, dns_name, peer_id };

struct ProtocolInfo {
  Protocol protocol;
  std::string_view name;
  ValueKind kind;
};

constexpr std::array kProtocols = {
    ProtocolInfo{Protocol::ip4, "ip4", ValueKind::ip4},
    ProtocolInfo{Protocol::tcp, "tcp", ValueKind::port},
    ProtocolInfo{Protocol::ip6, "ip6", ValueKind::ip6},
    ProtocolInfo{Protocol::dns, "dns", ValueKind::dns_name},
    ProtocolInfo{Protocol::dns4, "dns4", ValueKind::dns_name},
    ProtocolInfo{Protocol::dns6, "dns6", ValueKind::dns_name},
    ProtocolInfo{Protocol::dnsaddr, "dnsaddr", ValueKind::dns_name},
    ProtocolInfo{Protocol::udp, "udp", ValueKind::port},
    ProtocolInfo{Protocol::p2p_circuit, "p2p-circuit", ValueKind::none},
    ProtocolInfo{Protocol::p2p, "p2p", ValueKind::peer_id},
    ProtocolInfo{Protocol::tls, "tls", ValueKind::none},
    ProtocolInfo{Protocol::quic, "quic", ValueKind::none},
    ProtocolInfo{Protocol::quic_v1, "quic-v1", ValueKind::none},
    ProtocolInfo{Protocol::ws, "ws", ValueKind::none},
    ProtocolInfo{Protocol::wss, "wss", ValueKind::none},
};

constexpr std::size_t kIp4Bytes = 4;
constexpr std::size_t kIp6Bytes = 16;
constexpr std::size_t kPortBytes = 2;
constexpr std::size_t kIp6Groups = 8;
constexpr std::size_t kQuotedTextCharsMax = 200;  // keeps error details short

const ProtocolInfo* find(std::uint64_t code) {
  for (const auto& info : kProtocols) {
    if (static_cast<std::uint64_t>(info.protocol) == code) return &info;
  }
  return nullptr;
}

const ProtocolInfo& info_of(Protocol protocol) {
  const ProtocolInfo* info = find(static_cast<std::uint64_t>(protocol));
  if (info == nullptr) __builtin_trap();  // every enumerator is in the table
  return *info;
}

// ---- values: text <-> bytes ----

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Dotted-quad IPv4; no leading zeros (they read as octal in some parsers).
std::optional<std::array<std::uint8_t, kIp4Bytes>> parse_ip4(std::string_view text) {
  std::array<std::uint8_t, kIp4Bytes> out{};
  for (std::size_t i = 0; i < kIp4Bytes; ++i) {
    const std::size_t dot = text.find('.');
    const std::string_view part = i + 1 < kIp4Bytes ? text.substr(0, dot) : text;
    if (i + 1 < kIp4Bytes && dot == std::string_view::npos) return std::nullopt;
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0')) return std::nullopt;
    unsigned value = 0;
    for (char c : part) {
      if (!is_digit(c)) return std::nullopt;
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 255) return std::nullopt;
    out[i] = static_cast<std::uint8_t>(value);
    if (i + 1 < kIp4Bytes) text.remove_prefix(dot + 1);
  }
  return out;
}

std::string ip4_text(ByteView bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i > 0) out += '.';
    out += std::to_string(bytes[i]);
  }
  return out;
}

// Parses ':'-separated hex groups (1-4 digits each) into `groups`; the very
// last group may be a dotted IPv4 address when `allow_ip4_tail`.
bool parse_ip6_groups(std::string_view text, bool allow_ip4_tail, std::vector<std::uint16_t>& groups) {
  if (text.empty()) return true;
  while (true) {
    const std::size_t colon = text.find(':');
    const std::string_view group = text.substr(0, colon);
    if (colon == std::string_view::npos && allow_ip4_tail && group.find('.') != std::string_view::npos) {
      const auto ip4 = parse_ip4(group);
      if (!ip4) return false;
      groups.push_back(static_cast<std::uint16_t>((*ip4)[0] << 8 | (*ip4)[1]));
      groups.push_back(static_cast<std::uint16_t>((*ip4)[2] << 8 | (*ip4)[3]));
      return true;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned value = 0;
    for (char c : group) {
      const int digit = hex_digit(c);
      if (digit < 0) return false;
      value = value << 4 | static_cast<unsigned>(digit);
    }
    groups.push_back(static_cast<std::uint16_t>(value));
    if (groups.size() > kIp6Groups) return false;
    if (colon == std::string_view::npos) return true;
    text.remove_prefix(colon + 1);
  }
}

// RFC 4291 §2.2 text forms: full, "::"-compressed, and IPv4-suffixed.
std::optional<std::array<std::uint8_t, kIp6Bytes>> parse_ip6(std::string_view text) {
  std::vector<std::uint16_t> head;
  std::vector<std::uint16_t> tail;
  const std::size_t gap = text.find("::");
  if (gap == std::string_view::npos) {
    if (!parse_ip6_groups(text, true, head) || head.size() != kIp6Groups) return std::nullopt;
  } else {
    const std::string_view after = text.substr(gap + 2);
    if (after.find("::") != std::string_view::npos) return std::nullopt;
    if (!parse_ip6_groups(text.substr(0, gap), false, head)) return std::nullopt;
    if (!parse_ip6_groups(after, true, tail)) return std::nullopt;
    if (head.size() + tail.size() >= kIp6Groups) return std::nullopt;  // "::" stands for >= 1 group
  }
  std::array<std::uint16_t, kIp6Groups> all{};
  std::copy(head.begin(), head.end(), all.begin());
  std::copy(tail.begin(), tail.end(), all.end() - static_cast<std::ptrdiff_t>(tail.size()));
  std::array<std::uint8_t, kIp6Bytes> out{};
  for (std::size_t i = 0; i < kIp6Groups; ++i) {
    out[2 * i] = static_cast<std::uint8_t>(all[i] >> 8);
    out[2 * i + 1] = static_cast<std::uint8_t>(all[i] & 0xff);
  }
  return out;
}

// RFC 5952 canonical text: lowercase, no leading zeros, the longest run
// (first on ties) of two or more zero groups as "::", and IPv4-mapped
// addresses as ::ffff:a.b.c.d.
std::string ip6_text(ByteView bytes) {
  std::array<unsigned, kIp6Groups> groups{};
  for (std::size_t i = 0; i < kIp6Groups; ++i) groups[i] = unsigned{bytes[2 * i]} << 8 | bytes[2 * i + 1];

  const bool ip4_mapped = std::all_of(groups.begin(), groups.begin() + 5, [](unsigned g) { return g == 0; }) &&
                          groups[5] == 0xffff;
  if (ip4_mapped) return "::ffff:" + ip4_text(bytes.subspan(12));

  std::size_t best_start = kIp6Groups;
  std::size_t best_length = 1;  // runs of one zero group are not compressed
  for (std::size_t i = 0; i < kIp6Groups;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < kIp6Groups && groups[end] == 0) ++end;
    if (end - i > best_length) {
      best_start = i;
      best_length = end - i;
    }
    i = end;
  }

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < kIp6Groups; ++i) {
    if (i == best_start) {
      out += "::";
      i += best_length - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const unsigned nibble = (groups[i] >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        out += kHex[nibble];
        started = true;
      }
    }
  }
  return out;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (!is_digit(c)) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > 65535) return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// Names travel as UTF-8; we refuse what cannot survive the text form ('/')
// or has no business in a host name (controls, spaces).
bool is_valid_dns_name(ByteView name) {
  if (name.empty() || name.size() > kDnsNameBytesMax) return false;
  return std::none_of(name.begin(), name.end(), [](std::uint8_t c) { return c == '/' || c <= 0x20 || c == 0x7f; });
}

std::string quoted(std::string_view text) {
  if (text.size() <= kQuotedTextCharsMax) return std::string(text);
  return std::string(text.substr(0, kQuotedTextCharsMax)) + "...";
}

MultiaddrError error(Errc code, std::string what, std::string_view where) {
  return {code, std::move(what) + " at " + quoted(where)};
}

// Parses one text value for `info`; `what` names it in errors.
Expected<Bytes, std::string> value_from_text(const ProtocolInfo& info, std::string_view text) {
  const std::string label = "'" + quoted(text) + "' for /" + std::string(info.name);
  switch (info.kind) {
    case ValueKind::none:
      if (!text.empty()) return unexpected("unexpected value " + label);
      return Bytes{};
    case ValueKind::ip4: {
      const auto address = parse_ip4(text);
      if (!address) return unexpected("bad IPv4 address " + label);
      return Bytes(address->begin(), address->end());
    }
    case ValueKind::ip6: {
      const auto address = parse_ip6(text);
      if (!address) return unexpected("bad IPv6 address " + label);
      return Bytes(address->begin(), address->end());
    }
    case ValueKind::port: {
      const auto port = parse_port(text);
      if (!port) return unexpected("bad port " + label + " (0..65535)");
      return Bytes{static_cast<std::uint8_t>(*port >> 8), static_cast<std::uint8_t>(*port & 0xff)};
    }
    case ValueKind::dns_name:
      if (!is_valid_dns_name(as_bytes(text))) return unexpected("bad DNS name " + label);
      return to_bytes(text);
    case ValueKind::peer_id: {
      auto id = PeerId::parse(text);
      if (!id) return unexpected("bad peer id " + label + ": " + id.error().detail);
      return id->bytes();
    }
  }
  __builtin_trap();
}

}  // namespace

std::string_view name(Protocol protocol) { return info_of(protocol).name; }

std::optional<Protocol> protocol_from_name(std::string_view name) {
  if (name == "ipfs") return Protocol::p2p;  // the old name of /p2p
  for (const auto& info : kProtocols) {
    if (info.name == name) return info.protocol;
  }
  return std::nullopt;
}

Expected<Component, MultiaddrError> Component::make(Protocol protocol, std::string_view value_text) {
  const ProtocolInfo* info = find(static_cast<std::uint64_t>(protocol));
  if (info == nullptr) {
    return unexpected(MultiaddrError{Errc::unknown_protocol,
                                     "unknown protocol code " + std::to_string(static_cast<std::uint32_t>(protocol))});
  }
  if (info->kind != ValueKind::none && value_text.empty()) {
    return unexpected(MultiaddrError{Errc::missing_value, "/" + std::string(info->name) + " needs a value"});
  }
  auto value = value_from_text(*info, value_text);
  if (!value) return unexpected(MultiaddrError{Errc::bad_value, std::move(value).error()});
  return Component(protocol, std::move(*value));
}

std::string Component::value_text() const {
  switch (info_of(protocol_).kind) {
    case ValueKind::none: return {};
    case ValueKind::ip4: return ip4_text(value_);
    case ValueKind::ip6: return ip6_text(value_);
    case ValueKind::port: return std::to_string(*port());
    case ValueKind::dns_name: return std::string(as_text(value_));
    case ValueKind::peer_id: {
      auto id = PeerId::from_bytes(value_);
      if (!id) __builtin_trap();  // checked when the component was made
      return id->to_string();
    }
  }
  __builtin_trap();
}

std::optional<std::uint16_t> Component::port() const {
  if (info_of(protocol_).kind != ValueKind::port) return std::nullopt;
  return static_cast<std::uint16_t>(value_[0] << 8 | value_[1]);
}

}  // namespace multiaddr

using multiaddr::Component;
using multiaddr::Errc;
using multiaddr::Protocol;
using multiaddr::ValueKind;

namespace {

// A component's binary form: code varint, then the value, length-prefixed
// for the variable-size kinds.
bool is_length_prefixed(Protocol protocol) {
  const ValueKind kind = multiaddr::info_of(protocol).kind;
  return kind == ValueKind::dns_name || kind == ValueKind::peer_id;
}

void append_component(Bytes& out, const Component& component) {
  varint::encode(static_cast<std::uint64_t>(component.protocol()), out);
  if (is_length_prefixed(component.protocol())) varint::encode(component.value().size(), out);
  append(out, component.value());
}

std::size_t encoded_size(const Component& component) {
  std::size_t size = varint::encoded_length(static_cast<std::uint64_t>(component.protocol())) + component.value().size();
  if (is_length_prefixed(component.protocol())) size += varint::encoded_length(component.value().size());
  return size;
}

}  // namespace

Multiaddr::Multiaddr(std::vector<Component> components) : components_(std::move(components)) {
  for (const auto& component : components_) append_component(bytes_, component);
}

Expected<Multiaddr, MultiaddrError> Multiaddr::parse(std::string_view text) {
  using multiaddr::error;
  if (text.empty()) return unexpected(MultiaddrError{Errc::empty, "empty multiaddr"});
  if (text.size() > multiaddr::kTextCharsMax) {
    return unexpected(MultiaddrError{Errc::too_long, "multiaddr text of " + std::to_string(text.size()) +
                                                         " characters is over the limit of " +
                                                         std::to_string(multiaddr::kTextCharsMax)});
  }
  if (text.front() != '/') return unexpected(error(Errc::bad_syntax, "multiaddr must start with '/'", text));
  // One trailing slash is tolerated ("/ip4/1.2.3.4/tcp/1/"), as go-multiaddr does.
  std::string_view rest = text.substr(1);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return unexpected(error(Errc::empty, "multiaddr has no components", text));
  if (rest.back() == '/') return unexpected(error(Errc::bad_syntax, "empty component", text));

  const auto next_part = [&rest]() {
    const std::size_t slash = rest.find('/');
    const std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    return part;
  };

  std::vector<Component> components;
  std::size_t bytes = 0;
  while (!rest.empty() || components.empty()) {
    const std::string_view name = next_part();
    if (name.empty()) return unexpected(error(Errc::bad_syntax, "empty protocol name", text));
    const auto protocol = multiaddr::protocol_from_name(name);
    if (!protocol) return unexpected(error(Errc::unknown_protocol, "unknown protocol '" + multiaddr::quoted(name) + "'", text));
    const auto& info = multiaddr::info_of(*protocol);
    std::string_view value_text;
    if (info.kind != ValueKind::none) {
      if (rest.empty()) return unexpected(error(Errc::missing_value, "/" + std::string(info.name) + " needs a value", text));
      value_text = next_part();
      if (value_text.empty()) {
        return unexpected(error(Errc::missing_value, "/" + std::string(info.name) + " has an empty value", text));
      }
    }
    auto value = multiaddr::value_from_text(info, value_text);
    if (!value) return unexpected(error(Errc::bad_value, std::move(value).error(), text));
    components.push_back(Component(*protocol, std::move(*value)));
    bytes += encoded_size(components.back());
    if (bytes > multiaddr::kBytesMax) {
      return unexpected(error(Errc::too_long, "multiaddr over " + std::to_string(multiaddr::kBytesMax) + " bytes", text));
    }
  }
  return Multiaddr(std::move(components));
}

Expected<Multiaddr, MultiaddrError> Multiaddr::from_bytes(ByteView binary) {
  if (binary.empty()) return unexpected(MultiaddrError{Errc::empty, "empty multiaddr"});
  if (binary.size() > multiaddr::kBytesMax) {
    return unexpected(MultiaddrError{Errc::too_long, "multiaddr of " + std::to_string(binary.size()) +
                                                         " bytes is over the limit of " +
                                                         std::to_string(multiaddr::kBytesMax)});
  }
  const auto at = [&binary](ByteView rest) { return " at byte " + std::to_string(binary.size() - rest.size()); };
  const auto varint_error = [&](const varint::VarintError& failure, const char* what, ByteView rest) {
    const Errc code = failure.code == varint::Errc::truncated ? Errc::truncated : Errc::bad_varint;
    return MultiaddrError{code, std::string(what) + ": " + failure.detail + at(rest)};
  };

  std::vector<Component> components;
  ByteView rest = binary;
  while (!rest.empty()) {
    const auto code = varint::decode(rest);
    if (!code) return unexpected(varint_error(code.error(), "protocol code", rest));
    const auto* info = multiaddr::find(code->value);
    if (info == nullptr) {
      return unexpected(MultiaddrError{Errc::unknown_protocol, "unknown protocol code " + std::to_string(code->value) + at(rest)});
    }
    rest = rest.subspan(code->length);

    std::size_t value_length = 0;
    switch (info->kind) {
      case ValueKind::none: value_length = 0; break;
      case ValueKind::ip4: value_length = multiaddr::kIp4Bytes; break;
      case ValueKind::ip6: value_length = multiaddr::kIp6Bytes; break;
      case ValueKind::port: value_length = multiaddr::kPortBytes; break;
      case ValueKind::dns_name:
      case ValueKind::peer_id: {
        const auto length = varint::decode(rest);
        if (!length) return unexpected(varint_error(length.error(), "value length", rest));
        if (length->value > rest.size() - length->length) {
          return unexpected(MultiaddrError{Errc::truncated, "/" + std::string(info->name) + " value of " +
                                                                std::to_string(length->value) +
                                                                " bytes runs past the end" + at(rest)});
        }
        if (length->value == 0) {
          return unexpected(MultiaddrError{Errc::missing_value, "/" + std::string(info->name) + " has an empty value" + at(rest)});
        }
        rest = rest.subspan(length->length);
        value_length = static_cast<std::size_t>(length->value);
        break;
      }
    }
    if (rest.size() < value_length) {
      return unexpected(MultiaddrError{Errc::truncated, "/" + std::string(info->name) + " needs " +
                                                            std::to_string(value_length) + " value bytes" + at(rest)});
    }
    const ByteView value = rest.first(value_length);
    if (info->kind == ValueKind::dns_name && !multiaddr::is_valid_dns_name(value)) {
      return unexpected(MultiaddrError{Errc::bad_value, "bad DNS name for /" + std::string(info->name) + at(rest)});
    }
    if (info->kind == ValueKind::peer_id) {
      if (auto id = PeerId::from_bytes(value); !id) {
        return unexpected(MultiaddrError{Errc::bad_value, "bad peer id for /p2p: " + id.error().detail + at(rest)});
      }
    }
    components.push_back(Component(info->protocol, Bytes(value.begin(), value.end())));
    rest = rest.subspan(value_length);
  }
  Multiaddr address(std::move(components));
  // Re-encoding must give the input back; it does unless a varint was
  // non-minimal, which varint::decode already refuses.
  if (address.bytes_.size() != binary.size()) __builtin_trap();
  return address;
}

std::string Multiaddr::to_string() const {
  if (components_.empty()) return "/";
  std::string out;
  for (const auto& component : components_) {
    out += '/';
    out += component.name();
    if (!component.value().empty()) {
      out += '/';
      out += component.value_text();
    }
  }
  return out;
}

bool Multiaddr::has(Protocol protocol) const {
  return std::any_of(components_.begin(), components_.end(),
                     [protocol](const Component& c) { return c.protocol() == protocol; });
}

Multiaddr Multiaddr::encapsulate(const Multiaddr& inner) const {
  std::vector<Component> components = components_;
  components.insert(components.end(), inner.components_.begin(), inner.components_.end());
  return Multiaddr(std::move(components));
}

Multiaddr Multiaddr::append(const Component& component) const {
  std::vector<Component> components = components_;
  components.push_back(component);
  return Multiaddr(std::move(components));
}

Multiaddr Multiaddr::decapsulate(Protocol protocol) const {
  for (std::size_t i = components_.size(); i-- > 0;) {
    if (components_[i].protocol() == protocol) {
      return Multiaddr(std::vector<Component>(components_.begin(), components_.begin() + static_cast<std::ptrdiff_t>(i)));
    }
  }
  return *this;
}

std::optional<std::size_t> Multiaddr::peer_id_index() const {
  std::optional<std::size_t> index;
  for (std::size_t i = 0; i < components_.size(); ++i) {
    if (components_[i].protocol() == Protocol::p2p) index = i;
    if (components_[i].protocol() == Protocol::p2p_circuit) index.reset();
  }
  return index;
}

std::optional<PeerId> Multiaddr::peer_id() const {
  const auto index = peer_id_index();
  if (!index) return std::nullopt;
  auto id = PeerId::from_bytes(components_[*index].value());
  if (!id) __builtin_trap();  // checked when the component was made
  return std::move(*id);
}

Multiaddr Multiaddr::without_peer_id() const {
  const auto index = peer_id_index();
  if (!index) return *this;
  return Multiaddr(std::vector<Component>(components_.begin(), components_.begin() + static_cast<std::ptrdiff_t>(*index)));
}

Multiaddr Multiaddr::with_peer_id(const PeerId& id) const {
  return append(Component(Protocol::p2p, id.bytes()));
}

}  // namespace taho
