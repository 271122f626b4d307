// Arbitrary bytes from a peer into a multistream-select dialer or listener,
// in arbitrary fragments. Negotiation must end in a result or an error value,
// never a crash, and never buffer or answer without bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "proto/multistream/dialer.hpp"
#include "proto/multistream/listener.hpp"

namespace ms = taho::multistream;

namespace {

// Input: [mode byte] then chunks of [length byte][bytes...].
template <class Core>
void drive(Core& core, const std::vector<std::string>& ours, const std::uint8_t* data, std::size_t size) {
  std::size_t transmitted = 0;
  std::size_t fed = 0;
  while (size > 0) {
    const std::size_t chunk = std::min<std::size_t>(data[0], size - 1);
    const taho::ByteView piece(data + 1, chunk);
    data += 1 + chunk;
    size -= 1 + chunk;
    fed += piece.size();
    auto result = core.handle_input(piece);
    while (auto out = core.poll_transmit()) transmitted += out->size();
    // Answers are bounded by what was asked: at most one list or echo (≤ 1 KiB
    // plus prefix) per proposal, and proposals are limited.
    if (transmitted > 64 * 1024) std::abort();
    if (!result) {
      // After an error the core stays dead.
      if (core.handle_input(piece)) std::abort();
      return;
    }
    if (*result) {
      const auto& negotiated = **result;
      if (std::find(ours.begin(), ours.end(), negotiated.protocol) == ours.end()) std::abort();
      if (negotiated.leftover.size() > piece.size()) std::abort();
      return;
    }
  }
  (void)fed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::vector<std::string> protocols{"/noise", "/yamux/1.0.0", "/ipfs/ping/1.0.0"};
  if (mode & 1) {
    auto listener = ms::Listener::create(protocols, {.proposals_max = 8});
    if (!listener) std::abort();
    drive(*listener, protocols, data + 1, size - 1);
  } else {
    const bool lazy = (mode & 2) != 0;
    auto dialer = lazy ? ms::Dialer::create({protocols[2]}, {.mode = ms::DialerMode::lazy})
                       : ms::Dialer::create(protocols);
    if (!dialer) std::abort();
    while (dialer->poll_transmit()) {
    }
    drive(*dialer, protocols, data + 1, size - 1);
  }
  return 0;
}
