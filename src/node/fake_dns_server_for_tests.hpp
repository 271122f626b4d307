// A tiny authoritative DNS server on 127.0.0.1 for tests of DnsTxtResolver
// and BootstrapPeers: answers TXT questions from a zone, NXDOMAIN for
// other names, and nothing at all for "silent" names (a timeout). Runs on
// its own thread; included by tests only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "proto/mdns/dns_message.hpp"

namespace taho::node::testing {

class FakeDnsServer {
 public:
  FakeDnsServer() {
    socket_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(socket_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeDnsServer() {
    stop_ = true;
    thread_.join();
    ::close(socket_);
  }
  FakeDnsServer(const FakeDnsServer&) = delete;
  FakeDnsServer& operator=(const FakeDnsServer&) = delete;

  std::uint16_t port() const { return port_; }

  void set_txt(const std::string& name, std::vector<std::string> records) {
    const std::lock_guard lock(mutex_);
    zone_[name] = std::move(records);
    silent_.erase(name);
  }
  void set_silent(const std::string& name) {
    const std::lock_guard lock(mutex_);
    silent_.insert(name);
  }
  std::size_t queries(const std::string& name) {
    const std::lock_guard lock(mutex_);
    return asked_.count(name);
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd waiting{socket_, POLLIN, 0};
      if (::poll(&waiting, 1, 20) <= 0) continue;
      std::uint8_t buffer[4096];
      sockaddr_in from{};
      socklen_t from_length = sizeof from;
      const auto received =
          ::recvfrom(socket_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &from_length);
      if (received <= 0) continue;
      auto query = mdns::dns::decode(ByteView(buffer, static_cast<std::size_t>(received)));
      if (!query || query->questions.size() != 1) continue;
      auto reply = answer(*query);
      if (reply.empty()) continue;
      ::sendto(socket_, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from), from_length);
    }
  }

  Bytes answer(const mdns::dns::Message& query) {
    const auto& question = query.questions.front();
    const std::string name = question.name.to_string();
    mdns::dns::Message reply;
    reply.header.id = query.header.id;
    constexpr std::uint16_t recursion_desired = 0x0100;
    constexpr std::uint16_t recursion_available = 0x0080;
    constexpr std::uint16_t rcode_nxdomain = 3;
    reply.header.flags = mdns::dns::flag_response | mdns::dns::flag_authoritative | recursion_available |
                         (query.header.flags & recursion_desired);
    reply.questions.push_back(question);
    {
      const std::lock_guard lock(mutex_);
      asked_.insert(name);
      if (silent_.count(name)) return {};
      const auto found = zone_.find(name);
      if (found == zone_.end()) {
        reply.header.flags |= rcode_nxdomain;
      } else if (question.qtype == mdns::dns::type::txt) {
        for (const auto& record : found->second) {
          mdns::dns::TxtData data;
          // Records over 255 bytes travel as several character strings.
          for (std::size_t at = 0; at < record.size() || at == 0; at += 255) data.strings.push_back(record.substr(at, 255));
          reply.answers.push_back({question.name, mdns::dns::type::txt, mdns::dns::class_in, 60, data});
        }
      }
    }
    auto encoded = mdns::dns::encode(reply);
    return encoded ? *encoded : Bytes{};
  }

  int socket_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::vector<std::string>> zone_;
  std::set<std::string> silent_;
  std::multiset<std::string> asked_;
};

}  // namespace taho::node::testing
