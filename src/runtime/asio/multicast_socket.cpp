#include "runtime/asio/multicast_socket.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <spdlog/spdlog.h>

#include "runtime/asio/event_loop.hpp"

namespace taho::runtime::asio {
namespace {

using udp = boost::asio::ip::udp;

struct IfaddrsDeleter {
  void operator()(ifaddrs* list) const { freeifaddrs(list); }
};

std::string errno_text(int error_number) { return std::strerror(error_number); }

ip_mreqn membership(in_addr group, std::uint32_t index) {
  ip_mreqn request{};
  request.imr_multiaddr = group;
  request.imr_address.s_addr = htonl(INADDR_ANY);
  request.imr_ifindex = static_cast<int>(index);
  return request;
}

template <class T>
bool set_option(int fd, int level, int name, const T& value) {
  return ::setsockopt(fd, level, name, &value, sizeof value) == 0;
}

}  // namespace

std::vector<MulticastInterface> multicast_interfaces(bool include_loopback) {
  ifaddrs* raw = nullptr;
  if (getifaddrs(&raw) != 0) return {};
  const std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
  std::vector<MulticastInterface> out;
  for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET || entry->ifa_name == nullptr) continue;
    const bool up = (entry->ifa_flags & IFF_UP) != 0;
    const bool loopback = (entry->ifa_flags & IFF_LOOPBACK) != 0;
    const bool multicast = (entry->ifa_flags & IFF_MULTICAST) != 0;
    // Linux loopback has no IFF_MULTICAST, yet group traffic on it works.
    if (!up || (loopback ? !include_loopback : !multicast)) continue;
    const unsigned index = if_nametoindex(entry->ifa_name);
    if (index == 0) continue;
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& other) { return other.index == index; });
    if (seen) continue;
    sockaddr_in address;
    std::memcpy(&address, entry->ifa_addr, sizeof address);
    char text[INET_ADDRSTRLEN] = {};
    if (inet_ntop(AF_INET, &address.sin_addr, text, sizeof text) == nullptr) continue;
    out.push_back(MulticastInterface{index, entry->ifa_name, text, loopback});
  }
  return out;
}

struct MulticastSocket::State : std::enable_shared_from_this<MulticastSocket::State> {
  State(EventLoop& loop_in, MulticastSocketOptions options_in, MulticastSocketCallbacks callbacks_in)
      : loop(loop_in),
        options(std::move(options_in)),
        callbacks(std::move(callbacks_in)),
        socket(loop_in.context()),
        rescan_timer(loop_in),
        receive_buffer(options.datagram_bytes_max + 1) {}

  EventLoop& loop;
  MulticastSocketOptions options;
  MulticastSocketCallbacks callbacks;
  udp::socket socket;
  Timer rescan_timer;
  in_addr group{};
  std::map<std::uint32_t, MulticastInterface> joined;
  MulticastSocketStats stats;
  Bytes receive_buffer;

  Result<void> bind() {
    boost::system::error_code error;
    socket.open(udp::v4(), error);
    if (error) return fail("mDNS socket: " + error.message());
    const int fd = socket.native_handle();
    const int on = 1;
    const int off = 0;
    const int ttl = 255;
    const unsigned char loop_on = 1;
    if (!set_option(fd, SOL_SOCKET, SO_REUSEADDR, on) || !set_option(fd, SOL_SOCKET, SO_REUSEPORT, on)) {
      return fail("mDNS socket: cannot share the port: " + errno_text(errno));
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(options.port);
    local.sin_addr.s_addr = htonl(INADDR_ANY);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      return fail("mDNS socket: cannot bind 0.0.0.0:" + std::to_string(options.port) + ": " + errno_text(errno));
    }
    // Which interface each datagram came in on; only the groups this socket
    // joined (Linux otherwise delivers groups other sockets joined too).
    set_option(fd, IPPROTO_IP, IP_PKTINFO, on);
#ifdef IP_MULTICAST_ALL
    set_option(fd, IPPROTO_IP, IP_MULTICAST_ALL, off);
#endif
    set_option(fd, IPPROTO_IP, IP_MULTICAST_TTL, ttl);
    set_option(fd, IPPROTO_IP, IP_MULTICAST_LOOP, loop_on);
    socket.non_blocking(true, error);
    if (error) return fail("mDNS socket: " + error.message());
    (void)off;
    return {};
  }

  void scan() {
    const auto found = multicast_interfaces(options.include_loopback);
    bool changed = false;
    for (auto it = joined.begin(); it != joined.end();) {
      const bool still_there = std::any_of(found.begin(), found.end(),
                                           [&](const auto& candidate) { return candidate.index == it->first; });
      if (still_there) {
        ++it;
        continue;
      }
      const auto request = membership(group, it->first);
      set_option(socket.native_handle(), IPPROTO_IP, IP_DROP_MEMBERSHIP, request);  // may be gone already
      spdlog::debug("mDNS: interface {} went away", it->second.name);
      it = joined.erase(it);
      changed = true;
    }
    for (const auto& candidate : found) {
      if (joined.count(candidate.index) > 0) {
        joined[candidate.index].ipv4 = candidate.ipv4;
        continue;
      }
      if (joined.size() >= options.interfaces_max) break;
      const auto request = membership(group, candidate.index);
      if (!set_option(socket.native_handle(), IPPROTO_IP, IP_ADD_MEMBERSHIP, request) && errno != EADDRINUSE) {
        ++stats.join_failures;
        spdlog::debug("mDNS: cannot join {} on {}: {}", options.group, candidate.name, errno_text(errno));
        continue;
      }
      spdlog::debug("mDNS: joined {} on {} ({})", options.group, candidate.name, candidate.ipv4);
      joined[candidate.index] = candidate;
      changed = true;
    }
    if (changed && callbacks.on_interfaces_changed) {
      std::weak_ptr<State> weak = shared_from_this();
      loop.post([weak] {
        auto self = weak.lock();
        if (!self || !self->callbacks.on_interfaces_changed) return;
        self->callbacks.on_interfaces_changed(self->interface_list());
      });
    }
  }

