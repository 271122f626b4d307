#include "host/sim_network.hpp"

#include <algorithm>
#include <string>

namespace taho::host {

SimNetwork::SimNetwork(std::size_t hosts, SimNetworkOptions options) : options_(std::move(options)), rng_(options_.seed) {
  for (std::size_t i = 0; i < hosts; ++i) {
    crypto::Ed25519Seed seed{};
    rng_.fill(seed);
    auto key = crypto::Ed25519KeyPair::from_seed(seed);
    auto node = std::make_unique<Node>(
        Node{*key, PeerId::from_ed25519(key->public_key()), nullptr, {}, 0, {}, std::nullopt});
    nodes_.push_back(std::move(node));
    node_rngs_.push_back(std::make_unique<SeededRng>(rng_.next_u64()));
  }
  for (std::size_t i = 0; i < hosts; ++i) node_by_addr_.emplace(address(i).without_peer_id(), i);
  for (std::size_t i = 0; i < hosts; ++i) build(i);
}

SimNetwork::~SimNetwork() = default;

std::string SimNetwork::ip4_of(std::size_t index) const {
  return "/ip4/10." + std::to_string(index / 65536 % 256) + "." + std::to_string(index / 256 % 256) + "." +
         std::to_string(index % 256);
}

Multiaddr SimNetwork::address(std::size_t index) const {
  return Multiaddr::parse(ip4_of(index) + "/tcp/4001")->with_peer_id(nodes_.at(index)->peer);
}

std::optional<std::size_t> SimNetwork::node_at(const Multiaddr& addr) const {
  auto found = node_by_addr_.find(addr.without_peer_id());
  if (found == node_by_addr_.end()) return std::nullopt;
  return found->second;
}

void SimNetwork::build(std::size_t index) {
  Node& node = *nodes_[index];
  HostOptions options;
  options.swarm.identity = node.key;
  options.swarm.agent_version = "taho-sim/0";
  if (options_.configure) options_.configure(index, options);
  node.host = std::make_unique<Host>(std::move(options), suite_, *node_rngs_[index], now_);
  node.host->set_listen_addrs(now_, {address(index).without_peer_id()});
  drain(index);
}

void SimNetwork::stop(std::size_t index) {
  std::vector<swarm::ConnectionId> mine;
  for (const auto& [id, link] : links_) {
    if (link.node == index) mine.push_back(id);
  }
  Node& node = *nodes_.at(index);
  if (!node.host) return;
  node.saved_peers.clear();
  for (const auto& [peer, known] : node.host->connections().known()) node.saved_peers.push_back(known);
  node.host.reset();
  for (auto id : mine) drop_link(id, "the remote host stopped");
}

void SimNetwork::start(std::size_t index) {
  Node& node = *nodes_.at(index);
  if (node.host) return;
  build(index);
  for (const auto& known : node.saved_peers) node.host->add_discovered(now_, known.peer, known.addrs, Source::peerstore);
  drain(index);
}

void SimNetwork::blackhole(std::size_t a, std::size_t b) {
  blackholes_.insert({a, b});
  blackholes_.insert({b, a});
}

void SimNetwork::partition(const std::vector<std::set<std::size_t>>& groups) {
  for (auto& node : nodes_) node->group = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (auto index : groups[g]) nodes_.at(index)->group = g + 1;
  }
  std::vector<swarm::ConnectionId> cut;
  for (const auto& [id, link] : links_) {
    if (nodes_[link.node]->group != nodes_[link.remote_node]->group) cut.push_back(id);
  }
  for (auto id : cut) drop_link(id, "partitioned");
}

void SimNetwork::heal() {
  for (auto& node : nodes_) node->group = 0;
}

Duration SimNetwork::link_delay() {
  const auto jitter = options_.jitter.count() > 0 ? static_cast<Duration::rep>(rng_.next_u64() % static_cast<std::uint64_t>(options_.jitter.count()))
                                                  : 0;
  return options_.latency + Duration(jitter);
}

void SimNetwork::schedule(Instant at, std::size_t node, swarm::ConnectionId connection, Bytes bytes, bool close,
                          std::string reason) {
  queue_.push(Delivery{at, next_order_++, node, connection, std::move(bytes), close, std::move(reason)});
}

// Both ends learn the connection closed (the local end at once, the remote
// one after the link delay). As with TCP's FIN, bytes already on their way
// to the remote end still arrive before the close does.
void SimNetwork::drop_link(swarm::ConnectionId id, const std::string& reason) {
  auto found = links_.find(id);
  if (found == links_.end()) return;
  const Link link = found->second;
  links_.erase(found);
  links_.erase(link.remote_id);
  draining_.insert(link.remote_id);
  schedule(now_, link.node, link.id, {}, true, reason);
  schedule(std::max(now_ + link_delay(), link.last_delivery), link.remote_node, link.remote_id, {}, true, reason);
}

void SimNetwork::dial(std::size_t from, const host_output::Dial& dial) {
  auto target = node_at(dial.addr);
  Host& dialer = *nodes_[from]->host;
  if (!target || !nodes_[*target]->host || nodes_[*target]->group != nodes_[from]->group || *target == from) {
    // Refused or unreachable, as a TCP connect would report it.
    dialer.handle_dial_failed(now_, dial.id, "connection refused");
    return;
  }
  link(from, *target, address(from).without_peer_id(), address(*target).without_peer_id(), dial.peer, dial.id);
  drain(*target);
}

