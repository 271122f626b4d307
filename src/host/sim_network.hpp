// A simulated network of hosts: the driver that runs many Host objects in
// one process on a virtual clock, reproducibly from a seed (STYLE.md
// principle 12). Each host listens on /ip4/10.x.y.z/tcp/4001; a Dial output
// reaches the host with that address if it is up and not partitioned away,
// and the bytes of every connection travel with a per-link latency. Hosts
// can be stopped (their connections drop), started again, and cut off from
// each other by partitions; a test can add a second connection between two
// hosts over another transport, and close any one connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "base/seeded_rng.hpp"
#include "crypto/crypto_suite.hpp"
#include "host/host.hpp"
#include "host/transport.hpp"

namespace taho::host {

struct SimNetworkOptions {
  std::uint64_t seed = 1;
  Duration latency = std::chrono::milliseconds(5);
  Duration jitter = std::chrono::milliseconds(2);
  // Applied to every host before it is built (limits, kad and gossip options).
  std::function<void(std::size_t index, HostOptions&)> configure;
};

class SimNetwork {
 public:
  SimNetwork(std::size_t hosts, SimNetworkOptions options);
  ~SimNetwork();

  std::size_t size() const { return nodes_.size(); }
  Host& host(std::size_t index) { return *nodes_.at(index)->host; }
  bool up(std::size_t index) const { return nodes_.at(index)->host != nullptr; }
  const PeerId& peer(std::size_t index) const { return nodes_.at(index)->peer; }
  Multiaddr address(std::size_t index) const;  // with /p2p
  Instant now() const { return now_; }

  // Runs every host until virtual time `until`.
  void run_until(Instant until);
  void run_for(Duration duration) { run_until(now_ + duration); }
  // Runs until `done()` holds or `limit` of virtual time passed; true if it held.
  bool run_until(const std::function<bool()>& done, Duration limit);

  // A crash: every connection of the host drops, its state is gone but
  // for the peers it knew, as the daemon persists them in its peerstore.
  void stop(std::size_t index);
  // Builds the host again with the same identity and its saved peers.
  void start(std::size_t index);
  // Bytes between a and b vanish from now on without any connection
  // closing (a dead link that only keep-alives can notice).
  void blackhole(std::size_t a, std::size_t b);
  // Hosts in different groups cannot reach each other; existing
  // connections between them drop. heal() joins everyone again.
  void partition(const std::vector<std::set<std::size_t>>& groups);
  void heal();
  // A connection from `from` to `to` that no host dialed, as `taho ping
  // --transport` asks for one: over TCP or WebSocket (Noise and Yamux over
  // the link's byte stream, as on a real socket; QUIC is not simulated).
  // Hosts keep connections over different transports side by side; one
  // over the same transport as an existing one is closed as a duplicate.
  // Nothing if either host is down, they cannot reach each other or the
  // transport is QUIC; else the id of `from`'s end.
  std::optional<swarm::ConnectionId> connect(std::size_t from, std::size_t to, Transport transport);
  // Closes one connection (either end's id) as a broken transport would:
  // that end learns it at once, the other after the link delay.
  void close_connection(swarm::ConnectionId id) { drop_link(id, "closed by the test"); }

  // Events each host produced, in order (the harness drains them).
  std::vector<HostEvent>& events(std::size_t index) { return nodes_.at(index)->events; }
  std::size_t connections_between(std::size_t a, std::size_t b) const;

 private:
  struct Node {
    crypto::Ed25519KeyPair key;
    PeerId peer;
    std::unique_ptr<Host> host;
    std::vector<HostEvent> events;
    std::size_t group = 0;
    std::vector<KnownPeer> saved_peers;
    // The host's next_timeout(), refreshed whenever the host was touched:
    // asking every host on every step would cost O(hosts x connections).
    std::optional<Instant> deadline;
  };
  struct Link {  // one end of a connection
    std::size_t node;
    swarm::ConnectionId id;
    std::size_t remote_node;
    swarm::ConnectionId remote_id;
    Instant last_delivery;  // of this end's bytes to the remote end
  };
  struct Delivery {
    Instant at;
    std::uint64_t order;  // ties broken by scheduling order: deterministic
    std::size_t node;
    swarm::ConnectionId connection;
    Bytes bytes;
    bool close = false;
    std::string reason;
    bool operator>(const Delivery& other) const {
      return at != other.at ? at > other.at : order > other.order;
    }
  };

  void build(std::size_t index);
  void drain(std::size_t index);
  void dial(std::size_t from, const host_output::Dial& dial);
  // Both ends of a new connection, handed to the two hosts; the id of
  // `from`'s end unless the dialer refused it.
  std::optional<swarm::ConnectionId> link(std::size_t from, std::size_t to, const Multiaddr& from_addr,
                                          const Multiaddr& to_addr, const PeerId& expected_peer,
                                          std::optional<DialId> dial);
  void schedule(Instant at, std::size_t node, swarm::ConnectionId connection, Bytes bytes, bool close,
                std::string reason = {});
  void drop_link(swarm::ConnectionId id, const std::string& reason);
  Duration link_delay();
  std::optional<std::size_t> node_at(const Multiaddr& addr) const;
  std::string ip4_of(std::size_t index) const;  // /ip4/10.x.y.z

  SimNetworkOptions options_;
  SeededRng rng_;
  crypto::OpenSslCryptoSuite suite_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<SeededRng>> node_rngs_;
  std::map<Multiaddr, std::size_t> node_by_addr_;  // listen address (no /p2p) -> index
  std::map<swarm::ConnectionId, Link> links_;
  std::set<swarm::ConnectionId> draining_;  // remote ends of dropped links, until their close arrives
  std::set<std::pair<std::size_t, std::size_t>> blackholes_;  // by global connection id (unique across nodes)
  swarm::ConnectionId next_connection_ = 1;
  std::priority_queue<Delivery, std::vector<Delivery>, std::greater<>> queue_;
  std::uint64_t next_order_ = 0;
  Instant now_{};
};

}  // namespace taho::host
