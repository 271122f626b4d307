// A minimal taho QUIC peer for interop tests, without the swarm: a
// QuicSocket on 127.0.0.1, multistream-select on every stream, and libp2p
// ping (/ipfs/ping/1.0.0) both ways. Any other protocol a peer proposes
// (identify, ...) is answered `na`.
//
//   quic_peer [--dial <quic multiaddr with /p2p/>] [--pings N] [--serve] [--timeout-s S]
//             [--certificate libp2p|without-extension|bad-signature] [--always-retry]
//
// stdout: JSON lines: {"event":"listening","addr":...,"peer_id":...} first,
// then "connected", "ping" (rtt_ms), "ping_served", "closed", and "done"
// once the dial's pings are over. Exits 0 on success; 1 with
// {"event":"error","message":...} otherwise. --serve keeps serving until
// stdin closes (or the timeout).
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>

#include "crypto/os_rng.hpp"
#include "proto/multistream/dialer.hpp"
#include "proto/multistream/listener.hpp"
#include "proto/ping/ping.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/quic_socket.hpp"

namespace {

using namespace taho;
namespace quic = taho::quic;
using runtime::asio::EventLoop;
using runtime::asio::QuicSocket;

void emit(const std::string& json) {
  std::cout << json << std::endl;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

struct Arguments {
  std::optional<Multiaddr> dial;
  int pings = 3;
  bool serve = false;
  int timeout_s = 30;
  quic::CertificateKind certificate = quic::CertificateKind::libp2p;
  bool always_retry = false;  // every inbound client must echo a Retry token first
};

std::optional<Arguments> parse_arguments(int argc, char** argv) {
  Arguments arguments;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const bool has_value = i + 1 < argc;
    if (flag == "--dial" && has_value) {
      auto address = Multiaddr::parse(argv[++i]);
      if (!address) return std::nullopt;
      arguments.dial = *address;
    } else if (flag == "--pings" && has_value) {
      arguments.pings = std::atoi(argv[++i]);
    } else if (flag == "--timeout-s" && has_value) {
      arguments.timeout_s = std::atoi(argv[++i]);
    } else if (flag == "--certificate" && has_value) {
      const std::string kind = argv[++i];
      if (kind == "without-extension") {
        arguments.certificate = quic::CertificateKind::without_extension;
      } else if (kind == "bad-signature") {
        arguments.certificate = quic::CertificateKind::bad_signature;
      } else if (kind != "libp2p") {
        return std::nullopt;
      }
    } else if (flag == "--always-retry") {
      arguments.always_retry = true;
    } else if (flag == "--serve") {
      arguments.serve = true;
    } else {
      return std::nullopt;
    }
  }
  return arguments;
}

// One stream's protocol stack: multistream-select, then ping (either side).
struct StreamTask {
  std::optional<multistream::Dialer> negotiate_out;
  std::optional<multistream::Listener> negotiate_in;
  std::optional<ping::Dialer> pinger;
  std::optional<ping::Listener> echoer;
  int pings_left = 0;
  bool write_closed = false;
};

class Peer {
 public:
  Peer(EventLoop& loop, Arguments arguments) : loop_(loop), arguments_(std::move(arguments)) {}

  int run() {
    auto host = crypto::Ed25519KeyPair::generate();
    if (!host) return fatal("no host key: " + host.error().text);
    host_ = std::move(*host);
    auto listen = Multiaddr::parse("/ip4/127.0.0.1/udp/0/quic-v1");
    runtime::asio::QuicSocketOptions options;
    auto certificate = quic::generate_certificate(*host_, arguments_.certificate);
    if (!certificate) return fatal(certificate.error().text);
    options.certificate = std::move(*certificate);
    if (arguments_.always_retry) options.quic.retry_above_pending_handshakes = 0;
    auto socket = QuicSocket::open(loop_, *listen, *host_, rng_, std::move(options),
                                   [this](const quic::Event& event) { on_event(event); });
    if (!socket) return fatal(socket.error().text);
    socket_ = std::move(*socket);
    const auto& id = socket_->endpoint().local_peer_id();
    emit("{\"event\":\"listening\",\"addr\":" + quoted(socket_->listen_address().with_peer_id(id).to_string()) +
         ",\"peer_id\":" + quoted(id.to_string()) + "}");

    if (arguments_.dial) {
      auto dialed = socket_->dial(*arguments_.dial);
      if (!dialed) return fatal("dial: " + dialed.error().text);
      dialed_ = *dialed;
    }
    // Stdin closing ends a --serve run.
    boost::asio::posix::stream_descriptor input(loop_.context(), ::dup(0));
    std::array<char, 256> sink{};
    std::function<void()> read_input = [&] {
      input.async_read_some(boost::asio::buffer(sink), [&](const boost::system::error_code& error, std::size_t) {
        if (error) {
          if (arguments_.serve) finish(0);
          return;
        }
        read_input();
      });
    };
    read_input();
    runtime::asio::Timer deadline(loop_);
    deadline.arm_at(loop_.now() + std::chrono::seconds(arguments_.timeout_s), [&] {
      if (arguments_.serve && !arguments_.dial) {
        finish(0);
      } else {
        fatal("timed out after " + std::to_string(arguments_.timeout_s) + " s");
      }
    });
    loop_.context().run();
    socket_.reset();
    return status_;
  }

