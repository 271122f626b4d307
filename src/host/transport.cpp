#include "host/transport.hpp"

namespace taho::host {

Transport transport_of(const Multiaddr& addr) {
  if (addr.has(multiaddr::Protocol::quic_v1)) return Transport::quic;
  if (addr.has(multiaddr::Protocol::ws) || addr.has(multiaddr::Protocol::wss)) return Transport::websocket;
  return Transport::tcp;
}

std::string_view to_string(Transport transport) {
  switch (transport) {
    case Transport::quic: return "quic";
    case Transport::tcp: return "tcp";
    case Transport::websocket: return "ws";
  }
  return "tcp";
}

std::optional<Transport> parse_transport(std::string_view text) {
  if (text == "quic") return Transport::quic;
  if (text == "tcp") return Transport::tcp;
  if (text == "ws") return Transport::websocket;
  return std::nullopt;
}

}  // namespace taho::host
