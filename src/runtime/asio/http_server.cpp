#include "runtime/asio/http_server.hpp"

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <deque>
#include <optional>
#include <sstream>
#include <spdlog/spdlog.h>
#include <vector>

#include "runtime/asio/event_loop.hpp"

namespace taho::runtime::asio {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(boost::asio::io_context& context, HttpServerOptions opts, HttpHandler h)
      : acceptor(context), options(std::move(opts)), handler(std::move(h)) {}

  tcp::acceptor acceptor;
  HttpServerOptions options;
  HttpHandler handler;
  std::size_t open_connections = 0;
  bool stopped = false;

  void accept_next();
};

namespace {

// Framing of a chunked body (RFC 9112 §7.1): size line, data, CRLF; the
// terminator is a zero-size chunk with no trailers.
constexpr std::string_view kChunkTerminator = "0\r\n\r\n";
constexpr std::string_view kSseKeepAlive = ": keep-alive\n\n";
// One socket write gathers queued pieces up to about this much.
constexpr std::size_t kGatherBytesMax = 1024 * 1024;
constexpr std::size_t kGatherPiecesMax = 64;  // Asio's writev takes at most 64 buffers
// Pieces up to this size (events, chunk framing) are copied into a shared
// buffer rather than queued one by one: a write then carries a whole loop
// turn's events, and no piece costs an allocation. Larger ones are queued
// as they are, never copied.
constexpr std::size_t kCopyBytesMax = 16 * 1024;
constexpr std::size_t kCoalesceBytesMax = 256 * 1024;  // one shared buffer's size before a new one starts
constexpr std::size_t kSpareBuffersMax = 4;            // emptied buffers kept for reuse

bool starts_with_ignoring_case(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// A Content-Length a handler declared: decimal digits only.
std::optional<std::uint64_t> parse_content_length(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

// One client connection: read a request, answer it, repeat while keep-alive.
// An answer may instead be a streamed body (HttpResponse::stream); the
// connection then closes when the stream ends.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)),
        server_(std::move(server)),
        stall_timer_(stream_.get_executor()),
        keepalive_timer_(stream_.get_executor()) {
    ++server_->open_connections;
    // Small event-stream writes must not wait on Nagle for the client's delayed ACK.
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
  }
  ~Connection() { --server_->open_connections; }

  void start() { read_request(); }

  // The streamed body's side, reached through StreamSink.
  bool stream_write(std::string chunk);
  std::size_t stream_queued_bytes() const { return queued_bytes_; }
  bool stream_backlogged() const {
    return phase_ == Phase::streaming && queued_bytes_ >= server_->options.stream_low_water_bytes;
  }
  bool stream_open() const { return phase_ == Phase::streaming; }
  void stream_on_drain(std::function<void()> drained) {
    if (phase_ == Phase::streaming) on_drain_ = std::move(drained);
  }
  void stream_on_close(std::function<void()> closed);
  void stream_finish();
  void stream_abort();

 private:
  // http: request/response exchanges; streaming: a producer feeds the body;
  // finishing: the producer is done and the queue is flushing; closed: over.
  enum class Phase { http, streaming, finishing, closed };

  void read_request() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->options.header_bytes_max));
    parser_->body_limit(server_->options.body_bytes_max);
    stream_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) {
                       self->on_read(error);
                     });
  }

  void on_read(beast::error_code error) {
    if (error == http::error::end_of_stream || error == beast::error::timeout ||
        error == boost::asio::error::operation_aborted) {
      close();
      return;
    }
    if (error) {
      // Malformed or oversized request: answer 400/413 once, then close.
      int status = (error == http::error::body_limit || error == http::error::header_limit) ? 413 : 400;
      HttpResponse response;
      response.status = status;
      response.headers["Content-Type"] = "application/json";
      response.body = std::string("{\"error\":\"bad request: ") + error.message() + "\"}\n";
      write_response(response, false);
      return;
    }
    auto& message = parser_->get();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers[std::string(field.name_string())] = std::string(field.value());
    }
    request.body = std::move(message.body());
    beast::error_code ignored;
    auto endpoint = stream_.socket().remote_endpoint(ignored);
    request.remote = endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
    remote_ = request.remote;
    head_request_ = message.method() == http::verb::head;
    bool keep_alive = message.keep_alive();
    server_->handler(request, [self = shared_from_this(), keep_alive](HttpResponse response) {
      self->respond(std::move(response), keep_alive);
    });
  }

  void respond(HttpResponse response, bool keep_alive) {
    if (phase_ != Phase::http) {
      spdlog::debug("api: dropped a second answer to one request from {}", remote_);
      return;
    }
    if (response.stream) {
      start_stream(std::move(response));
    } else {
      write_response(response, keep_alive);
    }
  }

  void write_response(const HttpResponse& response, bool keep_alive) {
    if (head_request_) return write_head_response(response, keep_alive);
    auto reply = std::make_shared<http::response<http::string_body>>();
    reply->version(11);
    reply->result(static_cast<unsigned>(response.status));
    reply->set(http::field::server, "taho");
    for (const auto& [name, value] : response.headers) reply->set(name, value);
    reply->body() = response.body;
    reply->keep_alive(keep_alive);
    reply->prepare_payload();
    http::async_write(stream_, *reply,
                      [self = shared_from_this(), reply, keep_alive](beast::error_code error, std::size_t) {
                        if (error || !keep_alive) {
                          self->close();
                          return;
                        }
                        self->read_request();
                      });
  }

  // HEAD (RFC 9110 §9.3.2): the headers a GET would get, including its
  // Content-Length, and no body.
  void write_head_response(const HttpResponse& response, bool keep_alive);
  void start_stream(HttpResponse response);
  // Queues body bytes (framing included) for the socket; see kCopyBytesMax.
  void enqueue(std::string&& piece);
  void enqueue_copy(std::string_view piece);
  std::string& coalescing_buffer();
  void account_queued(std::size_t bytes);
  // Writes what is queued once the current loop turn is over, so a burst
  // of events leaves in one socket write.
  void schedule_pump();
  void pump_writes();
  void on_written(beast::error_code error, std::size_t bytes);
  void arm_stall_timer();
  void watch_for_client_leaving();
  void arm_keepalive();
  void cut(const std::string& reason);

  void close() {
    phase_ = Phase::closed;
    stall_timer_.cancel();
    keepalive_timer_.cancel();
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> server_;
  std::string remote_;
  bool head_request_ = false;  // the request being answered is a HEAD

  // Streamed body state. While streaming, socket operations go to the raw
  // socket, around the tcp_stream's idle timeout: a watch read notices the
  // client leaving, and the stall timer bounds only writes the client does
  // not accept.
  Phase phase_ = Phase::http;
  bool chunked_ = true;
  std::uint64_t body_bytes_left_ = 0;  // Content-Length mode: declared minus written
  std::deque<std::string> pending_;    // framed pieces not yet handed to the socket
  bool pending_back_coalesces_ = false; // pending_.back() is a shared buffer that takes small pieces
  std::vector<std::string> in_flight_; // pieces of the write under way
  std::vector<std::string> spare_;     // emptied buffers whose capacity is reused
  std::size_t queued_bytes_ = 0;       // pending_ + in_flight_
  bool writing_ = false;
  bool pump_scheduled_ = false;
  bool drain_armed_ = false;           // the queue reached the low-water mark since the last on_drain
  std::uint64_t write_generation_ = 0; // a stall timer from an older write must not fire
  std::chrono::steady_clock::time_point last_enqueue_{};
  std::function<void()> on_drain_;
  std::function<void()> on_close_;
  std::array<char, 512> watch_buffer_{};
  boost::asio::steady_timer stall_timer_;
  boost::asio::steady_timer keepalive_timer_;
};

