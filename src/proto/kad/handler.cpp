#include "proto/kad/handler.hpp"

namespace taho::kad {
namespace {

Unexpected<KadError> bad_request(std::string detail) { return unexpected(KadError{Errc::bad_request, std::move(detail)}); }

}  // namespace

std::vector<Peer> Handler::closer_peers(const Bytes& key, const PeerId& sender) const {
  // One extra in case the sender is among them: it already knows itself.
  const auto ids = table_.closest(keyspace_point(key), options_.closer_peers_count + 1);
  std::vector<Peer> peers;
  for (const PeerId& id : ids) {
    if (id == sender || peers.size() >= options_.closer_peers_count) continue;
    peers.push_back(Peer{id, addresses_.addresses(id), ConnectionType::not_connected, 0});
  }
  return peers;
}

Expected<std::optional<Message>, KadError> Handler::handle_request(Instant now, const PeerId& sender,
                                                                   const Message& request) {
  Message reply;
  reply.type = request.type;
  reply.cluster_level_raw = request.cluster_level_raw;
  switch (request.type) {
    case MessageType::ping:
      return std::optional<Message>{reply};
    case MessageType::find_node:
      if (request.key.empty()) return bad_request("FIND_NODE without a key");
      reply.key = request.key;
      reply.closer_peers = closer_peers(request.key, sender);
      return std::optional<Message>{std::move(reply)};
    case MessageType::get_providers:
      if (request.key.empty()) return bad_request("GET_PROVIDERS without a key");
      reply.key = request.key;
      for (const ProviderRecord& record : providers_.providers(now, request.key)) {
        reply.provider_peers.push_back(Peer{record.provider, record.addrs, ConnectionType::not_connected, 0});
      }
      reply.closer_peers = closer_peers(request.key, sender);
      return std::optional<Message>{std::move(reply)};
    case MessageType::add_provider: {
      if (request.key.empty()) return bad_request("ADD_PROVIDER without a key");
      // Only the sender may announce itself: anything else would let one
      // peer point others' content at victims.
      bool stored = false;
      for (const Peer& provider : request.provider_peers) {
        if (!(provider.id == sender)) continue;
        stored = providers_.add(now, request.key, sender, provider.addrs) || stored;
        addresses_.add(sender, provider.addrs);
      }
      if (!stored) return bad_request("ADD_PROVIDER names no provider we could store for its sender");
      return std::optional<Message>{};
    }
    case MessageType::get_value:
      if (request.key.empty()) return bad_request("GET_VALUE without a key");
      reply.key = request.key;
      reply.record = records_.get(now, request.key);
      reply.closer_peers = closer_peers(request.key, sender);
      return std::optional<Message>{std::move(reply)};
    case MessageType::put_value: {
      if (!request.record || request.record->key != request.key || request.key.empty()) {
        return bad_request("PUT_VALUE without a record for its key");
      }
      Record record = *request.record;
      record.time_received.clear();  // ours to set; we keep monotonic time only
      if (auto stored = records_.put(now, record); !stored) return unexpected(std::move(stored).error());
      // The spec's answer to a successful PUT_VALUE is the request itself.
      return std::optional<Message>{request};
    }
  }
  return bad_request("unknown message type");
}

}  // namespace taho::kad
