#include "proto/gossipsub/adaptive_heartbeat.hpp"

#include <algorithm>
#include <chrono>

namespace taho::gossipsub {

namespace {
double fraction(double part, double whole) { return whole <= 0 ? 0 : std::clamp(part / whole, 0.0, 1.0); }
}  // namespace

double AdaptiveHeartbeat::measure(const AdaptiveHeartbeatParams& params, const HeartbeatSignals& signals) {
  // Each signal is scaled to [0, 1]; the worst one drives, since any of them
  // alone means the mesh is not carrying messages as it should.
  const double gossip_gap = fraction(static_cast<double>(signals.iwant_requested), static_cast<double>(signals.new_messages));
  const double broken = fraction(static_cast<double>(signals.promises_broken), static_cast<double>(signals.promises_due));
  const double deficit = std::clamp(signals.mesh_deficit, 0.0, 1.0);
  const double churn = signals.peers == 0 ? 0
                                          : fraction(static_cast<double>(signals.churn) / static_cast<double>(signals.peers),
                                                     params.churn_for_full_stress);
  const double loss = fraction(signals.link_loss, params.loss_for_full_stress);
  return std::max({gossip_gap, broken, deficit, churn, loss});
}

Duration AdaptiveHeartbeat::next_interval(Duration configured, const HeartbeatSignals& signals) {
  const double sample = measure(params_, signals);
  stress_ = std::clamp((1 - params_.smoothing) * stress_ + params_.smoothing * sample, 0.0, 1.0);
  const double factor_min = std::clamp(params_.interval_factor_min, 0.05, 1.0);
  const double factor = 1.0 - (1.0 - factor_min) * stress_;
  const auto scaled = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
      static_cast<double>(configured.count()) * factor));
  const auto rtt_floor = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
      static_cast<double>(signals.link_rtt.count()) * params_.rtt_multiple_min));
  const auto floor = std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::nano>(
      static_cast<double>(configured.count()) * factor_min));
  return std::min(configured, std::max({scaled, rtt_floor, floor}));
}

}  // namespace taho::gossipsub
