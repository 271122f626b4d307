// A UDP socket in an IPv4 multicast group on every suitable interface, for
// mDNS (224.0.0.251:5353). IPv4 only: IPv6 mDNS (ff02::fb) is not joined.
//
// The socket binds 0.0.0.0:<port> with SO_REUSEADDR and SO_REUSEPORT, so it
// shares the port with other mDNS responders on the host (avahi, js-libp2p,
// other taho daemons), and joins the group on each interface that is up,
// has an IPv4 address and supports multicast (plus loopback when asked).
// It re-scans the interfaces every rescan_interval_ms, joining new ones and
// forgetting those that went away. Datagrams are sent with TTL 255 (RFC 6762
// §11) and looped back to the host, so processes on one machine hear each
// other; each received datagram comes with the index of its interface.
//
// Threading: every method must be called on the event loop's thread, and
// every callback runs there, never during a call into this class.
// Callbacks must not destroy the MulticastSocket.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "base/error.hpp"

namespace taho::runtime::asio {

class EventLoop;

struct MulticastInterface {
  std::uint32_t index = 0;  // the OS interface index
  std::string name;         // "eth0"
  std::string ipv4;         // its first IPv4 address, "10.77.0.2"
  bool loopback = false;
};

struct MulticastSocketOptions {
  std::string group = "224.0.0.251";
  std::uint16_t port = 5353;
  bool include_loopback = false;  // also join and send on loopback interfaces
  std::uint32_t rescan_interval_ms = 5'000;
  std::size_t datagram_bytes_max = 9'000;  // larger datagrams are dropped (RFC 6762 §17)
  std::size_t interfaces_max = 64;
  // Datagrams from another source port are dropped: RFC 6762 §6 says to
  // ignore mDNS responses not sent from port 5353. 0 accepts any port.
  std::uint16_t required_source_port = 5353;
};

struct MulticastSocketCallbacks {
  // `datagram` is valid only during the call.
  std::function<void(ByteView datagram, std::uint32_t interface_index)> on_datagram;
  // After a scan joined or left an interface; `joined` is the new full list.
  std::function<void(const std::vector<MulticastInterface>& joined)> on_interfaces_changed;
};

// Counted reasons for drops and failures (also logged at debug level).
struct MulticastSocketStats {
  std::uint64_t datagrams_received = 0;
  std::uint64_t datagrams_sent = 0;      // one per interface a datagram went out on
  std::uint64_t send_failures = 0;       // the OS refused or the socket buffer was full
  std::uint64_t join_failures = 0;
  std::uint64_t dropped_oversize = 0;    // over datagram_bytes_max
  std::uint64_t dropped_foreign = 0;     // wrong source port, or an interface we did not join
};

class MulticastSocket {
 public:
  // Binds, joins the interfaces found now and starts receiving. Fails when
  // the socket cannot be bound (e.g. the port is held without SO_REUSEADDR)
  // or the group address is not an IPv4 multicast address. Finding no
  // interface is not a failure: later scans may find one.
  static Result<std::unique_ptr<MulticastSocket>> open(EventLoop& loop, MulticastSocketOptions options,
                                                       MulticastSocketCallbacks callbacks);
  // Leaves the group and closes the socket; no callback runs afterwards.
  ~MulticastSocket();
  MulticastSocket(const MulticastSocket&) = delete;
  MulticastSocket& operator=(const MulticastSocket&) = delete;

  // Sends to group:port out of one joined interface, or out of every joined
  // interface when `interface_index` is nullopt. Never blocks: a datagram
  // the socket cannot take now is dropped and counted. Unknown interfaces
  // are ignored (counted as send failures).
  void send(ByteView datagram, std::optional<std::uint32_t> interface_index);
  // Scans the interfaces now rather than at the next rescan.
  void rescan();

  std::vector<MulticastInterface> interfaces() const;
  MulticastSocketStats stats() const;

  struct State;  // shared with pending operations (defined in the .cpp)

 private:
  explicit MulticastSocket(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

// The interfaces that are up, have an IPv4 address and can multicast
// (loopback ones only when asked), one entry per interface.
std::vector<MulticastInterface> multicast_interfaces(bool include_loopback);

}  // namespace taho::runtime::asio
