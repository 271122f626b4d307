// Whether the node offers a service to others (DHT server mode, rendezvous
// point): always, never, or only while AutoNAT finds it publicly reachable.
// Written `true`, `false` or "auto" in the config file.
#pragma once

#include <cstdint>
#include <string_view>

namespace taho::config {

enum class ServiceMode : std::uint8_t { automatic, on, off };

constexpr std::string_view to_string(ServiceMode mode) {
  switch (mode) {
    case ServiceMode::automatic: return "auto";
    case ServiceMode::on: return "true";
    case ServiceMode::off: return "false";
  }
  return "auto";
}

}  // namespace taho::config
