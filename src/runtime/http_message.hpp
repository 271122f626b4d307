// Plain HTTP request/response values passed between a driver's HTTP server
// and the API's routes, so the routes never see a socket.
#pragma once

#include <cstdint>
#include <map>
#include <string>

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

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
};

}  // namespace taho::runtime
