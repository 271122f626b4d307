// Test-only: two Yamux sessions wired back to back over a virtual link with a
// one-way delay and optional random fragmentation, under virtual time. A
// ledger per direction checks that no data frame ever exceeds the window the
// sender had been granted when it sent it.
#pragma once

#include <deque>
#include <functional>
#include <random>
#include <unordered_map>
#include <vector>

#include "proto/yamux/session.hpp"

namespace taho::yamux::testing {

// Splits a buffer of whole frames (what poll_transmit returns) into headers.
inline std::vector<Header> scan_frames(ByteView bytes) {
  std::vector<Header> headers;
  while (bytes.size() >= kHeaderBytes) {
    const Header header = decode_header(bytes.first<kHeaderBytes>());
    bytes = bytes.subspan(kHeaderBytes);
    headers.push_back(header);
    if (header.type == FrameType::data) bytes = bytes.subspan(std::min<std::size_t>(header.length, bytes.size()));
  }
  return headers;
}

// Flow-control bookkeeping for one direction, from the sender's viewpoint.
struct WindowLedger {
  std::unordered_map<StreamId, std::uint64_t> sent;
  std::unordered_map<StreamId, std::uint64_t> credit;  // window updates the sender had received
  std::uint64_t violations = 0;
  std::uint32_t largest_data_frame = 0;
  std::uint64_t data_bytes = 0;

  void on_sent(ByteView transmit) {
    for (const Header& header : scan_frames(transmit)) {
      if (header.type != FrameType::data) continue;
      largest_data_frame = std::max(largest_data_frame, header.length);
      data_bytes += header.length;
      sent[header.stream] += header.length;
      if (sent[header.stream] > kInitialWindowBytes + credit[header.stream]) ++violations;
    }
  }
  void on_credit_arrived(ByteView transmit) {
    for (const Header& header : scan_frames(transmit)) {
      if (header.type == FrameType::window_update) credit[header.stream] += header.length;
    }
  }
};

class SessionPair {
 public:
  struct Config {
    Options client_options;
    Options server_options;
    Duration one_way_delay{0};
    bool fragment = false;       // deliver each buffer in random pieces
    std::size_t fragment_bytes_max = 4096;
    std::uint64_t seed = 1;
  };

 private:
  Config config_;  // first: the sessions below are built from it

 public:
  explicit SessionPair(Config config)
      : config_(std::move(config)),
        client(Role::client, Instant{}, config_.client_options),
        server(Role::server, Instant{}, config_.server_options),
        rng_(config_.seed) {}

  Session client;
  Session server;
  Instant now{};
  std::deque<Event> client_events;
  std::deque<Event> server_events;
  WindowLedger client_to_server;
  WindowLedger server_to_client;
  bool link_up = true;  // false drops everything sent (a dead peer)

  // Moves transmits onto the links, delivers what is due, fires timers and
  // collects events. Returns false when nothing happened.
  bool step() {
    bool progress = pump();
    progress |= deliver_due();
    for (Session* session : {&client, &server}) {
      if (auto at = session->next_timeout(); at && *at <= now) {
        session->handle_timeout(now);
        progress = true;
      }
    }
    while (auto event = client.poll_event()) client_events.push_back(std::move(*event)), progress = true;
    while (auto event = server.poll_event()) server_events.push_back(std::move(*event)), progress = true;
    progress |= pump();
    return progress;
  }

  // Jumps virtual time to the next arrival or timer. False when there is none.
  bool advance() {
    std::optional<Instant> next;
    auto consider = [&](std::optional<Instant> at) {
      if (at && (!next || *at < *next)) next = at;
    };
    if (!to_server_.empty()) consider(to_server_.front().arrival);
    if (!to_client_.empty()) consider(to_client_.front().arrival);
    consider(client.next_timeout());
    consider(server.next_timeout());
    if (!next) return false;
    now = std::max(now, *next);
    return true;
  }

  // Runs `app` (the test's application logic, acting on the event queues)
  // and the network until `done()`; false if it never got there.
  bool run_until(const std::function<bool()>& done, const std::function<void()>& app = [] {},
                 std::size_t steps_max = 10'000'000) {
    for (std::size_t i = 0; i < steps_max; ++i) {
      app();
      if (done()) return true;
      if (!step() && !advance()) return done();
    }
    return done();
  }

  bool links_empty() const { return to_server_.empty() && to_client_.empty(); }

 private:
  struct InFlight {
    Instant arrival;
    Bytes bytes;
  };

  bool pump() {
    bool progress = false;
    while (auto bytes = client.poll_transmit()) {
      client_to_server.on_sent(*bytes);
      if (link_up) to_server_.push_back({now + config_.one_way_delay, std::move(*bytes)});
      progress = true;
    }
    while (auto bytes = server.poll_transmit()) {
      server_to_client.on_sent(*bytes);
      if (link_up) to_client_.push_back({now + config_.one_way_delay, std::move(*bytes)});
      progress = true;
    }
    return progress;
  }

  bool deliver_due() {
    bool progress = false;
    while (!to_server_.empty() && to_server_.front().arrival <= now) {
      const Bytes bytes = std::move(to_server_.front().bytes);
      to_server_.pop_front();
      server_to_client.on_credit_arrived(bytes);
      feed(server, bytes);
      progress = true;
    }
    while (!to_client_.empty() && to_client_.front().arrival <= now) {
      const Bytes bytes = std::move(to_client_.front().bytes);
      to_client_.pop_front();
      client_to_server.on_credit_arrived(bytes);
      feed(client, bytes);
      progress = true;
    }
    return progress;
  }

  void feed(Session& session, ByteView bytes) {
    if (!config_.fragment) return session.handle_input(now, bytes);
    while (!bytes.empty()) {
      std::uniform_int_distribution<std::size_t> size(1, config_.fragment_bytes_max);
      const std::size_t piece = std::min(size(rng_), bytes.size());
      session.handle_input(now, bytes.first(piece));
      bytes = bytes.subspan(piece);
    }
  }

  std::mt19937_64 rng_;
  std::deque<InFlight> to_server_;
  std::deque<InFlight> to_client_;
};

}  // namespace taho::yamux::testing
