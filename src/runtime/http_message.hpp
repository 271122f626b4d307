// Plain HTTP request/response values passed between a driver's HTTP server
// and the API's routes, so the routes never see a socket.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace taho::runtime {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
      return std::tolower(static_cast<unsigned char>(x)) < std::tolower(static_cast<unsigned char>(y));
    });
  }
};
using HttpHeaders = std::map<std::string, std::string, CaseInsensitiveLess>;

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string target;   // path and query, e.g. "/api/v1/id?x=1"
  HttpHeaders headers;
  std::string body;
  std::string remote;   // "127.0.0.1:53422", for logs
};

// The sending end of one streamed response body. Each driver's HTTP server
// implements it next to its socket; tests of routes may implement it too.
// Producers use it through HttpStreamWriter, never directly.
class HttpStreamSink {
 public:
  virtual ~HttpStreamSink() = default;
  virtual bool write(std::string chunk) = 0;
  virtual std::size_t queued_bytes() const = 0;
  virtual bool backlogged() const = 0;
  virtual bool open() const = 0;
  virtual void on_drain(std::function<void()> drained) = 0;
  virtual void on_close(std::function<void()> closed) = 0;
  virtual void finish() = 0;
  virtual void abort() = 0;
};

// A producer's handle on a streamed response body (server-sent events, large
// content). Movable, used on the event loop's thread only.
//
// Callbacks run on the loop, never from inside a writer call (so a callback
// may destroy the writer, and write() may be called while iterating over
// writers), and never after finish(), abort() or the writer's destruction.
// Destroying a writer that was not finished aborts the response: the client
// sees a truncated body rather than a wrong one that looks complete.
class HttpStreamWriter {
 public:
  HttpStreamWriter() = default;  // detached: write() returns false
  explicit HttpStreamWriter(std::unique_ptr<HttpStreamSink> sink) : sink_(std::move(sink)) {}
  HttpStreamWriter(HttpStreamWriter&&) noexcept = default;
  // Assigning over an unfinished writer aborts its response, as destroying it would.
  HttpStreamWriter& operator=(HttpStreamWriter&& other) noexcept {
    if (this != &other) {
      abort();
      sink_ = std::move(other.sink_);
    }
    return *this;
  }
  ~HttpStreamWriter() { abort(); }

  // Queues body bytes. False once the client is gone or the stream was cut
  // (queue over its limit, more bytes than the declared Content-Length);
  // the chunk is then dropped. An empty chunk is a no-op.
  bool write(std::string chunk) { return sink_ && sink_->write(std::move(chunk)); }
  // Bytes accepted and not yet written to the socket (framing included).
  std::size_t queued_bytes() const { return sink_ ? sink_->queued_bytes() : 0; }
  // True while the queue is at or above the server's low-water mark: pause
  // producing until on_drain fires.
  bool backlogged() const { return sink_ && sink_->backlogged(); }
  // True while the client is connected and the stream is neither finished nor cut.
  bool open() const { return sink_ && sink_->open(); }
  // Called each time the queue falls below the low-water mark after having
  // been at or above it.
  void on_drain(std::function<void()> drained) {
    if (sink_) sink_->on_drain(std::move(drained));
  }
  // Called once when the client disconnects or the stream is cut. Register
  // it when the writer arrives: on a stream already ended it never fires.
  void on_close(std::function<void()> closed) {
    if (sink_) sink_->on_close(std::move(closed));
  }
  // Ends the body cleanly once the queue is flushed (the terminating chunk,
  // or closing after exactly Content-Length bytes; fewer is a truncation).
  void finish() {
    if (auto sink = std::move(sink_)) sink->finish();
  }
  // Drops whatever is queued and closes the connection.
  void abort() {
    if (auto sink = std::move(sink_)) sink->abort();
  }

 private:
  std::unique_ptr<HttpStreamSink> sink_;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Set to stream the body instead of sending `body`: the server sends the
  // status and headers, then hands the writer to this callback, before the
  // responder returns. With a Content-Length header the body is exactly that
  // many bytes; without one it is sent with Transfer-Encoding: chunked. The
  // connection closes when the stream ends.
  std::function<void(HttpStreamWriter)> stream;
};

}  // namespace taho::runtime
