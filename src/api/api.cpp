#include "api/api.hpp"

#include <nlohmann/json.hpp>

#include "node/api_token.hpp"

namespace taho::api {
namespace {

using runtime::HttpRequest;
using runtime::HttpResponse;

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.headers["Content-Type"] = "application/json";
  response.body = body.dump() + "\n";
  return response;
}

std::string_view path_of(std::string_view target) {
  auto query = target.find('?');
  return query == std::string_view::npos ? target : target.substr(0, query);
}

bool authorized(const HttpRequest& request, const std::string& token) {
  auto header = request.headers.find("Authorization");
  if (header == request.headers.end()) return false;
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = header->second;
  if (value.substr(0, kScheme.size()) != kScheme) return false;
  return node::token_matches(token, value.substr(kScheme.size()));
}

HttpResponse method_not_allowed(std::string_view allowed) {
  auto response = json_error(405, "method not allowed; use " + std::string(allowed));
  response.headers["Allow"] = std::string(allowed);
  return response;
}

}  // namespace

HttpResponse json_error(int status, const std::string& message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

Api::Api(const node::Node& node, std::string token) : node_(node), token_(std::move(token)) {}

HttpResponse Api::handle(const HttpRequest& request) {
  ++requests_served_;
  auto path = path_of(request.target);
  if (path == "/health") {
    if (request.method != "GET" && request.method != "HEAD") return method_not_allowed("GET");
    return json_response(200, {{"status", "ok"}});
  }
  if (!authorized(request, token_)) {
    ++requests_unauthorized_;
    auto response = json_error(401, "missing or wrong API token (send 'Authorization: Bearer <token>' "
                                    "with the token from TAHO_HOME/api.token)");
    response.headers["WWW-Authenticate"] = "Bearer";
    return response;
  }
  return route(request, path);
}

HttpResponse Api::route(const HttpRequest& request, std::string_view path) {
  if (path == "/api/v1/id") {
    if (request.method != "GET") return method_not_allowed("GET");
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto& addr : node_.listen_addrs()) addrs.push_back(addr.to_string());
    return json_response(200, {{"peer_id", node_.peer_id().to_string()},
                               {"addrs", addrs},
                               {"agent_version", node_.agent_version()}});
  }
  if (path == "/metrics") {
    if (request.method != "GET") return method_not_allowed("GET");
    HttpResponse response;
    response.headers["Content-Type"] = "text/plain; version=0.0.4";
    response.body =
        "# HELP taho_api_requests_total API requests received.\n"
        "# TYPE taho_api_requests_total counter\n"
        "taho_api_requests_total " + std::to_string(requests_served_) + "\n"
        "# HELP taho_api_requests_unauthorized_total API requests refused for a missing or wrong token.\n"
        "# TYPE taho_api_requests_unauthorized_total counter\n"
        "taho_api_requests_unauthorized_total " + std::to_string(requests_unauthorized_) + "\n";
    return response;
  }
  return json_error(404, "no such endpoint: " + std::string(path));
}

}  // namespace taho::api