// The writer's link to its connection. A weak link: the connection lives
// as long as its socket, not as long as a forgotten writer.
class StreamSink final : public HttpStreamSink {
 public:
  explicit StreamSink(std::weak_ptr<Connection> connection) : connection_(std::move(connection)) {}
  ~StreamSink() override { abort(); }
  StreamSink(const StreamSink&) = delete;
  StreamSink& operator=(const StreamSink&) = delete;

  bool write(std::string chunk) override {
    auto connection = connection_.lock();
    return connection && connection->stream_write(std::move(chunk));
  }
  std::size_t queued_bytes() const override {
    auto connection = connection_.lock();
    return connection ? connection->stream_queued_bytes() : 0;
  }
  bool backlogged() const override {
    auto connection = connection_.lock();
    return connection && connection->stream_backlogged();
  }
  bool open() const override {
    auto connection = connection_.lock();
    return connection && connection->stream_open();
  }
  void on_drain(std::function<void()> drained) override {
    if (auto connection = connection_.lock()) connection->stream_on_drain(std::move(drained));
  }
  void on_close(std::function<void()> closed) override {
    if (auto connection = connection_.lock()) connection->stream_on_close(std::move(closed));
  }
  void finish() override {
    if (auto connection = connection_.lock()) connection->stream_finish();
    connection_.reset();
  }
  void abort() override {
    if (auto connection = connection_.lock()) connection->stream_abort();
    connection_.reset();
  }

