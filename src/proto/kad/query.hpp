// An iterative Kademlia lookup (kad-dht/README.md "Peer routing"), sans-IO.
// The query keeps the peers it has heard of ordered by distance to the
// target, asks up to `alpha` of the closest not-yet-asked ones at a time,
// merges the closer peers each answer names, and finishes once the
// `bucket_size` closest peers that have not failed have all answered.
//
// Grammar: poll_request(now) for the next (peer, request) to send;
// handle_response / handle_failure with the outcome; next_timeout() for the
// timer, handle_timeout(now) once it passes. finished() then result().
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/kad/keyspace.hpp"
#include "proto/kad/message.hpp"

namespace taho::kad {

struct QueryOptions {
  std::size_t alpha = 3;         // concurrent requests
  std::size_t bucket_size = 20;  // k: how many closest peers the lookup settles
  Duration request_timeout = std::chrono::seconds(10);
  // Peers remembered at once; farther unasked ones beyond this are dropped.
  std::size_t candidates_max = 500;
  std::size_t providers_max = 100;
  std::size_t records_max = 16;
};

struct QueryRequest {
  PeerId peer;
  std::vector<Multiaddr> addrs;  // what we learned about where to dial it
  Message message;
};

struct FoundRecord {
  PeerId from;
  Record record;
};

struct QueryResult {
  std::vector<Peer> closest;    // the k closest peers that answered, nearest first
  std::vector<Peer> providers;  // GET_PROVIDERS: distinct providers heard of
  std::vector<FoundRecord> records;  // GET_VALUE: records for the key, one per sender
};

class Query {
 public:
  // `type` is find_node, get_providers or get_value; `seeds` are the first
  // peers to ask (usually the routing table's closest to the key).
  Query(const PeerId& local, MessageType type, Bytes key, const std::vector<Peer>& seeds,
        const QueryOptions& options = {});

  std::optional<QueryRequest> poll_request(Instant now);
  // An answer from a peer we asked; ignored from anyone else.
  void handle_response(Instant now, const PeerId& from, const Message& response);
  void handle_failure(Instant now, const PeerId& peer);
  std::optional<Instant> next_timeout() const;
  void handle_timeout(Instant now);
  // Ends the query early (e.g. enough providers found); pending answers are
  // then ignored.
  void stop() { stopped_ = true; }

  bool finished() const;
  std::size_t in_flight() const { return in_flight_; }
  const KeyspacePoint& target() const { return target_; }
  QueryResult result() const;

 private:
  enum class State { candidate, waiting, succeeded, failed };
  struct Candidate {
    Peer peer;
    State state = State::candidate;
    Instant sent_at;
  };
  void learn(const Peer& peer);
  Candidate* find(const PeerId& peer);

  PeerId local_;
  MessageType type_;
  Bytes key_;
  KeyspacePoint target_;
  QueryOptions options_;
  std::map<Distance, Candidate> candidates_;  // nearest first
  std::size_t in_flight_ = 0;
  std::vector<Peer> providers_;
  std::vector<FoundRecord> records_;
  bool stopped_ = false;
};

}  // namespace taho::kad
