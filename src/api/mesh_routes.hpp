// The local API's mesh and DHT routes (DESIGN.md §7):
//   GET  /api/v1/mesh              connected, known, per transport, per discovery source
//   GET  /api/v1/dht/stats         routing table, stores, queries
//   POST /api/v1/dht/find-peer     {"peer": id}  -> its addresses, hops
//   POST /api/v1/dht/providers     {"key": content id | CID}  -> providers
//   POST /api/v1/dht/provide       {"key": content id | CID}
#pragma once

#include <string_view>

#include "node/network.hpp"
#include "runtime/asio/http_server.hpp"
#include "runtime/http_message.hpp"

namespace taho::api {

// The DHT key of a content id (`ca_blake3_...`) or CID: the multihash bytes,
// as js-libp2p and go-libp2p key provider records.
Result<Bytes> dht_key_from_text(std::string_view text);

class MeshRoutes {
 public:
  explicit MeshRoutes(node::Network& network) : network_(network) {}

  // Answers and returns true for the paths above; false for other paths.
  // The caller has checked the token.
  bool handle(const runtime::HttpRequest& request, std::string_view path, runtime::asio::HttpResponder& respond);

 private:
  runtime::HttpResponse mesh() const;
  runtime::HttpResponse dht_stats() const;
  void find_peer(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond);
  void providers(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond, bool provide);

  node::Network& network_;
};

}  // namespace taho::api