 private:
  std::weak_ptr<Connection> connection_;
};

void Connection::write_head_response(const HttpResponse& response, bool keep_alive) {
  auto reply = std::make_shared<http::response<http::empty_body>>();
  reply->version(11);
  reply->result(static_cast<unsigned>(response.status));
  reply->set(http::field::server, "taho");
  std::optional<std::uint64_t> declared;
  for (const auto& [name, value] : response.headers) {
    const auto field = http::string_to_field(name);
    if (field == http::field::content_length) {
      declared = parse_content_length(value);
      continue;
    }
    if (field == http::field::transfer_encoding) continue;
    reply->set(name, value);
  }
  // The handler's declared length, else the length of the body it gave.
  reply->content_length(declared.value_or(response.body.size()));
  reply->keep_alive(keep_alive);
  // empty_body's serializer writes the head only, whatever Content-Length says.
  http::async_write(stream_, *reply,
                    [self = shared_from_this(), reply, keep_alive](beast::error_code error, std::size_t) {
                      if (error || !keep_alive) {
                        self->close();
                        return;
                      }
                      self->read_request();
                    });
}

void Connection::start_stream(HttpResponse response) {
  auto start = std::move(response.stream);
  std::optional<std::uint64_t> content_length;
  if (auto declared = response.headers.find("Content-Length"); declared != response.headers.end()) {
    content_length = parse_content_length(declared->second);
    if (!content_length) {
      spdlog::error("api: a streamed response declared a bad Content-Length '{}'", declared->second);
      HttpResponse error;
      error.status = 500;
      error.headers["Content-Type"] = "application/json";
      error.body = "{\"error\":\"internal error: bad Content-Length\"}\n";
      write_response(error, false);
      start(HttpStreamWriter{});
      return;
    }
  }

  http::response<http::empty_body> reply;
  reply.version(11);
  reply.result(static_cast<unsigned>(response.status));
  reply.set(http::field::server, "taho");
  bool event_stream = false;
  for (const auto& [name, value] : response.headers) {
    const auto field = http::string_to_field(name);
    // Framing and connection handling are the server's to decide.
    if (field == http::field::content_length || field == http::field::transfer_encoding ||
        field == http::field::connection) {
      continue;
    }
    if (field == http::field::content_type) event_stream = starts_with_ignoring_case(value, "text/event-stream");
    reply.set(name, value);
  }
  if (content_length) {
    reply.content_length(*content_length);
  } else {
    reply.chunked(true);
  }
  reply.keep_alive(false);
  std::ostringstream head;
  head << reply.base();

  if (head_request_) {
    // The head alone; the producer gets a detached writer (its writes
    // return false), and the connection closes once the head is out.
    phase_ = Phase::finishing;
    chunked_ = false;
    body_bytes_left_ = 0;
    enqueue(std::move(head).str());
    watch_for_client_leaving();
    pump_writes();
    start(HttpStreamWriter{});
    return;
  }
  phase_ = Phase::streaming;
  chunked_ = !content_length;
  body_bytes_left_ = content_length.value_or(0);
  enqueue(std::move(head).str());
  watch_for_client_leaving();
  if (event_stream && chunked_ && server_->options.sse_keepalive_ms > 0) arm_keepalive();
  // The head leaves at once: a client learns the answer even if the
  // producer then abandons the stream.
  pump_writes();
  start(HttpStreamWriter(std::make_unique<StreamSink>(weak_from_this())));
}

