// Fuzzes /dnsaddr resolution with hostile TXT answers: the input's lines are
// the TXT records of every name looked up (so records may nest and loop).
// The resolution always finishes, within its lookup and address limits, and
// every address it keeps ends in the entry's suffix.
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "proto/dnsaddr/resolution.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> records;
  for (std::size_t start = 0; start <= input.size();) {
    const auto end = std::min(input.find('\n', start), input.size());
    records.emplace_back(input.substr(start, end - start));
    start = end + 1;
  }
  // The first line, when it is a /dnsaddr address, is the entry; else a fixed one.
  auto entry = taho::Multiaddr::parse(records.front());
  if (!entry || !taho::dnsaddr::split_dnsaddr(*entry)) entry = taho::Multiaddr::parse("/dnsaddr/a.example.org");
  const auto suffix = taho::dnsaddr::split_dnsaddr(*entry)->suffix;

  const taho::dnsaddr::Limits limits;
  taho::dnsaddr::Resolution resolution(*entry, limits);
  std::size_t lookups = 0;
  while (auto lookup = resolution.poll_lookup()) {
    if (++lookups > limits.lookups_max) std::abort();
    if (lookups % 5 == 0) {
      resolution.handle_failure(lookup->id, "timeout");
    } else {
      resolution.handle_txt(lookup->id, records);
    }
  }
  if (!resolution.finished()) std::abort();
  if (resolution.addresses().size() > limits.addresses_max) std::abort();
  if (resolution.notes().size() > limits.notes_max) std::abort();
  for (const auto& address : resolution.addresses()) {
    if (!taho::dnsaddr::ends_with(address, suffix) || taho::dnsaddr::split_dnsaddr(address)) std::abort();
  }
  return 0;
}
