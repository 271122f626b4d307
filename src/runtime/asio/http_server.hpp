// A small HTTP/1.1 server for the local API, on the event loop's thread.
// Requests are handed to one handler as plain values (runtime/http_message.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "base/error.hpp"
#include "runtime/http_message.hpp"

namespace taho::runtime::asio {

class EventLoop;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9481;                 // 0 picks a free port
  std::size_t header_bytes_max = 16 * 1024;
  std::size_t body_bytes_max = 4 * 1024 * 1024;
  std::size_t connections_max = 256;
  // A silent client is dropped after this. A streamed response is exempt
  // while its client stays connected (the server watches for it leaving);
  // only a client that accepts no byte of it for this long is dropped.
  std::uint32_t idle_timeout_ms = 30'000;
  // Streamed responses (HttpResponse::stream):
  std::size_t stream_queue_bytes_max = 8 * 1024 * 1024;  // a write past this cuts the stream
  std::size_t stream_low_water_bytes = 256 * 1024;       // below this, on_drain lets the producer go on
  // A text/event-stream response silent for this long gets a ": keep-alive"
  // comment line, which SSE clients ignore; it keeps proxies and client idle
  // timers from giving up and finds dead peers. 0 = off.
  std::uint32_t sse_keepalive_ms = 15'000;
};

// The handler answers through the responder, now or later (e.g. after a
// network round trip), exactly once, on the event loop's thread. To stream a
// body, answer with HttpResponse::stream set (runtime/http_message.hpp).
using HttpResponder = std::function<void(HttpResponse)>;
using HttpHandler = std::function<void(const HttpRequest&, HttpResponder)>;

class HttpServer {
 public:
  // Binds and starts accepting. Fails with a clear message (e.g. port in use).
  static Result<std::unique_ptr<HttpServer>> start(EventLoop& loop, const HttpServerOptions& options,
                                                   HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound address, "127.0.0.1:9481", with the real port when 0 was asked.
  std::string local_address() const;
  void stop();

  struct State;  // shared with the connections it accepts (defined in the .cpp)

 private:
  explicit HttpServer(std::shared_ptr<State> state);
  std::shared_ptr<State> state_;
};

}  // namespace taho::runtime::asio