bool Connection::stream_write(std::string chunk) {
  if (phase_ != Phase::streaming) return false;
  if (chunk.empty()) return true;  // a zero-size chunk would end a chunked body
  if (!chunked_ && chunk.size() > body_bytes_left_) {
    cut("the producer wrote past its Content-Length");
    return false;
  }
  // The chunk's size line, built in place.
  std::array<char, 24> size_line{};
  std::size_t size_line_bytes = 0;
  if (chunked_) {
    char* end = std::to_chars(size_line.data(), size_line.data() + 16, chunk.size(), 16).ptr;
    *end++ = '\r';
    *end++ = '\n';
    size_line_bytes = static_cast<std::size_t>(end - size_line.data());
  }
  const std::size_t framed = size_line_bytes + chunk.size() + (chunked_ ? 2 : 0);
  if (queued_bytes_ + framed > server_->options.stream_queue_bytes_max) {
    spdlog::warn("api: stream to {} cut: queue over stream_queue_bytes_max ({} bytes)", remote_,
                 server_->options.stream_queue_bytes_max);
    cut("queue over stream_queue_bytes_max");
    return false;
  }
  if (!chunked_) {
    body_bytes_left_ -= chunk.size();
    enqueue(std::move(chunk));
  } else if (chunk.size() <= kCopyBytesMax) {
    // Size line, data and CRLF appended where the next write will take them.
    std::string& buffer = coalescing_buffer();
    buffer.append(size_line.data(), size_line_bytes);
    buffer += chunk;
    buffer += "\r\n";
    account_queued(framed);
  } else {
    enqueue_copy(std::string_view(size_line.data(), size_line_bytes));
    enqueue(std::move(chunk));
    enqueue_copy("\r\n");
  }
  schedule_pump();
  return true;
}

void Connection::stream_on_close(std::function<void()> closed) {
  if (phase_ == Phase::streaming) on_close_ = std::move(closed);
}

void Connection::stream_finish() {
  if (phase_ != Phase::streaming) return;
  on_drain_ = nullptr;
  on_close_ = nullptr;
  phase_ = Phase::finishing;
  if (chunked_) {
    enqueue_copy(kChunkTerminator);
  } else if (body_bytes_left_ > 0) {
    spdlog::warn("api: stream to {} finished {} bytes short of its Content-Length; closing", remote_,
                 body_bytes_left_);
  }
  schedule_pump();
}

void Connection::stream_abort() {
  if (phase_ != Phase::streaming) return;
  on_drain_ = nullptr;
  on_close_ = nullptr;
  cut("the producer abandoned the stream");
}

void Connection::account_queued(std::size_t bytes) {
  queued_bytes_ += bytes;
  if (queued_bytes_ >= server_->options.stream_low_water_bytes) drain_armed_ = true;
  last_enqueue_ = std::chrono::steady_clock::now();
}

std::string& Connection::coalescing_buffer() {
  if (!pending_back_coalesces_ || pending_.back().size() >= kCoalesceBytesMax) {
    if (spare_.empty()) {
      pending_.emplace_back();
    } else {
      pending_.push_back(std::move(spare_.back()));
      spare_.pop_back();
    }
    pending_back_coalesces_ = true;
  }
  return pending_.back();
}

