// JSON helpers every route of the local API shares: one shape for bodies
// and errors ({"error": "..."}), one way to read request fields.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/http_message.hpp"

namespace taho::api {

runtime::HttpResponse json_response(int status, const nlohmann::json& body);
// A JSON error body, the shape every failing route uses: {"error": "..."}.
runtime::HttpResponse json_error(int status, const std::string& message);
runtime::HttpResponse method_not_allowed(std::string_view allowed);
// The request's body as a JSON object; answers 400 itself otherwise.
std::optional<nlohmann::json> json_body(const runtime::HttpRequest& request,
                                        const std::function<void(runtime::HttpResponse)>& respond);
std::optional<std::string> string_field(const nlohmann::json& body, const char* name);

}  // namespace taho::api
