// Dials the peers mDNS finds on the local network (js-libp2p's mDNS does not
// dial by itself; neither does our MdnsService). When two taho nodes find
// each other at the same moment both would dial, leaving two connections per
// pair: the node with the smaller peer id dials at once, the other waits
// `grace` and dials only if no connection came up by then (a js peer never
// dials, so that wait is what reaches it).
//
// Threading: on the event loop's thread, like Network.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "node/network.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

struct LanDialerOptions {
  Duration grace = std::chrono::seconds(2);
  // A failed dial is tried again after retry_delay, then 2 x retry_delay ...
  // up to dial_attempts_max attempts; after that the peer waits for mDNS to
  // report it again (once per query interval).
  Duration retry_delay = std::chrono::seconds(1);
  std::size_t dial_attempts_max = 3;
  std::size_t waiting_max = 256;  // peers waiting out a grace period or a retry delay
};

// The address worth dialing among a peer's mDNS addresses: the first plain
// TCP one (no /ws) that is not loopback, else the first loopback one (two
// nodes on one machine). nullopt when there is no TCP address.
std::optional<Multiaddr> lan_dial_address(const std::vector<Multiaddr>& addrs);

class LanDialer {
 public:
  LanDialer(runtime::asio::EventLoop& loop, Network& network, PeerId local_peer, LanDialerOptions options = {});
  ~LanDialer();
  LanDialer(const LanDialer&) = delete;
  LanDialer& operator=(const LanDialer&) = delete;

  // A peer was found (MdnsService's on_peer).
  void on_peer(const PeerId& peer, const std::vector<Multiaddr>& addrs);

 private:
  bool connected(const PeerId& peer) const;
  void dial(const PeerId& peer, const Multiaddr& address, std::size_t attempt);
  // Dials after `delay` unless a connection came up meanwhile.
  void dial_later(const PeerId& peer, const Multiaddr& address, Duration delay, std::size_t attempt);

  runtime::asio::EventLoop& loop_;
  Network& network_;
  PeerId local_peer_;
  LanDialerOptions options_;
  std::set<PeerId> dialing_;
  std::map<PeerId, std::unique_ptr<runtime::asio::Timer>> waiting_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // for connect callbacks after we are gone
};

}  // namespace taho::node