 private:
  int fatal(const std::string& message) {
    emit("{\"event\":\"error\",\"message\":" + quoted(message) + "}");
    finish(1);
    return 1;
  }

  // Closes every connection politely (CONNECTION_CLOSE goes out now) and stops.
  void finish(int status) {
    status_ = status;
    if (socket_) {
      const auto& stats = socket_->endpoint().stats();
      emit("{\"event\":\"stats\",\"handshakes_completed\":" + std::to_string(stats.handshakes_completed) +
           ",\"handshakes_failed\":" + std::to_string(stats.handshakes_failed) +
           ",\"retries_sent\":" + std::to_string(stats.retries_sent) + "}");
      for (const auto handle : connections_) socket_->endpoint().close(handle, 0, "done");
      connections_.clear();
      socket_->flush();
    }
    loop_.stop();
  }

  void on_event(const quic::Event& event) {
    auto& endpoint = socket_->endpoint();
    if (const auto* connected = std::get_if<quic::Connected>(&event)) {
      emit("{\"event\":\"connected\",\"peer\":" + quoted(connected->remote.to_string()) +
           ",\"inbound\":" + (connected->inbound ? "true" : "false") + "}");
      connections_.insert(connected->connection);
      if (connected->connection == dialed_) start_pinging(connected->connection);
    } else if (const auto* opened = std::get_if<quic::StreamOpened>(&event)) {
      auto listener = multistream::Listener::create({std::string(ping::protocol_id)});
      auto& task = tasks_[{opened->connection, opened->stream}];
      task.negotiate_in.emplace(std::move(*listener));
    } else if (const auto* readable = std::get_if<quic::StreamReadable>(&event)) {
      on_readable(readable->connection, readable->stream);
    } else if (const auto* closed = std::get_if<quic::StreamClosed>(&event)) {
      tasks_.erase({closed->connection, closed->stream});
    } else if (const auto* closed_connection = std::get_if<quic::ConnectionClosed>(&event)) {
      connections_.erase(closed_connection->connection);
      emit("{\"event\":\"closed\",\"reason\":" + quoted(closed_connection->reason) + "}");
      if (closed_connection->connection == dialed_ && pings_done_ < arguments_.pings) {
        fatal("connection closed before the pings were done: " + closed_connection->reason);
      }
    }
    (void)endpoint;
  }

  void start_pinging(quic::ConnectionHandle connection) {
    auto stream = socket_->endpoint().open_stream(connection);
    if (!stream) {
      fatal("open_stream: " + stream.error().detail);
      return;
    }
    auto dialer = multistream::Dialer::create({std::string(ping::protocol_id)});
    auto& task = tasks_[{connection, *stream}];
    task.negotiate_out.emplace(std::move(*dialer));
    task.pings_left = arguments_.pings;
    pump(connection, *stream, task);
  }

  void on_readable(quic::ConnectionHandle connection, quic::StreamId stream) {
    auto it = tasks_.find({connection, stream});
    auto& endpoint = socket_->endpoint();
    while (true) {
      auto read = endpoint.read(connection, stream, 64 * 1024);
      if (!read) {
        tasks_.erase({connection, stream});
        return;
      }
      if (it != tasks_.end() && !read->data.empty()) feed(connection, stream, it->second, read->data);
      if (read->finished) {
        if (it != tasks_.end()) {
          if (it->second.echoer) it->second.echoer->handle_end(loop_.now());
          pump(connection, stream, it->second);
          if (!it->second.write_closed) {
            (void)endpoint.close_write(connection, stream);
            it->second.write_closed = true;
          }
        }
        return;
      }
      if (read->data.empty()) return;
      it = tasks_.find({connection, stream});
    }
  }

