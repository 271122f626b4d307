#include "cli/daemon_client.hpp"

#include <fstream>
#include <iostream>

#include "node/api_token.hpp"
#include "runtime/asio/http_client.hpp"

namespace taho::cli {
namespace {

std::optional<std::string> read_first_line(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line) || line.empty()) return std::nullopt;
  return line;
}

constexpr std::uint32_t kProbeTimeoutMs = 2'000;

}  // namespace

std::optional<DaemonClient> DaemonClient::find(const node::Home& home) {
  auto address = read_first_line(home.api_addr());
  if (!address) return std::nullopt;
  auto token = node::read_api_token(home.api_token());
  if (!token) return std::nullopt;
  DaemonClient client(*address, *token);
  // A crashed daemon leaves api.addr behind; only a live answer counts.
  auto health = client.request("GET", "/health", {}, kProbeTimeoutMs);
  if (!health || health->status != 200) return std::nullopt;
  return client;
}

std::optional<DaemonClient> DaemonClient::require(const node::Home& home, std::string_view command) {
  auto daemon = find(home);
  if (!daemon) {
    std::cerr << "taho " << command << ": no daemon is running on " << home.data_dir.string()
              << " (start one with `taho daemon`)\n";
  }
  return daemon;
}

Result<runtime::HttpResponse> DaemonClient::request(const std::string& method, const std::string& path,
                                                    std::string body, std::uint32_t timeout_ms) const {
  runtime::HttpRequest request;
  request.method = method;
  request.target = path;
  request.headers["Authorization"] = "Bearer " + token_;
  if (!body.empty()) request.headers["Content-Type"] = "application/json";
  request.body = std::move(body);
  runtime::asio::HttpClientOptions options;
  options.timeout_ms = timeout_ms;
  auto response = runtime::asio::http_request(address_, request, options);
  if (!response) return fail("daemon at " + address_ + ": " + response.error().detail);
  return std::move(*response);
}

Result<nlohmann::json> DaemonClient::decode(Result<runtime::HttpResponse> response) const {
  if (!response) return fail(response.error().text);
  auto body = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (response->status < 200 || response->status >= 300) {
    std::string message = body.is_object() && body.contains("error") && body["error"].is_string()
                              ? body["error"].get<std::string>()
                              : "HTTP " + std::to_string(response->status);
    return fail(message);
  }
  if (body.is_discarded()) return fail("daemon at " + address_ + " answered something that is not JSON");
  return body;
}

Result<nlohmann::json> DaemonClient::get(const std::string& path) const {
  return decode(request("GET", path));
}

Result<nlohmann::json> DaemonClient::post(const std::string& path, const nlohmann::json& body,
                                          std::uint32_t timeout_ms) const {
  return decode(request("POST", path, body.dump(), timeout_ms));
}

}  // namespace taho::cli
