// The adaptive heartbeat: when the router measures trouble, heartbeats come
// faster (down to interval_factor_min × the configured interval), so mesh
// holes are re-grafted and missed messages are re-announced by IHAVE sooner;
// when trouble passes the interval returns to the configured one.
//
// Why these bounds: the configured interval is the ceiling because peers
// (js, go) are tuned for it and a slower heartbeat only repairs later. The
// floor is 0.5× because every heartbeat costs IHAVE traffic to D_lazy peers
// and mesh churn, so halving at most doubles that overhead; and because a
// heartbeat is never allowed under rtt_multiple_min × the median mesh RTT,
// so GRAFTs and IWANTs have time to be answered before the next round.
// The message cache shift, seen-cache expiry and per-heartbeat gossip
// budgets stay on the configured interval (the router runs them by time),
// so a faster heartbeat does not shorten how long messages stay retrievable.
#pragma once

#include <cstddef>

#include "base/time.hpp"

namespace taho::gossipsub {

struct AdaptiveHeartbeatParams {
  double interval_factor_min = 0.5;
  double smoothing = 0.3;               // weight of the newest measurement (EWMA)
  double loss_for_full_stress = 0.2;    // reported link loss that counts as the worst case
  double churn_for_full_stress = 0.25;  // peers lost per heartbeat, per known peer
  double rtt_multiple_min = 4;          // interval >= this × median mesh RTT
};

// What the router measured over the last heartbeat.
struct HeartbeatSignals {
  std::size_t new_messages = 0;     // first seen this heartbeat, by any route
  std::size_t iwant_requested = 0;  // of those, asked for by IWANT after an IHAVE (the mesh missed them)
  std::size_t promises_due = 0;     // IWANT promises kept or whose deadline passed
  std::size_t promises_broken = 0;  // of those, never kept
  double mesh_deficit = 0;          // worst (D_low - |mesh|) / D_low over our topics, 0 when none is short
  std::size_t churn = 0;            // peers removed (connections lost)
  std::size_t peers = 0;            // peers known at the start of the heartbeat (at least D)
  double link_loss = 0;             // mean reported loss of mesh peers
  Duration link_rtt{0};             // median reported RTT of mesh peers, 0 if unknown
};

class AdaptiveHeartbeat {
 public:
  explicit AdaptiveHeartbeat(AdaptiveHeartbeatParams params = {}) : params_(params) {}
  // Folds in one heartbeat's signals; returns the interval until the next.
  Duration next_interval(Duration configured, const HeartbeatSignals& signals);
  // Smoothed stress in [0, 1]: 0 calm, 1 as bad as measured can get.
  double stress() const { return stress_; }
  // The stress one heartbeat's signals alone indicate (the worst signal).
  static double measure(const AdaptiveHeartbeatParams& params, const HeartbeatSignals& signals);

 private:
  AdaptiveHeartbeatParams params_;
  double stress_ = 0;
};

}  // namespace taho::gossipsub
