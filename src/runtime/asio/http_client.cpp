#include "runtime/asio/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace taho::runtime::asio {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Expected<HttpResponse, HttpClientError> http_request(const std::string& address, const HttpRequest& request,
                                                     const HttpClientOptions& options) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return unexpected(HttpClientError{HttpClientErrc::bad_address, "bad address '" + address + "'"});
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  beast::error_code error;
  auto ip = boost::asio::ip::make_address(host, error);
  unsigned long port = 0;
  try {
    port = std::stoul(address.substr(colon + 1));
  } catch (...) {
    port = 70000;
  }
  if (error || port > 65535) {
    return unexpected(HttpClientError{HttpClientErrc::bad_address, "bad address '" + address + "'"});
  }

  boost::asio::io_context context;
  beast::tcp_stream stream(context);
  stream.expires_after(std::chrono::milliseconds(options.timeout_ms));

  http::request<http::string_body> outgoing{http::string_to_verb(request.method), request.target, 11};
  outgoing.set(http::field::host, address);
  outgoing.set(http::field::user_agent, "taho-cli");
  for (const auto& [name, value] : request.headers) outgoing.set(name, value);
  outgoing.body() = request.body;
  outgoing.prepare_payload();

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(options.body_bytes_max);
  beast::error_code result;
  bool connected = false;

  stream.async_connect(tcp::endpoint(ip, static_cast<std::uint16_t>(port)), [&](beast::error_code e) {
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
  for (const auto& field : message) response.headers[std::string(field.name_string())] = std::string(field.value());
  response.body = std::move(message.body());
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return response;
}

}  // namespace taho::runtime::asio
