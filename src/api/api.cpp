#include "api/api.hpp"

#include "api/content_routes.hpp"
#include "api/json.hpp"
#include "api/event_routes.hpp"
#include "api/mesh_routes.hpp"

#include <nlohmann/json.hpp>

#include "node/api_token.hpp"

namespace taho::api {
namespace {

using runtime::HttpRequest;
using runtime::HttpResponse;


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


}  // namespace


Api::Api(const node::Node& node, node::Network* network, std::string token)
    : node_(node), network_(network), token_(std::move(token)) {}

void Api::handle(const HttpRequest& request, Responder respond) {
  ++requests_served_;
  auto path = path_of(request.target);
  if (path == "/health") {
    if (request.method != "GET" && request.method != "HEAD") return respond(method_not_allowed("GET"));
    return respond(json_response(200, {{"status", "ok"}}));
  }
  if (!authorized(request, token_)) {
    ++requests_unauthorized_;
    auto response = json_error(401, "missing or wrong API token (send 'Authorization: Bearer <token>' "
                                    "with the token from TAHO_HOME/api.token)");
    response.headers["WWW-Authenticate"] = "Bearer";
    return respond(std::move(response));
  }
  route(request, path, respond);
}

namespace {

// The JSON object in a POST body, or a 400 answer saying what is wrong.


// A non-negative integer field, `fallback` when absent; nullopt when malformed.
std::optional<std::uint64_t> count_field(const nlohmann::json& body, const char* name, std::uint64_t fallback) {
  auto found = body.find(name);
  if (found == body.end()) return fallback;
  if (!found->is_number_unsigned()) return std::nullopt;
  return found->get<std::uint64_t>();
}

double megabits_per_second(std::uint64_t bytes, double seconds) {
  return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds / 1e6 : 0.0;
}

double to_ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

}  // namespace

void Api::route(const HttpRequest& request, std::string_view path, Responder& respond) {
  if (content_ && content_->handle(request, path, respond)) return;
  if (mesh_ && mesh_->handle(request, path, respond)) return;
  if (events_ && events_->handle(request, path, respond)) return;
  if (path == "/api/v1/id") {
    if (request.method != "GET") return respond(method_not_allowed("GET"));
    nlohmann::json addrs = nlohmann::json::array();
    for (const auto& addr : node_.listen_addrs()) addrs.push_back(addr.to_string());
    return respond(json_response(200, {{"peer_id", node_.peer_id().to_string()},
                                       {"addrs", addrs},
                                       {"agent_version", node_.agent_version()}}));
  }
  if (path == "/metrics") {
    if (request.method != "GET") return respond(method_not_allowed("GET"));
    HttpResponse response;
    response.headers["Content-Type"] = "text/plain; version=0.0.4";
    response.body =
        "# HELP taho_api_requests_total API requests received.\n"
        "# TYPE taho_api_requests_total counter\n"
        "taho_api_requests_total " + std::to_string(requests_served_) + "\n"
        "# HELP taho_api_requests_unauthorized_total API requests refused for a missing or wrong token.\n"
        "# TYPE taho_api_requests_unauthorized_total counter\n"
        "taho_api_requests_unauthorized_total " + std::to_string(requests_unauthorized_) + "\n";
    if (network_) {
      response.body +=
          "# HELP taho_connections Open connections (all stages).\n"
          "# TYPE taho_connections gauge\n"
          "taho_connections " + std::to_string(network_->connection_count()) + "\n";
      const auto& content = network_->host().content().stats();
      const auto counter = [&response](std::string_view name, std::string_view help, std::uint64_t value) {
        response.body += "# HELP " + std::string(name) + " " + std::string(help) + "\n# TYPE " + std::string(name) +
                         " counter\n" + std::string(name) + " " + std::to_string(value) + "\n";
      };
      counter("taho_content_served_bytes_total", "Content transfer bytes sent to peers.", content.bytes_served);
      counter("taho_content_fetched_bytes_total", "Content transfer bytes received from peers.",
              content.bytes_fetched);
      counter("taho_content_bad_groups_total", "Groups from holders that failed verification.", content.bad_groups);
      counter("taho_content_fetches_finished_total", "Fetches that completed.", content.fetches_finished);
      counter("taho_content_fetches_failed_total", "Fetches that failed.", content.fetches_failed);
    }
    return respond(std::move(response));
  }
  const bool networking = path == "/api/v1/peers" || path == "/api/v1/connect" || path == "/api/v1/disconnect" ||
                          path == "/api/v1/ping" || path == "/api/v1/perf" || path == "/api/v1/echo";
  if (networking && !network_) return respond(json_error(503, "networking is not running"));
  if (path == "/api/v1/peers") {
    if (request.method != "GET") return respond(method_not_allowed("GET"));
    return respond(peers());
  }
  if (path == "/api/v1/connect") {
    if (request.method != "POST") return respond(method_not_allowed("POST"));
    return connect(request, std::move(respond));
  }
  if (path == "/api/v1/disconnect") {
    if (request.method != "POST") return respond(method_not_allowed("POST"));
    return respond(disconnect(request));
  }
  if (path == "/api/v1/ping") {
    if (request.method != "POST") return respond(method_not_allowed("POST"));
    return ping(request, std::move(respond));
  }
  if (path == "/api/v1/perf") {
    if (request.method != "POST") return respond(method_not_allowed("POST"));
    return perf(request, std::move(respond));
  }
  if (path == "/api/v1/echo") {
    if (request.method != "POST") return respond(method_not_allowed("POST"));
    return echo(request, std::move(respond));
  }
  respond(json_error(404, "no such endpoint: " + std::string(path)));
}

HttpResponse Api::peers() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : network_->peers()) {
    nlohmann::json entry{{"peer_id", row.peer.to_string()}, {"addr", row.addr.to_string()},
                         {"transport", row.transport}, {"direction", row.direction}, {"source", row.source},
                         {"agent", row.agent}, {"protocols", row.protocols}};
    entry["rtt_ms"] = row.rtt ? nlohmann::json(to_ms(*row.rtt)) : nlohmann::json(nullptr);
    rows.push_back(std::move(entry));
  }
  return json_response(200, {{"peers", rows}});
}

