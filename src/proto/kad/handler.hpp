// The server side of the DHT: answers one inbound request from local state
// (kad-dht/README.md "RPC messages"). The driver reads the request frame,
// calls handle_request, writes the reply frame (if any) and closes the
// stream; an error means reset the stream.
//
// Adding the requester to the routing table is the driver's job: only once
// identify says the peer runs the kad protocol (client-mode peers do not).
#pragma once

#include <cstddef>
#include <optional>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/kad/address_book.hpp"
#include "proto/kad/message.hpp"
#include "proto/kad/provider_store.hpp"
#include "proto/kad/record_store.hpp"
#include "proto/kad/routing_table.hpp"

namespace taho::kad {

struct HandlerOptions {
  std::size_t closer_peers_count = 20;  // k
};

class Handler {
 public:
  // The handler reads and updates the state it is handed; the caller keeps
  // it alive for as long as the handler.
  Handler(RoutingTable& table, AddressBook& addresses, ProviderStore& providers, RecordStore& records,
          const HandlerOptions& options = {})
      : table_(table), addresses_(addresses), providers_(providers), records_(records), options_(options) {}

  // The reply to `request` from `sender`; nullopt for ADD_PROVIDER, which
  // has none.
  Expected<std::optional<Message>, KadError> handle_request(Instant now, const PeerId& sender, const Message& request);

 private:
  std::vector<Peer> closer_peers(const Bytes& key, const PeerId& sender) const;

  RoutingTable& table_;
  AddressBook& addresses_;
  ProviderStore& providers_;
  RecordStore& records_;
  HandlerOptions options_;
};

}  // namespace taho::kad
