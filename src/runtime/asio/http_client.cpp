#include "runtime/asio/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <optional>
#include <vector>

namespace taho::runtime::asio {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

HttpClientError bad_address(const std::string& address) {
  return HttpClientError{HttpClientErrc::bad_address, "bad address '" + address + "'"};
}

// "127.0.0.1:9481" or "[::1]:9481": the daemon's API address is always numeric.
Expected<tcp::endpoint, HttpClientError> parse_endpoint(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) return unexpected(bad_address(address));
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code error;
  const auto ip = boost::asio::ip::make_address(host, error);
  const std::string_view port_text = std::string_view(address).substr(colon + 1);
  std::uint16_t port = 0;
  const auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error || parsed.ec != std::errc{} || parsed.ptr != port_text.data() + port_text.size()) {
    return unexpected(bad_address(address));
  }
  return tcp::endpoint(ip, port);
}

http::request<http::string_body> outgoing_request(const std::string& address, const HttpRequest& request) {
  http::request<http::string_body> outgoing{http::string_to_verb(request.method), request.target, 11};
  outgoing.set(http::field::host, address);
  outgoing.set(http::field::user_agent, "taho-cli");
  for (const auto& [name, value] : request.headers) outgoing.set(name, value);
  outgoing.body() = request.body;
  outgoing.prepare_payload();
  return outgoing;
}

HttpHeaders headers_of(const http::response_header<>& header) {
  HttpHeaders headers;
  for (const auto& field : header) headers[std::string(field.name_string())] = std::string(field.value());
  return headers;
}

// Runs one asynchronous operation on the private context to its end: the
// blocking client stays linear while Beast's stream timeouts still apply.
template <class Start>
beast::error_code run_operation(boost::asio::io_context& context, Start&& start) {
  beast::error_code result;
  start([&result](beast::error_code error, auto&&...) { result = error; });
  context.restart();
  context.run();
  return result;
}

}  // namespace

Expected<HttpResponse, HttpClientError> http_request(const std::string& address, const HttpRequest& request,
                                                     const HttpClientOptions& options) {
  auto endpoint = parse_endpoint(address);
  if (!endpoint) return unexpected(endpoint.error());

  boost::asio::io_context context;
  beast::tcp_stream stream(context);
  stream.expires_after(std::chrono::milliseconds(options.timeout_ms));

  auto outgoing = outgoing_request(address, request);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.body_bytes_max);
  beast::error_code result;
  bool connected = false;

  stream.async_connect(*endpoint, [&](beast::error_code e) {
    if (e) {
      result = e;
      return;
    }
    connected = true;
    http::async_write(stream, outgoing, [&](beast::error_code we, std::size_t) {
      if (we) {
        result = we;
        return;
      }
      http::async_read(stream, buffer, parser, [&](beast::error_code re, std::size_t) { result = re; });
    });
  });
  context.run();

  if (result == beast::error::timeout) {
    return unexpected(HttpClientError{HttpClientErrc::timeout, "no answer from " + address + " within " +
                                                                   std::to_string(options.timeout_ms) + " ms"});
  }
  if (result && !connected) {
    return unexpected(HttpClientError{HttpClientErrc::connect_failed,
                                      "cannot connect to " + address + ": " + result.message()});
  }
  if (result) {
    return unexpected(HttpClientError{HttpClientErrc::protocol, "bad answer from " + address + ": " + result.message()});
  }
  auto& message = parser.get();
  HttpResponse response;
  response.status = static_cast<int>(message.result_int());
  response.headers = headers_of(message.base());
  response.body = std::move(message.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return response;
}

Expected<HttpStreamEnd, HttpClientError> http_stream(const std::string& address, const HttpRequest& request,
                                                     const HttpStreamOptions& options,
                                                     const HttpStreamHeadersCallback& on_headers,
                                                     const HttpStreamChunkCallback& on_chunk) {
  auto endpoint = parse_endpoint(address);
  if (!endpoint) return unexpected(endpoint.error());

  boost::asio::io_context context;
  beast::tcp_stream stream(context);
  const auto started = Clock::now();
  // Each step waits at most its own limit (0 = none), and never past the
  // whole exchange's timeout when there is one.
  auto limit_step = [&](std::uint32_t step_ms) {
    std::optional<Clock::time_point> deadline;
    if (options.timeout_ms > 0) deadline = started + std::chrono::milliseconds(options.timeout_ms);
    if (step_ms > 0) {
      const auto step_deadline = Clock::now() + std::chrono::milliseconds(step_ms);
      deadline = deadline ? std::min(*deadline, step_deadline) : step_deadline;
    }
    if (deadline) {
      stream.expires_at(*deadline);
    } else {
      stream.expires_never();
    }
  };
  auto failure = [&](HttpClientErrc code, const std::string& what, beast::error_code error) {
    if (error == beast::error::timeout) {
      return unexpected(HttpClientError{HttpClientErrc::timeout, "timed out " + what + " " + address});
    }
    return unexpected(HttpClientError{code, what + " " + address + ": " + error.message()});
  };

  limit_step(options.connect_timeout_ms);
  auto error = run_operation(context, [&](auto done) { stream.async_connect(*endpoint, done); });
  if (error) return failure(HttpClientErrc::connect_failed, "connecting to", error);

  auto outgoing = outgoing_request(address, request);
  limit_step(options.connect_timeout_ms);  // a request is small: sending it should not take longer than connecting
  error = run_operation(context, [&](auto done) { http::async_write(stream, outgoing, done); });
  if (error) return failure(HttpClientErrc::protocol, "sending the request to", error);

  beast::flat_buffer buffer;
  buffer.reserve(std::max<std::size_t>(options.read_bytes_max, 4096));  // Beast reads what capacity allows, 512 bytes at first
  http::response_parser<http::buffer_body> parser;
  parser.header_limit(static_cast<std::uint32_t>(options.header_bytes_max));
  parser.body_limit(boost::none);  // the caller consumes the body as it comes; it may never end
  limit_step(options.idle_timeout_ms);
  error = run_operation(context, [&](auto done) { http::async_read_header(stream, buffer, parser, done); });
  if (error) return failure(HttpClientErrc::protocol, "reading the response headers from", error);

  HttpStreamEnd end;
  end.status = static_cast<int>(parser.get().result_int());
  if (!on_headers(end.status, headers_of(parser.get().base()))) {
    end.stopped = true;
    return end;
  }

  std::vector<char> piece(std::max<std::size_t>(options.read_bytes_max, 1));
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    limit_step(options.idle_timeout_ms);
    error = run_operation(context, [&](auto done) { http::async_read_some(stream, buffer, parser, done); });
    if (error == http::error::need_buffer) error = {};  // the piece is full: hand it over, read on
    const std::size_t received = piece.size() - parser.get().body().size;
    if (received > 0) {
      end.body_bytes += received;
      if (!on_chunk(std::string_view(piece.data(), received))) {
        end.stopped = true;
        return end;
      }
    }
    if (!error) continue;
    // Bad framing is the server's fault; anything else (the connection
    // closing or resetting) left the body short.
    const bool framing = error.category() == make_error_code(http::error::bad_chunk).category() &&
                         error != http::error::partial_message;
    if (framing) return failure(HttpClientErrc::protocol, "bad body from", error);
    return failure(HttpClientErrc::truncated, "the body ended early from", error);
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return end;
}

}  // namespace taho::runtime::asio
