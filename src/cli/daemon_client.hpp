// How CLI commands reach a running daemon: its address from TAHO_HOME/api.addr,
// its token from TAHO_HOME/api.token, JSON over the local HTTP API.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "base/error.hpp"
#include "node/home.hpp"
#include "runtime/http_message.hpp"

namespace taho::cli {

class DaemonClient {
 public:
  // The daemon serving this home, or nothing when none runs (no api.addr, or
  // a stale one left by a crash that nobody answers on).
  static std::optional<DaemonClient> find(const node::Home& home);
  // The same, for commands that need a daemon: when none runs, says so on
  // stderr as "taho COMMAND: no daemon is running on ...".
  static std::optional<DaemonClient> require(const node::Home& home, std::string_view command);

  const std::string& address() const { return address_; }
  // For requests that stream (http_stream): "Bearer <token>".
  std::string authorization() const { return "Bearer " + token_; }

  // Calls the API; a non-2xx answer becomes an error carrying the daemon's message.
  Result<nlohmann::json> get(const std::string& path) const;
  Result<nlohmann::json> post(const std::string& path, const nlohmann::json& body,
                              std::uint32_t timeout_ms = 30'000) const;
  // The raw exchange, for routes that do not answer JSON.
  Result<runtime::HttpResponse> request(const std::string& method, const std::string& path,
                                        std::string body = {}, std::uint32_t timeout_ms = 30'000) const;

 private:
  DaemonClient(std::string address, std::string token) : address_(std::move(address)), token_(std::move(token)) {}
  Result<nlohmann::json> decode(Result<runtime::HttpResponse> response) const;
  std::string address_;
  std::string token_;
};

}  // namespace taho::cli
