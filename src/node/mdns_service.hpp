// mDNS discovery on real sockets: the sans-IO mdns::Discovery core driven by
// a MulticastSocket (224.0.0.251:5353, IPv4) and a Timer on the event loop.
// It answers with the addresses set_listen_addrs() gives it and reports each
// peer it hears through on_peer.
//
// Threading: construct, call and destroy on the loop's thread; on_peer runs
// there too, never during a call into this class, and must not destroy it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "base/error.hpp"
#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "proto/mdns/discovery.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/multicast_socket.hpp"

namespace taho::node {

struct MdnsServiceOptions {
  // Also join, query and answer on loopback interfaces, and announce
  // loopback addresses: for tests of several nodes on one machine.
  bool include_loopback = false;
  mdns::Options discovery;  // its announce_loopback follows include_loopback
  runtime::asio::MulticastSocketOptions socket;  // its include_loopback follows too
};

class MdnsService {
 public:
  // A peer answered; `addrs` end in /p2p/<peer>. Called when it is first
  // heard, when its addresses change, and otherwise at most once per query
  // interval.
  using OnPeer = std::function<void(PeerId, std::vector<Multiaddr>)>;

  // `rng` must outlive the service.
  MdnsService(runtime::asio::EventLoop& loop, PeerId local_peer, Rng& rng, MdnsServiceOptions options, OnPeer on_peer);
  ~MdnsService();
  MdnsService(const MdnsService&) = delete;
  MdnsService& operator=(const MdnsService&) = delete;

  // The addresses to announce (see mdns::Discovery::set_listen_addrs for
  // which are kept). May be called before or after start().
  void set_listen_addrs(std::vector<Multiaddr> addrs);
  // Opens the socket and sends the first query. Fails when the socket cannot
  // be bound; the service then does nothing.
  Result<void> start();

  const mdns::Stats& stats() const { return discovery_.stats(); }
  std::vector<runtime::asio::MulticastInterface> interfaces() const;

 private:
  void on_datagram(ByteView datagram, std::uint32_t interface_index);
  void note_loopback_interfaces(const std::vector<runtime::asio::MulticastInterface>& interfaces);
  void process();  // sends what the core queued, reports events, re-arms the timer

  runtime::asio::EventLoop& loop_;
  MdnsServiceOptions options_;
  OnPeer on_peer_;
  mdns::Discovery discovery_;
  runtime::asio::Timer timer_;
  std::unique_ptr<runtime::asio::MulticastSocket> socket_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted on_peer calls
};

}  // namespace taho::node
