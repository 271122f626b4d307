// Fuzzes the content announcement codec (gossip topic taho/content/1 and
// the /taho/holdings/1.0.0 exchange): never crashes or reads out of
// bounds; whatever decodes stays within the limits and re-encodes to a
// message that decodes to the same announcement.
#include <cstdlib>

#include "proto/blob/announcement.hpp"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace blob = taho::blob;
  const taho::ByteView input(data, size);
  auto decoded = blob::decode_announcement(input);
  if (!decoded) return 0;
  check(decoded->entries.size() <= blob::announcement_entries_max);
  check(decoded->addrs.size() <= blob::announcement_addrs_max);
  for (const auto& addr : decoded->addrs) check(!addr.peer_id());
  const taho::Bytes again = blob::encode_announcement(*decoded);
  check(again.size() <= blob::announcement_bytes_max);
  auto round_trip = blob::decode_announcement(again);
  check(round_trip.has_value());
  check(*round_trip == *decoded);
  return 0;
}