void Connection::enqueue_copy(std::string_view piece) {
  coalescing_buffer() += piece;
  account_queued(piece.size());
}

void Connection::enqueue(std::string&& piece) {
  if (piece.size() <= kCopyBytesMax) return enqueue_copy(piece);
  account_queued(piece.size());
  pending_.push_back(std::move(piece));
  pending_back_coalesces_ = false;
}

void Connection::schedule_pump() {
  // A write under way pumps again when it completes.
  if (pump_scheduled_ || writing_) return;
  pump_scheduled_ = true;
  boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->pump_scheduled_ = false;
    self->pump_writes();
  });
}

void Connection::pump_writes() {
  if (writing_ || phase_ == Phase::closed || phase_ == Phase::http) return;
  if (pending_.empty()) {
    if (phase_ == Phase::finishing) close();
    return;
  }
  std::vector<boost::asio::const_buffer> buffers;
  std::size_t gathered = 0;
  while (!pending_.empty() && in_flight_.size() < kGatherPiecesMax && gathered < kGatherBytesMax) {
    in_flight_.push_back(std::move(pending_.front()));
    pending_.pop_front();
    gathered += in_flight_.back().size();
  }
  if (pending_.empty()) pending_back_coalesces_ = false;
  buffers.reserve(in_flight_.size());
  for (const auto& piece : in_flight_) buffers.emplace_back(piece.data(), piece.size());
  writing_ = true;
  arm_stall_timer();
  // The completion condition runs before every partial write: progress
  // re-arms the stall timer, so only a client that accepts nothing is cut.
  boost::asio::async_write(
      stream_.socket(), buffers,
      [this, progress = std::size_t{0}](beast::error_code error, std::size_t transferred) mutable -> std::size_t {
        if (error) return 0;
        if (transferred > progress) {
          progress = transferred;
          arm_stall_timer();
        }
        return kGatherBytesMax;
      },
      [self = shared_from_this()](beast::error_code error, std::size_t bytes) { self->on_written(error, bytes); });
}

void Connection::arm_stall_timer() {
  const std::uint64_t generation = ++write_generation_;
  stall_timer_.expires_after(std::chrono::milliseconds(server_->options.idle_timeout_ms));
  stall_timer_.async_wait([self = shared_from_this(), generation](beast::error_code error) {
    if (error || generation != self->write_generation_ || self->phase_ == Phase::closed) return;
    spdlog::info("api: stream to {} cut: the client accepted no data for {} ms", self->remote_,
                 self->server_->options.idle_timeout_ms);
    self->cut("client accepted no data within idle_timeout_ms");
  });
}

void Connection::on_written(beast::error_code error, std::size_t bytes) {
  writing_ = false;
  ++write_generation_;
  stall_timer_.cancel();
  for (auto& piece : in_flight_) {
    // Shared buffers are kept for reuse; a large producer's chunk is not.
    if (spare_.size() >= kSpareBuffersMax || piece.capacity() > 2 * kCoalesceBytesMax) continue;
    piece.clear();
    spare_.push_back(std::move(piece));
  }
  in_flight_.clear();
  if (phase_ == Phase::closed) return;
  if (error) {
    cut("write failed: " + error.message());
    return;
  }
  queued_bytes_ -= bytes;
  if (drain_armed_ && queued_bytes_ < server_->options.stream_low_water_bytes) {
    drain_armed_ = false;
    if (phase_ == Phase::streaming && on_drain_) {
      auto drained = on_drain_;  // the callback may replace or drop it, or end the stream
      drained();
    }
  }
  pump_writes();
}