void Api::connect(const HttpRequest& request, Responder respond) {
  auto body = json_body(request, respond);
  if (!body) return;
  auto text = string_field(*body, "addr");
  if (!text) return respond(json_error(400, "missing \"addr\": the multiaddr to dial"));
  auto address = Multiaddr::parse(*text);
  if (!address) return respond(json_error(400, "bad multiaddr: " + address.error().detail));
  network_->connect(*address, [respond, addr = *text](Result<PeerId> result) {
    if (!result) return respond(json_error(502, "cannot connect to " + addr + ": " + result.error().text));
    respond(json_response(200, {{"peer_id", result->to_string()}, {"addr", addr}}));
  });
}

HttpResponse Api::disconnect(const HttpRequest& request) {
  auto body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) return json_error(400, "the request body must be a JSON object");
  auto text = string_field(body, "peer");
  if (!text) return json_error(400, "missing \"peer\": the peer id to disconnect");
  auto peer = PeerId::parse(*text);
  if (!peer) return json_error(400, "bad peer id: " + peer.error().detail);
  if (!network_->disconnect(*peer)) return json_error(404, "not connected to " + peer->to_string());
  return json_response(200, {{"peer_id", peer->to_string()}, {"disconnected", true}});
}

void Api::ping(const HttpRequest& request, Responder respond) {
  auto body = json_body(request, respond);
  if (!body) return;
  // "transport": "quic" | "tcp" | "ws" pins the connection the ping runs on
  // (a connection over it is made first if there is none).
  std::optional<host::Transport> transport;
  if (body->contains("transport")) {
    auto text = string_field(*body, "transport");
    if (text) transport = host::parse_transport(*text);
    if (!transport) return respond(json_error(400, "\"transport\" must be \"quic\", \"tcp\" or \"ws\""));
  }
  auto ping_peer = [network = network_, respond](const PeerId& peer, std::optional<host::Transport> over) {
    network->ping_over(peer, over, [respond, peer](Result<node::Network::TransportPing> pong) {
      if (!pong) return respond(json_error(502, "ping " + peer.to_string() + ": " + pong.error().text));
      respond(json_response(200, {{"peer_id", peer.to_string()}, {"rtt_ms", to_ms(pong->rtt)},
                                  {"transport", pong->transport}}));
    });
  };
  if (auto text = string_field(*body, "peer")) {
    auto peer = PeerId::parse(*text);
    if (!peer) return respond(json_error(400, "bad peer id: " + peer.error().detail));
    return ping_peer(*peer, transport);
  }
  if (auto text = string_field(*body, "addr")) {
    auto address = Multiaddr::parse(*text);
    if (!address) return respond(json_error(400, "bad multiaddr: " + address.error().detail));
    const auto over = host::transport_of(*address);
    if (transport && *transport != over) {
      return respond(json_error(400, "the address is a " + std::string(host::to_string(over)) + " address, not " +
                                         std::string(host::to_string(*transport))));
    }
    // Ping by address: connect first (a no-op when already connected over its transport).
    network_->connect(*address, [respond, ping_peer, over, addr = *text](Result<PeerId> peer) {
      if (!peer) return respond(json_error(502, "cannot connect to " + addr + ": " + peer.error().text));
      ping_peer(*peer, over);
    });
    return;
  }
  respond(json_error(400, "give \"peer\" (a peer id) or \"addr\" (a multiaddr) to ping"));
}

