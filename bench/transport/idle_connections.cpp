// Opens N fully upgraded libp2p connections (TCP + Noise XX + Yamux) to one
// daemon, each from a fresh identity, and holds them idle, so a benchmark can
// read the daemon's RSS per idle connection. Prints "ready N" on stdout once
// all are up, then holds them until stdin closes.
//
// usage: taho_bench_idle_connections /ip4/127.0.0.1/tcp/PORT/p2p/ID COUNT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "base/multiaddr.hpp"
#include "crypto/os_rng.hpp"
#include "swarm/connection.hpp"

using namespace taho;

namespace {

struct Held {
  int fd = -1;
  std::unique_ptr<swarm::Connection> connection;
};

int connect_tcp(const std::string& ip, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool send_all(int fd, ByteView bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes = bytes.subspan(static_cast<std::size_t>(n));
  }
  return true;
}

// Drives one connection's upgrade with blocking I/O; true once established.
bool upgrade(Held& held) {
  std::uint8_t buffer[16384];
  for (int round = 0; round < 200; ++round) {
    while (auto out = held.connection->poll_transmit()) {
      if (!send_all(held.fd, *out)) return false;
    }
    if (held.connection->is_established()) return true;
    if (held.connection->is_closed()) return false;
    pollfd wait{held.fd, POLLIN, 0};
    if (::poll(&wait, 1, 5000) <= 0) return false;
    ssize_t n = ::recv(held.fd, buffer, sizeof buffer, 0);
    if (n <= 0) return false;
    held.connection->handle_input(Instant{}, ByteView(buffer, static_cast<std::size_t>(n)));
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: " << argv[0] << " /ip4/IP/tcp/PORT/p2p/ID COUNT\n";
    return 2;
  }
  auto target = Multiaddr::parse(argv[1]);
  if (!target || !target->peer_id()) {
    std::cerr << "need a /ip4/.../tcp/.../p2p/... address\n";
    return 2;
  }
  std::string ip;
  std::uint16_t port = 0;
  for (const auto& component : target->components()) {
    if (component.protocol() == multiaddr::Protocol::ip4) ip = component.value_text();
    if (component.protocol() == multiaddr::Protocol::tcp) port = *component.port();
  }
  const int count = std::stoi(argv[2]);

  crypto::OpenSslCryptoSuite suite;
  crypto::OsRng rng;
  std::vector<Held> held;
  held.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    auto identity = crypto::Ed25519KeyPair::generate();
    swarm::ConnectionOptions options;
    options.direction = swarm::Direction::outbound;
    options.identity = *identity;
    options.expected_peer = target->peer_id();
    Held one{connect_tcp(ip, port), nullptr};
    if (one.fd < 0) {
      std::cerr << "connect " << i << " failed\n";
      return 1;
    }
    one.connection = std::make_unique<swarm::Connection>(Instant{}, options, suite, rng);
    if (!upgrade(one)) {
      std::cerr << "upgrade " << i << " failed\n";
      return 1;
    }
    held.push_back(std::move(one));
  }
  std::printf("ready %d\n", count);
  std::fflush(stdout);
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  for (auto& one : held) ::close(one.fd);
  return 0;
}