  void feed(quic::ConnectionHandle connection, quic::StreamId stream, StreamTask& task, ByteView data) {
    Bytes after_negotiation;
    if (task.negotiate_out) {
      auto result = task.negotiate_out->handle_input(data);
      if (!result) {
        fatal("multistream (dialer): " + result.error().detail);
        return;
      }
      if (!*result) return;
      task.negotiate_out.reset();
      task.pinger.emplace();
      after_negotiation = (*result)->leftover;
      next_ping(task);
    } else if (task.negotiate_in) {
      auto result = task.negotiate_in->handle_input(data);
      pump(connection, stream, task);  // the echo or `na`
      if (!result) {
        task.negotiate_in.reset();
        (void)socket_->endpoint().close_write(connection, stream);
        task.write_closed = true;
        return;
      }
      if (!*result) return;
      task.negotiate_in.reset();
      task.echoer.emplace(loop_.now());
      after_negotiation = (*result)->leftover;
    } else {
      after_negotiation.assign(data.begin(), data.end());
    }
    if (!after_negotiation.empty()) {
      if (task.pinger) task.pinger->handle_data(loop_.now(), after_negotiation);
      if (task.echoer) task.echoer->handle_data(loop_.now(), after_negotiation);
    }
    pump(connection, stream, task);
  }

  void next_ping(StreamTask& task) {
    if (task.pings_left <= 0) return;
    --task.pings_left;
    if (auto started = task.pinger->ping(loop_.now(), rng_); !started) fatal("ping: " + started.error().detail);
  }

  // Sends what the stream's current stage produced and handles its outcomes.
  void pump(quic::ConnectionHandle connection, quic::StreamId stream, StreamTask& task) {
    auto& endpoint = socket_->endpoint();
    const auto send = [&](const Bytes& bytes) {
      auto taken = endpoint.write(connection, stream, bytes);
      if (!taken || *taken != bytes.size()) fatal("stream write refused");
    };
    if (task.negotiate_out) {
      while (auto bytes = task.negotiate_out->poll_transmit()) send(*bytes);
    }
    if (task.negotiate_in) {
      while (auto bytes = task.negotiate_in->poll_transmit()) send(*bytes);
    }
    if (task.pinger) {
      while (auto bytes = task.pinger->poll_transmit()) send(*bytes);
      while (auto outcome = task.pinger->poll_event()) {
        if (const auto* pong = std::get_if<ping::Pong>(&*outcome)) {
          ++pings_done_;
          emit("{\"event\":\"ping\",\"rtt_ms\":" +
               std::to_string(std::chrono::duration<double, std::milli>(pong->rtt).count()) + "}");
          if (task.pings_left > 0) {
            next_ping(task);
            while (auto bytes = task.pinger->poll_transmit()) send(*bytes);
          } else {
            (void)endpoint.close_write(connection, stream);
            task.write_closed = true;
            emit("{\"event\":\"done\"}");
            if (!arguments_.serve) finish(0);
          }
        } else {
          fatal("ping failed: " + std::get<ping::Failed>(*outcome).error.detail);
        }
      }
    }
    if (task.echoer) {
      while (auto bytes = task.echoer->poll_transmit()) {
        send(*bytes);
        emit("{\"event\":\"ping_served\"}");
      }
    }
  }

  EventLoop& loop_;
  Arguments arguments_;
  crypto::OsRng rng_;
  std::optional<crypto::Ed25519KeyPair> host_;
  std::unique_ptr<QuicSocket> socket_;
  std::map<std::pair<quic::ConnectionHandle, quic::StreamId>, StreamTask> tasks_;
  std::set<quic::ConnectionHandle> connections_;
  quic::ConnectionHandle dialed_ = 0;
  int pings_done_ = 0;
  int status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  auto arguments = parse_arguments(argc, argv);
  if (!arguments) {
    std::fprintf(stderr, "usage: quic_peer [--dial <multiaddr>] [--pings N] [--serve] [--timeout-s S]\n");
    return 2;
  }
  EventLoop loop;
  Peer peer(loop, std::move(*arguments));
  return peer.run();
}
