// /dnsaddr resolution (multiformats/multiaddr protocols/DNSADDR.md) as a
// sans-IO core: `/dnsaddr/<domain>` stands for the multiaddrs held in the
// TXT records of `_dnsaddr.<domain>`, each a string "dnsaddr=<multiaddr>".
// A record may name another /dnsaddr (bootstrap.libp2p.io does), so a
// resolution is a small tree of lookups, bounded in depth and count.
//
// Whatever follows the domain (usually /p2p/<peer id>) is a suffix the
// resolved addresses must end in: "/dnsaddr/d/p2p/QmA" keeps only QmA's
// addresses. The caller performs the TXT lookups the core asks for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"

namespace taho::dnsaddr {

inline constexpr std::string_view txt_prefix = "dnsaddr=";
inline constexpr std::string_view query_label = "_dnsaddr";

struct Limits {
  // Nested /dnsaddr levels followed below the one being resolved.
  std::size_t depth_max = 4;
  // TXT lookups in one resolution, the first included: a zone cannot make
  // us fan out (each level may list many nested names).
  std::size_t lookups_max = 32;
  // Addresses kept; more are dropped (and noted).
  std::size_t addresses_max = 64;
  // TXT strings read from one lookup's answer.
  std::size_t txt_records_per_lookup_max = 128;
  // Notes kept for the log.
  std::size_t notes_max = 32;
};

enum class TxtErrc {
  not_dnsaddr,    // no "dnsaddr=" prefix: another use of the TXT name, ignored
  bad_multiaddr,  // the prefix is there but the rest is no multiaddr
};
using TxtError = Error<TxtErrc>;

// One TXT record (its strings joined) to the multiaddr it carries.
Expected<Multiaddr, TxtError> parse_txt_record(std::string_view record);

// Whether the last components of `address` are exactly those of `suffix`
// (an empty suffix matches everything).
bool ends_with(const Multiaddr& address, const Multiaddr& suffix);

// The parts of an address that starts with /dnsaddr/<domain>.
struct DnsaddrTarget {
  std::string domain;  // "bootstrap.libp2p.io"
  Multiaddr suffix;    // what followed the domain: "/p2p/Qm..." or empty
};
std::optional<DnsaddrTarget> split_dnsaddr(const Multiaddr& address);

// "_dnsaddr.<domain>", a trailing dot of the domain dropped.
std::string query_name(std::string_view domain);

using LookupId = std::uint64_t;

struct Lookup {
  LookupId id = 0;
  std::string name;  // the TXT name to query: "_dnsaddr.<domain>"
};

// One resolution of one /dnsaddr address. Grammar: poll_lookup() for the
// next TXT query, handle_txt()/handle_failure() with its outcome, until
// finished(); then addresses() and notes().
class Resolution {
 public:
  // `address` must start with /dnsaddr (see split_dnsaddr); otherwise the
  // resolution is finished at once with a note and no address.
  explicit Resolution(const Multiaddr& address, Limits limits = {});

  std::optional<Lookup> poll_lookup();
  // The TXT records of the name, one string per record (its character
  // strings joined). Unknown ids are ignored.
  void handle_txt(LookupId id, std::span<const std::string> records);
  // The lookup failed (no such name, no answer, timeout): `reason` is noted.
  void handle_failure(LookupId id, std::string_view reason);

  // No lookup is waiting to be polled nor in flight.
  bool finished() const { return waiting_.empty() && in_flight_.empty(); }
  // Resolved addresses in the order found, without duplicates.
  const std::vector<Multiaddr>& addresses() const { return addresses_; }
  // What went wrong or was skipped on the way, one sentence each, for the
  // log: "_dnsaddr.a.org: no such name", "record \"dnsaddr=/x\" ...".
  const std::vector<std::string>& notes() const { return notes_; }
  // Lookups that failed; with no addresses this tells "DNS did not answer"
  // from "DNS answered with nothing for us".
  std::size_t failed_lookups() const { return failed_lookups_; }

 private:
  struct Pending {
    LookupId id = 0;
    std::string name;
    Multiaddr suffix;   // results must end in this
    std::size_t depth = 0;
  };

  void enqueue(const DnsaddrTarget& target, std::size_t depth);
  std::optional<Pending> take_in_flight(LookupId id);
  void note(std::string text);

  Limits limits_;
  std::vector<Pending> waiting_;
  std::vector<Pending> in_flight_;
  std::vector<std::string> names_queued_;  // each name is looked up once (zones may loop)
  LookupId next_id_ = 1;
  std::size_t lookups_started_ = 0;
  std::size_t failed_lookups_ = 0;
  bool noted_address_limit_ = false;
  std::vector<Multiaddr> addresses_;
  std::vector<std::string> notes_;
};

}  // namespace taho::dnsaddr
