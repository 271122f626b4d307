// Which transport an address (or a connection's remote address) uses, as
// `taho peers` names it, for dialing order and per-peer memory.
#pragma once

#include <optional>
#include <string_view>

#include "base/multiaddr.hpp"

namespace taho::host {

enum class Transport : std::uint8_t { quic, tcp, websocket };

// /quic-v1 → quic; /ws or /wss → websocket; anything else over /tcp → tcp.
Transport transport_of(const Multiaddr& addr);
std::string_view to_string(Transport transport);  // "quic", "tcp", "ws"
std::optional<Transport> parse_transport(std::string_view text);

}  // namespace taho::host
