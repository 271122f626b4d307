// The AutoNAT client's view of our own reachability, from the answers of
// AutoNAT servers (distinct peers):
// - public after one server confirmed a dial-back (OK);
// - private after failures_for_private distinct servers reported a failed
//   dial-back (E_DIAL_ERROR) and none succeeded since;
// - unknown until then. Refusals and bad answers teach nothing.
// It schedules probes: often while unknown or not yet confident, rarely
// once confident, and soon again when our addresses change. State is
// bounded: one latest result per server, at most servers_kept_max servers.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>

#include "base/peer_id.hpp"
#include "base/time.hpp"

namespace taho::autonat {

enum class Reachability : std::uint8_t { unknown, reachable, unreachable };
std::string_view to_string(Reachability reachability);  // "unknown", "public", "private"

// What one probe taught.
enum class ProbeOutcome : std::uint8_t {
  dialed_back,   // OK
  dial_failed,   // E_DIAL_ERROR: the server tried and could not reach us
  inconclusive,  // refused, bad request, internal error, no answer
};

struct ReachabilityOptions {
  std::size_t failures_for_private = 3;
  std::size_t confidence_max = 3;
  Duration first_probe_delay = std::chrono::seconds(1);
  // Between probes while unknown or not yet at confidence_max.
  Duration probe_interval = std::chrono::seconds(5);
  // Between probes once confident: the network may change under us.
  Duration refresh_interval = std::chrono::minutes(15);
  // A server answers again only after this (its results stay counted).
  Duration server_reuse_interval = std::chrono::minutes(1);
  std::size_t servers_kept_max = 32;
};

class ReachabilityTracker {
 public:
  explicit ReachabilityTracker(Instant now, ReachabilityOptions options = {});

  Reachability reachability() const { return reachability_; }
  // How many distinct servers agree with the current verdict (0 while unknown).
  std::size_t confidence() const { return confidence_; }

  // Whether a probe should start now.
  bool probe_due(Instant now) const { return !probing_ && now >= next_probe_; }
  Instant next_probe() const { return next_probe_; }
  // Picks the server to ask among candidates (connected peers offering
  // AutoNAT): one not asked recently, preferring one never asked.
  std::optional<PeerId> choose_server(Instant now, std::span<const PeerId> candidates) const;
  void on_probe_started(Instant now, const PeerId& server);
  // No server to ask now: try again after probe_interval.
  void on_no_server(Instant now);
  // The answer (or failure) of the probe started with on_probe_started.
  // Returns true when the verdict changed.
  bool on_probe_result(Instant now, const PeerId& server, ProbeOutcome outcome);
  // Our addresses changed: old results say nothing about the new ones.
  void on_addresses_changed(Instant now);

 private:
  struct ServerResult {
    std::optional<ProbeOutcome> outcome;  // unset while asked and not answered
    Instant asked;
  };
  void recompute();
  void schedule(Instant now);

  ReachabilityOptions options_;
  Reachability reachability_ = Reachability::unknown;
  std::size_t confidence_ = 0;
  std::map<PeerId, ServerResult> servers_;
  Instant next_probe_;
  bool probing_ = false;
};

}  // namespace taho::autonat