void Api::with_peer(const nlohmann::json& body, const Responder& respond, std::function<void(const PeerId&)> then) {
  if (auto text = string_field(body, "peer")) {
    auto peer = PeerId::parse(*text);
    if (!peer) return respond(json_error(400, "bad peer id: " + peer.error().detail));
    return then(*peer);
  }
  if (auto text = string_field(body, "addr")) {
    auto address = Multiaddr::parse(*text);
    if (!address) return respond(json_error(400, "bad multiaddr: " + address.error().detail));
    network_->connect(*address, [respond, then = std::move(then), addr = *text](Result<PeerId> peer) {
      if (!peer) return respond(json_error(502, "cannot connect to " + addr + ": " + peer.error().text));
      then(*peer);
    });
    return;
  }
  respond(json_error(400, "give \"peer\" (a peer id) or \"addr\" (a multiaddr)"));
}

void Api::perf(const HttpRequest& request, Responder respond) {
  auto body = json_body(request, respond);
  if (!body) return;
  const auto upload = count_field(*body, "upload_bytes", 0);
  const auto download = count_field(*body, "download_bytes", 0);
  if (!upload || !download) {
    return respond(json_error(400, "\"upload_bytes\" and \"download_bytes\" must be non-negative integers"));
  }
  with_peer(*body, respond, [network = network_, respond, upload = *upload, download = *download](const PeerId& peer) {
    network->perf(peer, upload, download, [respond, peer](Result<node::PerfResult> result) {
      if (!result) return respond(json_error(502, result.error().text));
      respond(json_response(200, {{"peer_id", peer.to_string()},
                                  {"upload_bytes", result->upload_bytes},
                                  {"download_bytes", result->download_bytes},
                                  {"upload_seconds", result->upload_seconds},
                                  {"download_seconds", result->download_seconds},
                                  {"seconds", result->upload_seconds + result->download_seconds},
                                  {"upload_mbps", megabits_per_second(result->upload_bytes, result->upload_seconds)},
                                  {"download_mbps",
                                   megabits_per_second(result->download_bytes, result->download_seconds)}}));
    });
  });
}

void Api::echo(const HttpRequest& request, Responder respond) {
  auto body = json_body(request, respond);
  if (!body) return;
  const auto streams = count_field(*body, "streams", 1);
  const auto bytes = count_field(*body, "bytes", 1024);
  if (!streams || !bytes) return respond(json_error(400, "\"streams\" and \"bytes\" must be non-negative integers"));
  with_peer(*body, respond, [network = network_, respond, streams = *streams, bytes = *bytes](const PeerId& peer) {
    network->echo(peer, static_cast<std::size_t>(streams), bytes, [respond, peer](Result<node::EchoResult> result) {
      if (!result) return respond(json_error(502, result.error().text));
      respond(json_response(200, {{"peer_id", peer.to_string()}, {"ok", true}, {"bytes", result->bytes},
                                  {"seconds", result->seconds},
                                  {"mbps", megabits_per_second(result->bytes, result->seconds)}}));
    });
  });
}

}  // namespace taho::api
