#include "runtime/asio/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

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

// One client connection: read a request, answer it, repeat while keep-alive.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, std::shared_ptr<HttpServer::State> server)
      : stream_(std::move(socket)), server_(std::move(server)) {
    ++server_->open_connections;
  }
  ~Connection() { --server_->open_connections; }

  void start() { read_request(); }

 private:
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
    bool keep_alive = message.keep_alive();
    server_->handler(request, [self = shared_from_this(), keep_alive](HttpResponse response) {
      self->write_response(response, keep_alive);
    });
  }

  void write_response(const HttpResponse& response, bool keep_alive) {
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

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.socket().close(ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<HttpServer::State> server_;
};

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
