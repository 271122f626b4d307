// The local HTTP API's routes (DESIGN.md §7): plain request in, response out.
// The Asio driver's HttpServer carries the bytes; nothing here sees a socket.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/json.hpp"
#include "node/network.hpp"
#include "node/node.hpp"
#include "runtime/asio/http_server.hpp"
#include "runtime/http_message.hpp"

namespace taho::api {

class ContentRoutes;
class MeshRoutes;
class EventRoutes;

inline constexpr const char* kApiPrefix = "/api/v1/";

class Api {
 public:
  using Responder = runtime::asio::HttpResponder;

  // `network` may be null (tests of the routes without sockets): the
  // networking routes then answer 503.
  Api(const node::Node& node, node::Network* network, std::string token);

  // Routes under /api/v1/content; without them those paths answer 404.
  void set_content_routes(ContentRoutes* routes) { content_ = routes; }
  // Routes under /api/v1/mesh, /api/v1/dht and /api/v1/events.
  void set_mesh_routes(MeshRoutes* routes) { mesh_ = routes; }
  void set_event_routes(EventRoutes* routes) { events_ = routes; }

  // Answers one request, now or once the network has an answer. Every route
  // but /health needs "Authorization: Bearer <token>".
  void handle(const runtime::HttpRequest& request, Responder respond);

 private:
  void route(const runtime::HttpRequest& request, std::string_view path, Responder& respond);
  void connect(const runtime::HttpRequest& request, Responder respond);
  void ping(const runtime::HttpRequest& request, Responder respond);
  void perf(const runtime::HttpRequest& request, Responder respond);
  void echo(const runtime::HttpRequest& request, Responder respond);
  // Calls `then` with the peer named by "peer", or by "addr" once connected;
  // answers 400/502 itself otherwise.
  void with_peer(const nlohmann::json& body, const Responder& respond, std::function<void(const PeerId&)> then);
  runtime::HttpResponse peers() const;
  runtime::HttpResponse disconnect(const runtime::HttpRequest& request);

  const node::Node& node_;
  node::Network* network_;
  ContentRoutes* content_ = nullptr;
  MeshRoutes* mesh_ = nullptr;
  EventRoutes* events_ = nullptr;
  std::string token_;
  std::uint64_t requests_served_ = 0;
  std::uint64_t requests_unauthorized_ = 0;
};


}  // namespace taho::api
