// The local API's content routes (DESIGN.md §7, docs/api.md "Content"):
//
//   POST   /api/v1/content               publish (JSON {"path"} or the bytes)
//   GET    /api/v1/content/{id}          the bytes, with Range; fetched through
//                                        the mesh when not local
//   HEAD   /api/v1/content/{id}          the size (Content-Length)
//   DELETE /api/v1/content/{id}          remove locally and withdraw
//   GET    /api/v1/content/{id}/holders  known holders (JSON)
//   POST   /api/v1/content/{id}/fetch    fetch into the store; progress as
//                                        server-sent events (`taho get`)
//
// Hashing a large file takes seconds, so publishing runs on a worker thread
// with its own store handle and the answer is posted back to the event loop
// (STYLE.md principle 10). Bodies stream with backpressure: a chunk is read
// only when the client's queue drained, so no object is ever held whole in
// memory. Those chunk reads are small positioned reads done on the loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "api/byte_range_header.hpp"
#include "api/content_fetcher.hpp"
#include "api/partial_reader.hpp"
#include "content/store/store.hpp"
#include "content/store/unique_fd.hpp"
#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/http_server.hpp"

namespace taho::api {

struct ContentRoutesOptions {
  // How long a request for content that is not local waits for the mesh to
  // find a holder (and so learn the size) before answering 404. A request
  // may ask for less or more with ?timeout=SECONDS, up to the max.
  std::uint32_t holder_wait_ms = 15'000;  // the daemon sets it from [content] find_timeout
  std::uint32_t holder_wait_ms_max = 10 * 60'000;
  // Streams served at once (GET, HEAD and fetch event streams, local or not).
  std::size_t transfers_max = 64;
  // Bytes read from disk per step of a streamed body.
  std::size_t read_chunk_bytes = 256 * 1024;
  // Fetch event streams send at most one progress event per interval.
  std::uint32_t progress_interval_ms = 100;
  // Empty: store_partial_reader() on the routes' own store handle.
  PartialReader read_partial;
};

class ContentRoutes {
 public:
  // `fetcher` may be null: only local content is served (404 otherwise).
  ContentRoutes(runtime::asio::EventLoop& loop, content::StoreOptions options, ContentFetcher* fetcher = nullptr,
                ContentRoutesOptions routes_options = {});
  ~ContentRoutes();  // waits for publishes in progress; cancels fetches
  ContentRoutes(const ContentRoutes&) = delete;
  ContentRoutes& operator=(const ContentRoutes&) = delete;

  // Answers and returns true for /api/v1/content...; false for other paths.
  // The caller has checked the token.
  bool handle(const runtime::HttpRequest& request, std::string_view path, runtime::asio::HttpResponder& respond);

  // Streams in progress, for tests and metrics.
  std::size_t transfers() const { return transfers_.size(); }

  static constexpr std::size_t kPublishesInFlightMax = 4;

 private:
  enum class Mode { get, head, fetch_events };
  struct Transfer;
  using Responder = runtime::asio::HttpResponder;

  void publish(const runtime::HttpRequest& request, Responder respond);
  void get_or_head(const content::ContentId& id, const runtime::HttpRequest& request, Mode mode, Responder& respond);
  void fetch_events(const content::ContentId& id, const runtime::HttpRequest& request, Responder& respond);
  void remove(const content::ContentId& id, Responder& respond);
  void holders(const content::ContentId& id, Responder& respond);

  Expected<content::Store*, content::StoreError> store();
  // A transfer for content that is not local: starts fetching it.
  void start_fetch(std::uint64_t key, std::optional<content::ByteRange> range);
  // False for callbacks of a transfer that ended or of its earlier fetch.
  bool is_current(std::uint64_t key, std::uint64_t generation) const;
  void on_progress(std::uint64_t key, const FetchProgress& progress);
  void on_done(std::uint64_t key, Expected<FetchOutcome, Error<FetchFailure>> outcome);
  void on_holder_wait_over(std::uint64_t key);
  // The size is known: answer the request (headers, then the body as it comes).
  void start_response(std::uint64_t key, std::uint64_t size);
  void attach_writer(std::uint64_t key, runtime::HttpStreamWriter writer);
  void pump(std::uint64_t key);
  Expected<Bytes, content::StoreError> read_chunk(Transfer& transfer, std::uint64_t offset, std::uint64_t length);
  void send_progress(Transfer& transfer, const FetchProgress& progress);
  // Ends a transfer: cancels its fetch if still running, drops its writer.
  void end(std::uint64_t key, bool cancel_fetch);
  std::optional<std::uint32_t> holder_wait_of(const runtime::HttpRequest& request, Responder& respond) const;

  runtime::asio::EventLoop& loop_;
  content::StoreOptions options_;
  ContentFetcher* fetcher_;
  ContentRoutesOptions routes_options_;
  std::optional<content::Store> store_;  // the loop's handle, opened on first use
  std::map<std::uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::uint64_t next_transfer_ = 1;
  std::map<std::uint64_t, std::thread> workers_;  // joined by their own completion, on the loop
  std::uint64_t next_worker_ = 1;
  std::shared_ptr<std::size_t> in_flight_;  // touched only on the loop thread
  // Fetcher and timer callbacks hold this, not `this`: they may outlive us.
  std::shared_ptr<ContentRoutes*> self_;
};

}  // namespace taho::api