std::optional<swarm::ConnectionId> SimNetwork::link(std::size_t from, std::size_t to, const Multiaddr& from_addr,
                                                    const Multiaddr& to_addr, const PeerId& expected_peer,
                                                    std::optional<DialId> dial) {
  const auto outbound = next_connection_++;
  const auto inbound = next_connection_++;
  links_.emplace(outbound, Link{from, outbound, to, inbound, now_});
  links_.emplace(inbound, Link{to, inbound, from, outbound, now_});
  if (!nodes_[from]->host->add_connection(now_, outbound, swarm::Direction::outbound, from_addr, to_addr,
                                          expected_peer, dial)) {
    drop_link(outbound, "refused by the dialer");
    return std::nullopt;
  }
  if (!nodes_[to]->host->add_connection(now_, inbound, swarm::Direction::inbound, to_addr, from_addr, std::nullopt)) {
    drop_link(inbound, "refused by the listener");
  }
  return outbound;
}

std::optional<swarm::ConnectionId> SimNetwork::connect(std::size_t from, std::size_t to, Transport transport) {
  if (from >= nodes_.size() || to >= nodes_.size() || from == to || !nodes_[from]->host || !nodes_[to]->host ||
      nodes_[from]->group != nodes_[to]->group || transport == Transport::quic) {
    return std::nullopt;
  }
  const std::string suffix = transport == Transport::websocket ? "/tcp/4002/ws" : "/tcp/4001";
  const auto id = link(from, to, *Multiaddr::parse(ip4_of(from) + suffix), *Multiaddr::parse(ip4_of(to) + suffix),
                       peer(to), std::nullopt);
  drain(from);
  drain(to);
  return id;
}

void SimNetwork::drain(std::size_t index) {
  for (bool progressed = true; progressed;) {
    progressed = false;
    Node& node = *nodes_[index];
    if (!node.host) return;
    while (auto output = node.host->poll_output()) {
      progressed = true;
      if (auto* transmit = std::get_if<swarm::swarm_output::Transmit>(&*output)) {
        auto link = links_.find(transmit->connection);
        if (link == links_.end() || blackholes_.count({index, link->second.remote_node})) continue;
        // A byte stream: jitter never reorders a link's bytes.
        Instant at = std::max(now_ + link_delay(), link->second.last_delivery);
        link->second.last_delivery = at;
        schedule(at, link->second.remote_node, link->second.remote_id, std::move(transmit->bytes), false);
      } else if (auto* close = std::get_if<swarm::swarm_output::Close>(&*output)) {
        drop_link(close->connection, "closed by remote");
      } else if (auto* dial_output = std::get_if<host_output::Dial>(&*output)) {
        dial(index, *dial_output);
      }
    }
    while (auto event = node.host->poll_event()) {
      progressed = true;
      node.events.push_back(std::move(*event));
    }
  }
  Node& node = *nodes_[index];
  node.deadline = node.host ? node.host->next_timeout() : std::nullopt;
}

void SimNetwork::run_until(Instant until) {
  run_until([] { return false; }, until - now_);
}

bool SimNetwork::run_until(const std::function<bool()>& done, Duration limit) {
  const Instant until = now_ + limit;
  // The caller may have given hosts commands since the last run.
  for (std::size_t i = 0; i < nodes_.size(); ++i) drain(i);
  Instant last = now_;
  std::size_t spins = 0;
  while (true) {
    if (done()) return true;
    // A host whose timer stays due after handle_timeout would spin here
    // forever at one instant: that is a bug in a core, so stop loudly.
    spins = now_ == last ? spins + 1 : 0;
    last = now_;
    if (spins > 1'000'000) return false;
    // The earliest of: a delivery, any host's timer.
    std::optional<Instant> next;
    if (!queue_.empty()) next = queue_.top().at;
    for (const auto& node : nodes_) {
      if (node->host && node->deadline && (!next || *node->deadline < *next)) next = node->deadline;
    }
    if (!next || *next > until) {
      now_ = until;
      return done();
    }
    now_ = std::max(now_, *next);
    while (!queue_.empty() && queue_.top().at <= now_) {
      Delivery delivery = queue_.top();
      queue_.pop();
      Node& node = *nodes_[delivery.node];
      if (delivery.close) draining_.erase(delivery.connection);  // also when its host is down
      if (!node.host) continue;
      if (delivery.close) {
        node.host->handle_closed(now_, delivery.connection, delivery.reason);
      } else {
        // Dropped only at an end that closed itself meanwhile.
        if (!links_.count(delivery.connection) && !draining_.count(delivery.connection)) continue;
        node.host->handle_input(now_, delivery.connection, delivery.bytes);
      }
      drain(delivery.node);
    }
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!nodes_[i]->host || !nodes_[i]->deadline || *nodes_[i]->deadline > now_) continue;
      nodes_[i]->host->handle_timeout(now_);
      drain(i);
    }
  }
}

std::size_t SimNetwork::connections_between(std::size_t a, std::size_t b) const {
  std::size_t count = 0;
  for (const auto& [id, link] : links_) {
    if (link.node == a && link.remote_node == b) ++count;
  }
  return count;
}

}  // namespace taho::host
