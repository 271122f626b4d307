// The local API's content routes (DESIGN.md §7). Hashing a large file takes
// seconds, so publishing runs on a worker thread with its own store handle
// and the answer is posted back to the event loop (STYLE.md principle 10).
#pragma once

#include <map>
#include <memory>
#include <string_view>
#include <thread>
#include <vector>

#include "content/store/store.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/http_server.hpp"

namespace taho::api {

class ContentRoutes {
 public:
  ContentRoutes(runtime::asio::EventLoop& loop, content::StoreOptions options);
  ~ContentRoutes();  // waits for publishes in progress
  ContentRoutes(const ContentRoutes&) = delete;
  ContentRoutes& operator=(const ContentRoutes&) = delete;

  // Answers and returns true for /api/v1/content...; false for other paths.
  // The caller has checked the token.
  bool handle(const runtime::HttpRequest& request, std::string_view path, runtime::asio::HttpResponder& respond);

  static constexpr std::size_t kPublishesInFlightMax = 4;

 private:
  void publish(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond);

  runtime::asio::EventLoop& loop_;
  content::StoreOptions options_;
  std::map<std::uint64_t, std::thread> workers_;  // joined by their own completion, on the loop
  std::uint64_t next_worker_ = 1;
  std::shared_ptr<std::size_t> in_flight_;  // touched only on the loop thread
};

}  // namespace taho::api
