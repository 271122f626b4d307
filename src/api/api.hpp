// The local HTTP API's routes (DESIGN.md §7): plain request in, response out.
// The Asio driver's HttpServer carries the bytes; nothing here sees a socket.
#pragma once

#include <cstdint>
#include <string>

#include "node/network.hpp"
#include "node/node.hpp"
#include "runtime/asio/http_server.hpp"
#include "runtime/http_message.hpp"

namespace taho::api {

inline constexpr const char* kApiPrefix = "/api/v1/";

class Api {
 public:
  using Responder = runtime::asio::HttpResponder;

  // `network` may be null (tests of the routes without sockets): the
  // networking routes then answer 503.
  Api(const node::Node& node, node::Network* network, std::string token);

  // Answers one request, now or once the network has an answer. Every route
  // but /health needs "Authorization: Bearer <token>".
  void handle(const runtime::HttpRequest& request, Responder respond);

 private:
  void route(const runtime::HttpRequest& request, std::string_view path, Responder& respond);
  void connect(const runtime::HttpRequest& request, Responder respond);
  void ping(const runtime::HttpRequest& request, Responder respond);
  runtime::HttpResponse peers() const;
  runtime::HttpResponse disconnect(const runtime::HttpRequest& request);

  const node::Node& node_;
  node::Network* network_;
  std::string token_;
  std::uint64_t requests_served_ = 0;
  std::uint64_t requests_unauthorized_ = 0;
};

// A JSON error body, the shape every failing route uses: {"error": "..."}.
runtime::HttpResponse json_error(int status, const std::string& message);

}  // namespace taho::api
