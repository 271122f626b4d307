// Fuzzes the identify reader (framing, merging, message decoding) and the
// signed peer record check on what it yields: never crashes or reads out of
// bounds; feeding the same bytes whole or in fragments gives the same
// outcome; whatever decodes re-encodes to itself.
#include <cstdlib>

#include "proto/identify/envelope.hpp"
#include "proto/identify/peer_record.hpp"
#include "proto/identify/reader.hpp"

namespace {

using taho::ByteView;
namespace identify = taho::identify;

// Feeds `stream` in fragments whose sizes are drawn from `sizes`.
taho::Expected<identify::Info, identify::IdentifyError> read_in_fragments(ByteView stream, ByteView sizes) {
  identify::Reader reader;
  std::size_t next_size = 0;
  while (!stream.empty()) {
    const std::size_t size = sizes.empty() ? 1 : std::size_t{sizes[next_size++ % sizes.size()]} + 1;
    const ByteView fragment = stream.first(std::min(size, stream.size()));
    stream = stream.subspan(fragment.size());
    if (auto fed = reader.handle_data(fragment); !fed) return taho::unexpected(std::move(fed).error());
  }
  return reader.handle_end();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const ByteView input(data, size);
  // The first byte picks how many of the following bytes steer the fragment
  // sizes; the rest is the stream.
  const std::size_t steering = input.empty() ? 0 : std::min<std::size_t>(input[0] % 8, input.size() - 1);
  const ByteView sizes = input.empty() ? ByteView{} : input.subspan(1, steering);
  const ByteView stream = input.empty() ? ByteView{} : input.subspan(1 + steering);

  const auto whole = identify::read_messages(stream);
  const auto fragmented = read_in_fragments(stream, sizes);
  if (whole.has_value() != fragmented.has_value()) std::abort();
  if (!whole) {
    if (whole.error().code != fragmented.error().code) std::abort();
  } else {
    if (!(*whole == *fragmented)) std::abort();
    identify::Info info = *whole;
    info.unreadable_addrs = 0;  // skipped addresses are not re-encoded
    if (const auto again = identify::encode_message(info)) {
      const auto reread = identify::read_messages(*again);
      if (!reread || !(*reread == info)) std::abort();
    }
    if (info.signed_peer_record) {
      if (const auto record = identify::open_peer_record(*info.signed_peer_record)) {
        if (record->addresses.size() + record->unreadable_addresses > identify::record_addresses_max) std::abort();
      }
    }
  }
  // The stream itself as an envelope, too: decoding must hold up on its own.
  if (const auto envelope = identify::decode_envelope(stream)) {
    if (identify::decode_envelope(identify::encode_envelope(*envelope)).has_value() == false) std::abort();
  }
  return 0;
}
