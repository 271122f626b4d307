// A blocking HTTP/1.1 client for the CLI talking to the local daemon.
#pragma once

#include <cstdint>
#include <string>

#include "base/error.hpp"
#include "runtime/http_message.hpp"

namespace taho::runtime::asio {

struct HttpClientOptions {
  std::uint32_t timeout_ms = 10'000;  // whole request, connect to last byte
  std::size_t body_bytes_max = 64 * 1024 * 1024;
};

enum class HttpClientErrc { bad_address, connect_failed, timeout, protocol };
using HttpClientError = Error<HttpClientErrc>;

// Sends one request to `address` ("127.0.0.1:9481") and waits for the answer.
Expected<HttpResponse, HttpClientError> http_request(const std::string& address, const HttpRequest& request,
                                                     const HttpClientOptions& options = {});

}  // namespace taho::runtime::asio
