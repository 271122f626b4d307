// Fuzzes Multiaddr::parse and Multiaddr::from_bytes. The first byte picks
// text or binary. Every accepted address must round-trip:
// parse(to_string(x)) == x and from_bytes(x.bytes()) == x.
#include <cstdlib>

#include "base/multiaddr.hpp"

namespace {

void check_round_trips(const taho::Multiaddr& address) {
  const std::string text = address.to_string();
  auto reparsed = taho::Multiaddr::parse(text);
  if (!reparsed || *reparsed != address || reparsed->to_string() != text) std::abort();
  auto rebinary = taho::Multiaddr::from_bytes(address.bytes());
  if (!rebinary || *rebinary != address) std::abort();
  if (address.bytes().size() > taho::multiaddr::kBytesMax) std::abort();
  for (const auto& component : address.components()) {
    auto made = taho::multiaddr::Component::make(component.protocol(), component.value_text());
    if (!made || *made != component) std::abort();
  }
  if (auto id = address.peer_id()) {
    const auto stripped = address.without_peer_id();
    if (stripped.components().size() >= address.components().size()) std::abort();
    if (taho::PeerId::parse(id->to_string()).value_or(*id) != *id) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const taho::ByteView rest(data + 1, size - 1);
  if (data[0] & 1) {
    auto address = taho::Multiaddr::parse(taho::as_text(rest));
    if (address) check_round_trips(*address);
  } else {
    auto address = taho::Multiaddr::from_bytes(rest);
    if (address) {
      if (!std::equal(address->bytes().begin(), address->bytes().end(), rest.begin(), rest.end())) std::abort();
      check_round_trips(*address);
    }
  }
  return 0;
}
