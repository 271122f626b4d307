#include "proto/kad/query.hpp"

#include <algorithm>
#include <iterator>

namespace taho::kad {

Query::Query(const PeerId& local, MessageType type, Bytes key, const std::vector<Peer>& seeds,
             const QueryOptions& options)
    : local_(local), type_(type), key_(std::move(key)), target_(keyspace_point(key_)), options_(options) {
  for (const Peer& seed : seeds) learn(seed);
}

Query::Candidate* Query::find(const PeerId& peer) {
  const auto found = candidates_.find(distance(target_, keyspace_point(peer)));
  if (found == candidates_.end() || !(found->second.peer.id == peer)) return nullptr;
  return &found->second;
}

void Query::learn(const Peer& peer) {
  if (peer.id == local_) return;
  const Distance d = distance(target_, keyspace_point(peer.id));
  const auto [where, inserted] = candidates_.try_emplace(d, Candidate{peer, State::candidate, Instant{}});
  if (!inserted) {
    // Known already: keep its state, add addresses we had not heard of.
    auto& addrs = where->second.peer.addrs;
    for (const Multiaddr& address : peer.addrs) {
      if (addrs.size() >= Limits{}.addrs_per_peer_max) break;
      if (std::find(addrs.begin(), addrs.end(), address) == addrs.end()) addrs.push_back(address);
    }
    return;
  }
  if (candidates_.size() <= options_.candidates_max) return;
  // Over the bound: forget the farthest peer we have not asked yet.
  for (auto it = candidates_.rbegin(); it != candidates_.rend(); ++it) {
    if (it->second.state == State::candidate) {
      candidates_.erase(std::next(it).base());
      return;
    }
  }
}

std::optional<QueryRequest> Query::poll_request(Instant now) {
  if (finished() || in_flight_ >= options_.alpha) return std::nullopt;
  // Only peers among the k closest not-failed ones are worth asking: an
  // answer from farther away cannot change the result.
  std::size_t live_seen = 0;
  for (auto& [d, candidate] : candidates_) {
    if (candidate.state == State::failed) continue;
    if (live_seen++ >= options_.bucket_size) break;
    if (candidate.state != State::candidate) continue;
    candidate.state = State::waiting;
    candidate.sent_at = now;  // timed from when the driver takes the request
    ++in_flight_;
    Message request;
    request.type = type_;
    request.key = key_;
    return QueryRequest{candidate.peer.id, candidate.peer.addrs, std::move(request)};
  }
  return std::nullopt;
}

void Query::handle_response(Instant /*now*/, const PeerId& from, const Message& response) {
  if (stopped_) return;
  Candidate* candidate = find(from);
  if (candidate == nullptr || candidate->state != State::waiting) return;
  candidate->state = State::succeeded;
  --in_flight_;
  for (const Peer& peer : response.closer_peers) learn(peer);
  if (type_ == MessageType::get_providers) {
    for (const Peer& provider : response.provider_peers) {
      const auto known = std::find_if(providers_.begin(), providers_.end(),
                                      [&](const Peer& p) { return p.id == provider.id; });
      if (known == providers_.end() && providers_.size() < options_.providers_max) providers_.push_back(provider);
    }
  }
  if (type_ == MessageType::get_value && response.record && response.record->key == key_ &&
      records_.size() < options_.records_max) {
    records_.push_back({from, *response.record});
  }
}

void Query::handle_failure(Instant /*now*/, const PeerId& peer) {
  Candidate* candidate = find(peer);
  if (candidate == nullptr || candidate->state != State::waiting) return;
  candidate->state = State::failed;
  --in_flight_;
}

std::optional<Instant> Query::next_timeout() const {
  std::optional<Instant> earliest;
  for (const auto& [d, candidate] : candidates_) {
    if (candidate.state != State::waiting) continue;
    const Instant deadline = candidate.sent_at + options_.request_timeout;
    if (!earliest || deadline < *earliest) earliest = deadline;
  }
  return earliest;
}

void Query::handle_timeout(Instant now) {
  for (auto& [d, candidate] : candidates_) {
    if (candidate.state == State::waiting && candidate.sent_at + options_.request_timeout <= now) {
      candidate.state = State::failed;
      --in_flight_;
    }
  }
}

bool Query::finished() const {
  if (stopped_) return true;
  std::size_t live_seen = 0;
  for (const auto& [d, candidate] : candidates_) {
    if (candidate.state == State::failed) continue;
    if (live_seen++ >= options_.bucket_size) break;
    if (candidate.state != State::succeeded) return false;
  }
  return true;
}

QueryResult Query::result() const {
  QueryResult result;
  for (const auto& [d, candidate] : candidates_) {
    if (result.closest.size() >= options_.bucket_size) break;
    if (candidate.state == State::succeeded) result.closest.push_back(candidate.peer);
  }
  result.providers = providers_;
  result.records = records_;
  return result;
}

}  // namespace taho::kad
