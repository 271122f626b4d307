// The local HTTP API's routes (DESIGN.md §7): plain request in, response out.
// The Asio driver's HttpServer carries the bytes; nothing here sees a socket.
#pragma once

#include <cstdint>
#include <string>

#include "node/node.hpp"
#include "runtime/http_message.hpp"

namespace taho::api {

inline constexpr const char* kApiPrefix = "/api/v1/";

class Api {
 public:
  Api(const node::Node& node, std::string token);

  // Answers one request. Every route but /health needs "Authorization: Bearer <token>".
  runtime::HttpResponse handle(const runtime::HttpRequest& request);

 private:
  runtime::HttpResponse route(const runtime::HttpRequest& request, std::string_view path);

  const node::Node& node_;
  std::string token_;
  std::uint64_t requests_served_ = 0;
  std::uint64_t requests_unauthorized_ = 0;
};

// A JSON error body, the shape every failing route uses: {"error": "..."}.
runtime::HttpResponse json_error(int status, const std::string& message);

}  // namespace taho::api
