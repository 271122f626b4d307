// Loopback throughput of the stream transport, TCP and WebSocket, printed
// beside iperf3's TCP figure from the same run and the ratio. Both of our
// ends share one thread (the event loop), while iperf3 runs its client and
// server as two processes: the ratio is the price of one thread plus our
// copies. MB = 10^6 bytes; rates use wall-clock time (on VMs the kernel's
// loopback work is not always billed to the process, so CPU time misleads).
//
// Usage: taho_bench_transport [MiB to send per transport, default 1024]
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/stream_transport.hpp"

namespace {

using namespace taho;
using namespace taho::runtime::asio;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kChunkBytes = 1024 * 1024;
// Kept queued at the sender so the socket never waits for us.
constexpr std::size_t kQueuedBytesTarget = 8 * 1024 * 1024;
constexpr int kIperfSeconds = 3;

struct Measurement {
  double megabytes_per_second = 0;
  std::string error;
};

// Sends `total_bytes` from a dialer to a listener on `listen_text` and
// times first send to last byte received.
Measurement measure(const std::string& listen_text, std::size_t total_bytes) {
  EventLoop loop;
  std::size_t received = 0;
  std::optional<ConnectionId> client_id;
  bool server_open = false;
  std::string failure;

  StreamTransportCallbacks server_callbacks;
  server_callbacks.on_open = [&](const ConnectionInfo&) { server_open = true; };
  server_callbacks.on_data = [&](ConnectionId, ByteView data) { received += data.size(); };
  server_callbacks.on_closed = [&](ConnectionId, std::string reason) { failure = "server closed: " + reason; };
  StreamTransportCallbacks client_callbacks;
  client_callbacks.on_dialed = [&](DialId, const ConnectionInfo& info) { client_id = info.id; };
  client_callbacks.on_dial_failed = [&](DialId, std::string error) { failure = "dial failed: " + error; };
  client_callbacks.on_closed = [&](ConnectionId, std::string reason) { failure = "client closed: " + reason; };
  StreamTransport server(loop, {}, server_callbacks);
  StreamTransport client(loop, {}, client_callbacks);

  auto listen_address = Multiaddr::parse(listen_text);
  if (!listen_address) return {0, "bad listen address"};
  auto bound = server.listen(*listen_address);
  if (!bound) return {0, bound.error().text};
  client.dial(*bound);
  auto& context = loop.context();
  const auto setup_deadline = Clock::now() + std::chrono::seconds(10);
  while ((!client_id || !server_open) && failure.empty() && Clock::now() < setup_deadline) {
    context.run_one_for(std::chrono::milliseconds(50));
  }
  if (!client_id || !server_open) return {0, failure.empty() ? "connection setup timed out" : failure};

  const Bytes chunk(kChunkBytes, 0x5a);
  std::size_t sent = 0;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::seconds(300);
  while (received < total_bytes && failure.empty() && Clock::now() < deadline) {
    while (sent < total_bytes && client.queued_bytes(*client_id) < kQueuedBytesTarget) {
      const std::size_t size = std::min(kChunkBytes, total_bytes - sent);
      client.send(*client_id, Bytes(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(size)));
      sent += size;
    }
    context.run_one_for(std::chrono::milliseconds(50));
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (received < total_bytes) return {0, failure.empty() ? "transfer timed out" : failure};
  return {static_cast<double>(total_bytes) / 1e6 / seconds, {}};
}

std::uint16_t free_loopback_port() {
  boost::asio::io_context context;
  boost::asio::ip::tcp::acceptor probe(context,
                                       boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

std::string run_and_capture(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return {};
  std::string output;
  char buffer[4096];
  std::size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, pipe.get())) > 0) output.append(buffer, count);
  return output;
}

// iperf3 TCP over loopback: a one-shot server in the background and a
// client run for kIperfSeconds; returns the receiver's rate in MB/s.
Measurement iperf3_loopback() {
  if (std::system("command -v iperf3 >/dev/null 2>&1") != 0) return {0, "iperf3 is not installed"};
  const std::string port = std::to_string(free_loopback_port());
  std::unique_ptr<FILE, int (*)(FILE*)> server(popen(("iperf3 -s -1 -p " + port + " >/dev/null 2>&1").c_str(), "r"),
                                               pclose);
  if (!server) return {0, "cannot start iperf3 -s"};
  nlohmann::json report;
  for (int attempt = 0; attempt < 20; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the server bind
    const std::string output =
        run_and_capture("iperf3 -c 127.0.0.1 -p " + port + " -t " + std::to_string(kIperfSeconds) + " -J 2>/dev/null");
    report = nlohmann::json::parse(output, nullptr, false);
    if (!report.is_discarded() && !report.contains("error")) break;
  }
  if (report.is_discarded()) return {0, "iperf3 printed no JSON"};
  if (report.contains("error")) return {0, "iperf3: " + report["error"].get<std::string>()};
  const auto& received = report["end"]["sum_received"]["bits_per_second"];
  if (!received.is_number()) return {0, "iperf3 JSON has no end.sum_received.bits_per_second"};
  return {received.get<double>() / 8 / 1e6, {}};
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t mebibytes = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const std::size_t total_bytes = mebibytes * 1024 * 1024;
  if (total_bytes == 0) {
    std::fprintf(stderr, "usage: %s [MiB per transport, > 0]\n", argv[0]);
    return 2;
  }
  std::printf("loopback throughput, %zu MiB per transport, sender and receiver on one thread\n", mebibytes);
  const Measurement tcp = measure("/ip4/127.0.0.1/tcp/0", total_bytes);
  const Measurement websocket = measure("/ip4/127.0.0.1/tcp/0/ws", total_bytes);
  const Measurement iperf = iperf3_loopback();

  const auto print = [&](const char* name, const Measurement& ours) {
    if (!ours.error.empty()) {
      std::printf("%-18s failed: %s\n", name, ours.error.c_str());
      return;
    }
    if (iperf.error.empty()) {
      std::printf("%-18s %9.1f MB/s   iperf3 tcp %9.1f MB/s   ratio %.2f\n", name, ours.megabytes_per_second,
                  iperf.megabytes_per_second, ours.megabytes_per_second / iperf.megabytes_per_second);
    } else {
      std::printf("%-18s %9.1f MB/s   (no reference: %s)\n", name, ours.megabytes_per_second, iperf.error.c_str());
    }
  };
  print("taho tcp", tcp);
  print("taho websocket", websocket);
  if (iperf.error.empty()) std::printf("iperf3 tcp (%d s)   %9.1f MB/s\n", kIperfSeconds, iperf.megabytes_per_second);
  return tcp.error.empty() && websocket.error.empty() ? 0 : 1;
}
