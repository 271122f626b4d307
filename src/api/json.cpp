#include "api/json.hpp"

namespace taho::api {

runtime::HttpResponse json_response(int status, const nlohmann::json& body) {
  runtime::HttpResponse response;
  response.status = status;
  response.headers["Content-Type"] = "application/json";
  response.body = body.dump() + "\n";
  return response;
}

runtime::HttpResponse json_error(int status, const std::string& message) {
  return json_response(status, nlohmann::json{{"error", message}});
}

runtime::HttpResponse method_not_allowed(std::string_view allowed) {
  auto response = json_error(405, "method not allowed; use " + std::string(allowed));
  response.headers["Allow"] = std::string(allowed);
  return response;
}

std::optional<nlohmann::json> json_body(const runtime::HttpRequest& request,
                                        const std::function<void(runtime::HttpResponse)>& respond) {
  auto body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    respond(json_error(400, "the request body must be a JSON object"));
    return std::nullopt;
  }
  return body;
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* name) {
  auto found = body.find(name);
  if (found == body.end() || !found->is_string()) return std::nullopt;
  return found->get<std::string>();
}

}  // namespace taho::api