  void arm_rescan() {
    std::weak_ptr<State> weak = shared_from_this();
    rescan_timer.arm_at(loop.now() + std::chrono::milliseconds(options.rescan_interval_ms), [weak] {
      auto self = weak.lock();
      if (!self) return;
      self->scan();
      self->arm_rescan();
    });
  }

  std::vector<MulticastInterface> interface_list() const {
    std::vector<MulticastInterface> out;
    for (const auto& [index, interface] : joined) out.push_back(interface);
    return out;
  }

  void wait_readable() {
    std::weak_ptr<State> weak = shared_from_this();
    socket.async_wait(udp::socket::wait_read, [weak](const boost::system::error_code& error) {
      auto self = weak.lock();
      if (!self || error == boost::asio::error::operation_aborted || !self->socket.is_open()) return;
      if (!error) self->drain();
      self->wait_readable();
    });
  }

  // Reads every queued datagram (the socket is non-blocking).
  void drain() {
    while (socket.is_open()) {
      sockaddr_in source{};
      iovec buffer{receive_buffer.data(), receive_buffer.size()};
      alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(in_pktinfo))] = {};
      msghdr header{};
      header.msg_name = &source;
      header.msg_namelen = sizeof source;
      header.msg_iov = &buffer;
      header.msg_iovlen = 1;
      header.msg_control = control;
      header.msg_controllen = sizeof control;
      const ssize_t received = ::recvmsg(socket.native_handle(), &header, MSG_DONTWAIT);
      if (received < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          spdlog::debug("mDNS: receive failed: {}", errno_text(errno));
        }
        if (errno == EINTR) continue;
        return;
      }
      const auto size = static_cast<std::size_t>(received);
      if ((header.msg_flags & MSG_TRUNC) != 0 || size > options.datagram_bytes_max) {
        ++stats.dropped_oversize;
        continue;
      }
      std::optional<std::uint32_t> interface_index;
      for (cmsghdr* message = CMSG_FIRSTHDR(&header); message != nullptr; message = CMSG_NXTHDR(&header, message)) {
        if (message->cmsg_level == IPPROTO_IP && message->cmsg_type == IP_PKTINFO) {
          in_pktinfo info;
          std::memcpy(&info, CMSG_DATA(message), sizeof info);
          interface_index = static_cast<std::uint32_t>(info.ipi_ifindex);
        }
      }
      const bool port_ok = options.required_source_port == 0 || ntohs(source.sin_port) == options.required_source_port;
      if (!interface_index || joined.count(*interface_index) == 0 || !port_ok) {
        ++stats.dropped_foreign;
        continue;
      }
      ++stats.datagrams_received;
      if (callbacks.on_datagram) callbacks.on_datagram(ByteView(receive_buffer.data(), size), *interface_index);
    }
  }

  void send_on(ByteView datagram, std::uint32_t index) {
    const int fd = socket.native_handle();
    const auto request = membership(group, index);
    sockaddr_in destination{};
    destination.sin_family = AF_INET;
    destination.sin_port = htons(options.port);
    destination.sin_addr = group;
    if (!set_option(fd, IPPROTO_IP, IP_MULTICAST_IF, request) ||
        ::sendto(fd, datagram.data(), datagram.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&destination),
                 sizeof destination) < 0) {
      ++stats.send_failures;
      spdlog::debug("mDNS: cannot send on interface {}: {}", index, errno_text(errno));
      return;
    }
    ++stats.datagrams_sent;
  }
};

Result<std::unique_ptr<MulticastSocket>> MulticastSocket::open(EventLoop& loop, MulticastSocketOptions options,
                                                               MulticastSocketCallbacks callbacks) {
  auto state = std::make_shared<State>(loop, std::move(options), std::move(callbacks));
  if (inet_pton(AF_INET, state->options.group.c_str(), &state->group) != 1 || !IN_MULTICAST(ntohl(state->group.s_addr))) {
    return fail("mDNS socket: \"" + state->options.group + "\" is not an IPv4 multicast address");
  }
  if (auto bound = state->bind(); !bound) return fail(bound.error().text);
  state->scan();
  state->arm_rescan();
  state->wait_readable();
  return std::unique_ptr<MulticastSocket>(new MulticastSocket(std::move(state)));
}

MulticastSocket::MulticastSocket(std::shared_ptr<State> state) : state_(std::move(state)) {}

MulticastSocket::~MulticastSocket() {
  state_->rescan_timer.cancel();
  for (const auto& [index, interface] : state_->joined) {
    const auto request = membership(state_->group, index);
    set_option(state_->socket.native_handle(), IPPROTO_IP, IP_DROP_MEMBERSHIP, request);
  }
  boost::system::error_code ignored;
  state_->socket.close(ignored);
}

void MulticastSocket::send(ByteView datagram, std::optional<std::uint32_t> interface_index) {
  if (interface_index) {
    if (state_->joined.count(*interface_index) == 0) {
      ++state_->stats.send_failures;
      return;
    }
    state_->send_on(datagram, *interface_index);
    return;
  }
  for (const auto& [index, interface] : state_->joined) state_->send_on(datagram, index);
}

void MulticastSocket::rescan() { state_->scan(); }

std::vector<MulticastInterface> MulticastSocket::interfaces() const { return state_->interface_list(); }

MulticastSocketStats MulticastSocket::stats() const { return state_->stats; }

}  // namespace taho::runtime::asio