// While streaming nothing is read, but a pending read is how a silent
// stream learns that its client left. Bytes that arrive are dropped: the
// connection closes after the stream, so nothing pipelined is served.
void Connection::watch_for_client_leaving() {
  stream_.socket().async_read_some(boost::asio::buffer(watch_buffer_),
                                   [self = shared_from_this()](beast::error_code error, std::size_t) {
                                     if (self->phase_ == Phase::closed) return;
                                     if (error) {
                                       self->cut(error == boost::asio::error::eof ? "the client closed the connection"
                                                                                  : "read failed: " + error.message());
                                       return;
                                     }
                                     self->watch_for_client_leaving();
                                   });
}

void Connection::arm_keepalive() {
  const auto interval = std::chrono::milliseconds(server_->options.sse_keepalive_ms);
  // Due one interval after the last bytes queued; when those are still
  // stuck in the queue, check again an interval from now rather than spin.
  const auto now = std::chrono::steady_clock::now();
  keepalive_timer_.expires_at(std::max(last_enqueue_ + interval, now + std::max(interval / 2, std::chrono::milliseconds(1))));
  keepalive_timer_.async_wait([self = shared_from_this(), interval](beast::error_code error) {
    if (error || self->phase_ != Phase::streaming) return;
    if (self->pending_.empty() && !self->writing_ &&
        std::chrono::steady_clock::now() - self->last_enqueue_ >= interval) {
      self->stream_write(std::string(kSseKeepAlive));
    }
    if (self->phase_ == Phase::streaming) self->arm_keepalive();
  });
}

// Ends a stream abruptly: the queue is dropped and the client sees a
// truncated body. A producer still attached hears of it through on_close.
void Connection::cut(const std::string& reason) {
  if (phase_ == Phase::closed) return;
  const bool notify = phase_ == Phase::streaming && on_close_;
  spdlog::debug("api: stream to {} ended: {}", remote_, reason);
  phase_ = Phase::closed;
  pending_.clear();
  pending_back_coalesces_ = false;
  queued_bytes_ = 0;
  on_drain_ = nullptr;
  stall_timer_.cancel();
  keepalive_timer_.cancel();
  beast::error_code ignored;
  stream_.socket().close(ignored);
  if (notify) {
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
      auto closed = std::move(self->on_close_);
      self->on_close_ = nullptr;
      if (closed) closed();
    });
  }
}

}  // namespace

void HttpServer::State::accept_next() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code error, tcp::socket socket) {
    if (self->stopped) return;
    if (!error) {
      if (self->open_connections >= self->options.connections_max) {
        spdlog::warn("api: refusing a connection: {} open (connections_max)", self->open_connections);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Connection>(std::move(socket), self)->start();
      }
    } else if (error == boost::asio::error::operation_aborted) {
      return;
    } else {
      spdlog::warn("api: accept failed: {}", error.message());
    }
    self->accept_next();
  });
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(EventLoop& loop, const HttpServerOptions& options,
                                                      HttpHandler handler) {
  beast::error_code error;
  auto address = boost::asio::ip::make_address(options.host == "localhost" ? "127.0.0.1" : options.host, error);
  if (error) return fail("api listen address '" + options.host + "' is not an IP address");
  auto state = std::make_shared<State>(loop.context(), options, std::move(handler));
  tcp::endpoint endpoint(address, options.port);
  state->acceptor.open(endpoint.protocol(), error);
  if (!error) state->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) state->acceptor.bind(endpoint, error);
  if (!error) state->acceptor.listen(boost::asio::socket_base::max_listen_connections, error);
  if (error) {
    return fail("cannot listen on " + options.host + ":" + std::to_string(options.port) + " for the API: " +
                error.message());
  }
  state->accept_next();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(state)));
}

HttpServer::HttpServer(std::shared_ptr<State> state) : state_(std::move(state)) {}

HttpServer::~HttpServer() { stop(); }

std::string HttpServer::local_address() const {
  beast::error_code error;
  auto endpoint = state_->acceptor.local_endpoint(error);
  if (error) return {};
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void HttpServer::stop() {
  if (state_->stopped) return;
  state_->stopped = true;
  beast::error_code ignored;
  state_->acceptor.close(ignored);
}

}  // namespace taho::runtime::asio
