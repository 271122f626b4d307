#include "api/mesh_routes.hpp"

#include <map>

#include "api/json.hpp"
#include "base/cid.hpp"
#include "content/tree/content_id.hpp"
#include "proto/autonat/message.hpp"
#include "proto/autonat/reachability.hpp"

namespace taho::api {

namespace {

nlohmann::json addrs_json(const std::vector<Multiaddr>& addrs) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& addr : addrs) list.push_back(addr.to_string());
  return list;
}

}  // namespace

Result<Bytes> dht_key_from_text(std::string_view text) {
  if (auto id = content::ContentId::parse(text)) return id->to_cid().hash().bytes();
  if (auto cid = Cid::parse(text)) return cid->hash().bytes();
  return fail("not a content id (ca_blake3_...) or CID: " + std::string(text.substr(0, 80)));
}

bool MeshRoutes::handle(const runtime::HttpRequest& request, std::string_view path,
                        runtime::asio::HttpResponder& respond) {
  if (path == "/api/v1/mesh") {
    if (request.method != "GET") return respond(method_not_allowed("GET")), true;
    return respond(mesh()), true;
  }
  if (path == "/api/v1/dht/stats") {
    if (request.method != "GET") return respond(method_not_allowed("GET")), true;
    return respond(dht_stats()), true;
  }
  if (path == "/api/v1/dht/find-peer") {
    if (request.method != "POST") return respond(method_not_allowed("POST")), true;
    return find_peer(request, std::move(respond)), true;
  }
  if (path == "/api/v1/dht/providers" || path == "/api/v1/dht/provide") {
    if (request.method != "POST") return respond(method_not_allowed("POST")), true;
    return providers(request, std::move(respond), path == "/api/v1/dht/provide"), true;
  }
  return false;
}

runtime::HttpResponse MeshRoutes::mesh() const {
  std::map<std::string, int> per_transport;
  std::map<std::string, int> per_source;
  const auto rows = network_.peers();
  for (const auto& row : rows) {
    ++per_transport[row.transport];
    ++per_source[row.source.empty() ? "unknown" : row.source];
  }
  std::map<std::string, int> known_per_source;
  const auto known = network_.known_peers();
  for (const auto& peer : known) ++known_per_source[std::string(host::to_string(peer.source))];
  const auto& host = network_.host();
  const auto& manager = host.connections();
  nlohmann::json topics = nlohmann::json::object();
  for (const auto& topic : host.gossip().topics()) {
    topics[topic] = {{"mesh_peers", host.gossip().router().mesh_peers(topic).size()},
                     {"topic_peers", host.gossip().router().topic_peers(topic).size()}};
  }
  return json_response(
      200, {{"connected_peers", rows.size()},
            {"connections", network_.connection_count()},
            {"known_peers", known.size()},
            {"min_peers", manager.options().min_peers},
            {"max_peers", manager.options().max_peers},
            {"per_transport", per_transport},
            {"per_source", per_source},
            {"known_per_source", known_per_source},
            {"dht_routing_table", host.dht().routing_table().size()},
            {"reachability", autonat::to_string(host.reachability())},
            {"reachability_confidence", host.autonat().confidence()},
            {"dht_mode", host.dht_server() ? "server" : "client"},
            {"rendezvous_point", host.rendezvous_point()},
            {"advertised_protocols", host.advertised_protocols()},
            {"autonat",
             {{"probes_sent", host.autonat().stats().probes_sent},
              {"probes_answered", host.autonat().stats().probes_answered},
              {"last_status", host.autonat().stats().last_status
                                  ? std::string(autonat::to_string(*host.autonat().stats().last_status))
                                  : std::string()},
              {"dial_backs_ok", host.autonat().stats().dial_backs_ok},
              {"dial_backs_failed", host.autonat().stats().dial_backs_failed},
              {"requests_served", host.autonat().stats().requests_served}}},
            {"gossip_topics", topics},
            {"dials", manager.stats().dials},
            {"dial_failures", manager.stats().dial_failures},
            {"dropped_unresponsive", manager.stats().dropped_unresponsive},
            {"trimmed", manager.stats().trimmed}});
}

runtime::HttpResponse MeshRoutes::dht_stats() const {
  const auto& dht = network_.host().dht();
  const auto stats = dht.stats();
  return json_response(200, {{"protocol", dht.protocol()},
                             {"mode", dht.server() ? "server" : "client"},
                             {"reachability", autonat::to_string(network_.host().reachability())},
                             {"routing_table_peers", stats.routing_table_peers},
                             {"provider_keys", stats.provider_keys},
                             {"records", stats.records},
                             {"queries_running", stats.queries_running},
                             {"queries_finished", stats.queries_finished},
                             {"requests_sent", stats.requests_sent},
                             {"requests_failed", stats.requests_failed},
                             {"requests_served", stats.requests_served},
                             {"bad_requests", stats.bad_requests}});
}

void MeshRoutes::find_peer(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond) {
  auto body = json_body(request, respond);
  if (!body) return;
  auto text = string_field(*body, "peer");
  if (!text) return respond(json_error(400, "missing \"peer\": the peer id to look up"));
  auto peer = PeerId::parse(*text);
  if (!peer) return respond(json_error(400, "bad peer id: " + peer.error().detail));
  network_.dht_find_peer(*peer, [respond, target = *peer, &network = network_](
                                    Result<host::kad_event::QueryFinished> result) {
    if (!result) return respond(json_error(502, "DHT lookup failed: " + result.error().text));
    std::vector<Multiaddr> addrs;
    for (const auto& found : result->result.closest) {
      if (found.id == target) addrs = found.addrs;
    }
    if (addrs.empty()) addrs = network.host().dht().addresses(target);
    const bool found = std::any_of(result->result.closest.begin(), result->result.closest.end(),
                                   [&](const kad::Peer& candidate) { return candidate.id == target; });
    if (!found && addrs.empty()) {
      return respond(json_error(404, "no DHT peer knows " + target.to_string() + " (" +
                                         std::to_string(result->requests) + " requests)"));
    }
    respond(json_response(200, {{"peer_id", target.to_string()},
                                {"addrs", addrs_json(addrs)},
                                {"hops", result->rounds},
                                {"requests", result->requests}}));
  });
}

void MeshRoutes::providers(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond, bool provide) {
  auto body = json_body(request, respond);
  if (!body) return;
  auto text = string_field(*body, "key");
  if (!text) return respond(json_error(400, "missing \"key\": a content id or CID"));
  auto key = dht_key_from_text(*text);
  if (!key) return respond(json_error(400, key.error().text));
  auto done = [respond, provide, key_text = *text](Result<host::kad_event::QueryFinished> result) {
    if (!result) return respond(json_error(502, "DHT query failed: " + result.error().text));
    if (provide) {
      nlohmann::json told = nlohmann::json::array();
      for (const auto& peer : result->result.closest) told.push_back(peer.id.to_string());
      return respond(json_response(200, {{"key", key_text}, {"announced_to", told}}));
    }
    nlohmann::json providers = nlohmann::json::array();
    for (const auto& peer : result->result.providers) {
      providers.push_back({{"peer_id", peer.id.to_string()}, {"addrs", addrs_json(peer.addrs)}});
    }
    respond(json_response(200, {{"key", key_text}, {"providers", providers}, {"requests", result->requests}}));
  };
  if (provide) {
    network_.dht_provide(*key, std::move(done));
  } else {
    network_.dht_providers(*key, std::move(done));
  }
}

}  // namespace taho::api
