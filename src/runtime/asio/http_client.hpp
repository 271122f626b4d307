// A blocking HTTP/1.1 client for the CLI talking to the local daemon.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "runtime/http_message.hpp"

namespace taho::runtime::asio {

struct HttpClientOptions {
  std::uint32_t timeout_ms = 10'000;  // whole request, connect to last byte
  std::size_t body_bytes_max = 64 * 1024 * 1024;
};

// truncated: the connection ended before the body did (http_stream).
enum class HttpClientErrc { bad_address, connect_failed, timeout, protocol, truncated };
using HttpClientError = Error<HttpClientErrc>;

// Sends one request to `address` ("127.0.0.1:9481") and waits for the answer.
Expected<HttpResponse, HttpClientError> http_request(const std::string& address, const HttpRequest& request,
                                                     const HttpClientOptions& options = {});

struct HttpStreamOptions {
  std::uint32_t connect_timeout_ms = 10'000;
  std::uint32_t timeout_ms = 0;       // whole exchange; 0 = none (a subscription runs until stopped)
  std::uint32_t idle_timeout_ms = 0;  // longest silence while waiting for bytes; 0 = none
  std::size_t header_bytes_max = 16 * 1024;
  std::size_t read_bytes_max = 64 * 1024;  // the largest piece handed to on_chunk
};

// Return false to stop reading: http_stream then returns at once, with
// `stopped` set. on_headers sees every response, whatever its status.
using HttpStreamHeadersCallback = std::function<bool(int status, const HttpHeaders& headers)>;
using HttpStreamChunkCallback = std::function<bool(std::string_view body_bytes)>;

struct HttpStreamEnd {
  int status = 0;
  std::uint64_t body_bytes = 0;  // handed to on_chunk
  bool stopped = false;          // a callback asked to stop before the body ended
};

// Sends one request and hands the response body to on_chunk as it arrives
// (chunked, Content-Length, or until the server closes), blocking until the
// body ends, a callback stops it, or an error: a body cut short is
// `truncated`, bad framing is `protocol`.
Expected<HttpStreamEnd, HttpClientError> http_stream(const std::string& address, const HttpRequest& request,
                                                     const HttpStreamOptions& options,
                                                     const HttpStreamHeadersCallback& on_headers,
                                                     const HttpStreamChunkCallback& on_chunk);

}  // namespace taho::runtime::asio
