#include "api/content_routes.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "api/json.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::api {
namespace {

using runtime::HttpResponse;

constexpr std::string_view kCollection = "/api/v1/content";
constexpr std::string_view kItemPrefix = "/api/v1/content/";

int status_for(const content::StoreError& error) {
  switch (error.code) {
    case content::StoreErrc::source_missing:
    case content::StoreErrc::source_unreadable:
    case content::StoreErrc::source_directory:
    case content::StoreErrc::source_changed:
    case content::StoreErrc::bad_request:
      return 400;
    case content::StoreErrc::not_found:
      return 404;
    case content::StoreErrc::store_full:
    case content::StoreErrc::disk_full:
      return 507;
    default:
      return 500;
  }
}

std::string_view failure_name(FetchFailure failure) {
  switch (failure) {
    case FetchFailure::not_found: return "not_found";
    case FetchFailure::unavailable: return "unavailable";
    case FetchFailure::bad_range: return "bad_range";
    case FetchFailure::storage: return "storage";
    case FetchFailure::cancelled: return "cancelled";
    case FetchFailure::disabled: return "disabled";
  }
  return "unknown";
}

struct FailureAnswer {
  int status;
  std::string message;
};

FailureAnswer answer_for(const content::ContentId& id, const Error<FetchFailure>& error) {
  const std::string detail = error.detail.empty() ? "" : ": " + error.detail;
  switch (error.code) {
    case FetchFailure::not_found:
      return {404, "no holder of " + id.to_string() + " found" + detail};
    case FetchFailure::unavailable:
      return {502, "holders of " + id.to_string() + " are known but none could serve it" + detail};
    case FetchFailure::bad_range:
      return {416, "the range is outside " + id.to_string() + detail};
    case FetchFailure::storage:
      return {507, "cannot store " + id.to_string() + detail};
    case FetchFailure::cancelled:
      return {503, "the fetch of " + id.to_string() + " was cancelled" + detail};
    case FetchFailure::disabled:
      return {404, id.to_string() + " is not in the local store and fetching through the mesh is off" + detail};
  }
  return {500, "fetch failed" + detail};
}

std::string seconds_text(std::uint32_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", ms / 1000.0);
  return text;
}

// Headers every answer about one object carries. Content never changes
// under its id, so caches may keep it for good.
void add_object_headers(HttpResponse& response, const content::ContentId& id, std::uint64_t length) {
  response.headers["Content-Type"] = "application/octet-stream";
  response.headers["Content-Length"] = std::to_string(length);
  response.headers["Accept-Ranges"] = "bytes";
  response.headers["ETag"] = "\"" + id.to_string() + "\"";
  response.headers["Cache-Control"] = "public, max-age=31536000, immutable";
}

// The value of `name` in the request target's query string.
std::optional<std::string_view> query_value(std::string_view target, std::string_view name) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto equals = pair.find('=');
    if (pair.substr(0, equals) == name) {
      return equals == std::string_view::npos ? std::string_view{} : pair.substr(equals + 1);
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

HttpResponse event_stream_response() {
  HttpResponse response;
  response.headers["Content-Type"] = "text/event-stream";
  response.headers["Cache-Control"] = "no-cache";
  return response;
}

std::string sse(std::string_view event, const nlohmann::json& data) {
  // Our own event names and JSON never hold line breaks, so formatting cannot fail.
  return runtime::format_sse_event({std::string(event), data.dump(), ""}).value_or("");
}

}  // namespace

// One streamed answer: a GET or HEAD of an object (local or fetched) or a
// fetch event stream. Owned by ContentRoutes::transfers_, found by its key.
struct ContentRoutes::Transfer {
  content::ContentId id;
  Mode mode = Mode::get;
  std::optional<RangeRequest> range;
  Responder respond;  // until the answer starts
  bool answered = false;
  runtime::HttpStreamWriter writer;

  // Fetching through the mesh.
  bool fetching = false;
  std::optional<std::uint64_t> fetch;  // the fetcher's handle, while fetching
  std::uint64_t generation = 0;        // callbacks of an earlier fetch (a size probe) are ignored
  bool probing = false;                // fetching nothing but the size
  bool size_known = false;
  bool fetch_complete = false;  // every wanted byte is verified and on disk
  bool committed = false;       // the object is in the store: read it from there
  std::uint64_t fetch_offset = 0;  // where the fetcher's contiguous_bytes count from
  std::uint32_t holder_wait_ms = 0;
  std::unique_ptr<runtime::asio::Timer> holder_wait;

  // The body: bytes [next, end) are still to send; [.., readable_end) are on disk.
  content::UniqueFd file;  // the committed object once open
  std::uint64_t next = 0;
  std::uint64_t end = 0;
  std::uint64_t readable_end = 0;

  // Fetch event streams.
  Instant started{};
  std::optional<Instant> last_progress;
};

ContentRoutes::ContentRoutes(runtime::asio::EventLoop& loop, content::StoreOptions options, ContentFetcher* fetcher,
                             ContentRoutesOptions routes_options)
    : loop_(loop),
      options_(std::move(options)),
      fetcher_(fetcher),
      routes_options_(std::move(routes_options)),
      in_flight_(std::make_shared<std::size_t>(0)),
      self_(std::make_shared<ContentRoutes*>(this)) {}

ContentRoutes::~ContentRoutes() {
  *self_ = nullptr;
  while (!transfers_.empty()) end(transfers_.begin()->first, /*cancel_fetch=*/true);
  for (auto& [key, worker] : workers_) {
    if (worker.joinable()) worker.join();
  }
}

Expected<content::Store*, content::StoreError> ContentRoutes::store() {
  if (!store_) {
    auto opened = content::Store::open(options_);
    if (!opened) return unexpected(opened.error());
    store_.emplace(std::move(*opened));
    if (!routes_options_.read_partial) routes_options_.read_partial = store_partial_reader(*store_);
  }
  return &*store_;
}

bool ContentRoutes::handle(const runtime::HttpRequest& request, std::string_view path, Responder& respond) {
  if (path == kCollection) {
    if (request.method != "POST") {
      respond(method_not_allowed("POST"));
      return true;
    }
    publish(request, std::move(respond));
    return true;
  }
  if (!path.starts_with(kItemPrefix)) return false;
  const auto rest = path.substr(kItemPrefix.size());
  const auto slash = rest.find('/');
  const auto id_text = rest.substr(0, slash);
  const auto action = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
  if (!action.empty() && action != "holders" && action != "fetch") {
    respond(json_error(404, "no such endpoint: " + std::string(path)));
    return true;
  }
  auto id = content::ContentId::parse(id_text);
  if (!id) {
    respond(json_error(400, "bad content id '" + std::string(id_text) + "': " + id.error().detail +
                                " (expected ca_blake3_<64 hex digits> or a CID)"));
    return true;
  }
  if (action == "holders") {
    if (request.method == "GET") {
      holders(*id, respond);
    } else {
      respond(method_not_allowed("GET"));
    }
  } else if (action == "fetch") {
    if (request.method == "POST") {
      fetch_events(*id, request, respond);
    } else {
      respond(method_not_allowed("POST"));
    }
  } else if (request.method == "GET") {
    get_or_head(*id, request, Mode::get, respond);
  } else if (request.method == "HEAD") {
    get_or_head(*id, request, Mode::head, respond);
  } else if (request.method == "DELETE") {
    remove(*id, respond);
  } else {
    respond(method_not_allowed("GET, HEAD, DELETE"));
  }
  return true;
}

std::optional<std::uint32_t> ContentRoutes::holder_wait_of(const runtime::HttpRequest& request,
                                                           Responder& respond) const {
  const auto text = query_value(request.target, "timeout");
  if (!text) return routes_options_.holder_wait_ms;
  const std::string value(*text);
  char* parsed_end = nullptr;
  const double seconds = std::strtod(value.c_str(), &parsed_end);
  if (value.empty() || parsed_end != value.c_str() + value.size() || !std::isfinite(seconds) || seconds <= 0) {
    respond(json_error(400, "timeout must be a positive number of seconds, not '" + value + "'"));
    return std::nullopt;
  }
  const double ms = std::min(seconds * 1000, static_cast<double>(routes_options_.holder_wait_ms_max));
  return static_cast<std::uint32_t>(std::max(ms, 1.0));
}

// ---- GET and HEAD ----------------------------------------------------------

void ContentRoutes::get_or_head(const content::ContentId& id, const runtime::HttpRequest& request, Mode mode,
                                Responder& respond) {
  std::optional<RangeRequest> range;
  if (auto header = request.headers.find("Range"); mode == Mode::get && header != request.headers.end()) {
    auto parsed = parse_range_header(header->second);
    if (!parsed) return respond(json_error(416, parsed.error().detail));
    range = *parsed;
  }
  const auto wait = holder_wait_of(request, respond);
  if (!wait) return;
  auto opened = store();
  if (!opened) return respond(json_error(500, "cannot open the content store: " + opened.error().detail));
  if (transfers_.size() >= routes_options_.transfers_max) {
    return respond(json_error(503, "too many content streams in progress; try again"));
  }
  auto info = (*opened)->stat(id);
  if (!info && info.error().code != content::StoreErrc::not_found) {
    return respond(json_error(500, info.error().detail));
  }

  auto transfer = std::make_unique<Transfer>();
  transfer->id = id;
  transfer->mode = mode;
  transfer->range = range;
  transfer->respond = std::move(respond);
  transfer->holder_wait_ms = *wait;
  const auto key = next_transfer_++;

  if (info) {
    // Local: the open descriptor keeps the bytes readable even if the object
    // is removed while it streams.
    transfer->file = content::UniqueFd(::open(info->data_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!transfer->file) {
      const int error = errno;
      return transfer->respond(json_error(error == ENOENT ? 404 : 500,
                                          id.to_string() + ": " + content::os_error(error, "open").detail));
    }
    transfer->committed = true;
    transfer->fetch_complete = true;
    transfers_.emplace(key, std::move(transfer));
    return start_response(key, info->size);
  }
  if (!fetcher_) {
    return transfer->respond(json_error(404, id.to_string() + " is not in the local store, and this daemon "
                                                              "does not fetch through the mesh"));
  }
  // Not local: ask the mesh. HEAD and suffix ranges need the size first,
  // which fetching an empty range proves; other ranges fetch just their groups.
  std::optional<content::ByteRange> fetch_range;
  if (mode == Mode::head) {
    fetch_range = content::ByteRange{0, 0};
  } else if (range) {
    fetch_range = fetch_range_of(*range);
    if (!fetch_range) fetch_range = content::ByteRange{0, 0};
  }
  transfer->probing = fetch_range && fetch_range->length == 0;
  transfers_.emplace(key, std::move(transfer));
  start_fetch(key, fetch_range);
}

void ContentRoutes::start_fetch(std::uint64_t key, std::optional<content::ByteRange> range) {
  auto found = transfers_.find(key);
  if (found == transfers_.end()) return;
  Transfer& transfer = *found->second;
  if (!transfer.holder_wait && !transfer.size_known) {
    transfer.holder_wait = std::make_unique<runtime::asio::Timer>(loop_);
    transfer.holder_wait->arm_at(loop_.now() + std::chrono::milliseconds(transfer.holder_wait_ms),
                                 [self = self_, key] {
                                   if (*self) (*self)->on_holder_wait_over(key);
                                 });
  }
  transfer.fetching = true;
  transfer.fetch_offset = range ? range->offset : 0;
  transfer.readable_end = transfer.fetch_offset;
  const auto generation = ++transfer.generation;
  const auto handle = fetcher_->fetch(
      transfer.id.hash(), range,
      [self = self_, key, generation](const FetchProgress& progress) {
        if (*self && (*self)->is_current(key, generation)) (*self)->on_progress(key, progress);
      },
      [self = self_, key, generation](Expected<FetchOutcome, Error<FetchFailure>> outcome) {
        if (*self && (*self)->is_current(key, generation)) (*self)->on_done(key, std::move(outcome));
      });
  // The fetcher may have finished (and the transfer ended) inside fetch().
  if (auto still = transfers_.find(key); still != transfers_.end() && still->second->fetching &&
                                         still->second->generation == generation) {
    still->second->fetch = handle;
  }
}

bool ContentRoutes::is_current(std::uint64_t key, std::uint64_t generation) const {
  auto found = transfers_.find(key);
  return found != transfers_.end() && found->second->generation == generation;
}

void ContentRoutes::on_progress(std::uint64_t key, const FetchProgress& progress) {
  Transfer& transfer = *transfers_.at(key);
  if (transfer.probing) return;  // only the outcome's size matters
  transfer.readable_end = std::max(transfer.readable_end, transfer.fetch_offset + progress.contiguous_bytes);
  if (transfer.mode == Mode::fetch_events) {
    if (progress.size > 0 && !transfer.size_known) {
      transfer.size_known = true;
      transfer.holder_wait.reset();
    }
    return send_progress(transfer, progress);
  }
  if (progress.size > 0 && !transfer.size_known) return start_response(key, progress.size);
  pump(key);
}

void ContentRoutes::on_done(std::uint64_t key, Expected<FetchOutcome, Error<FetchFailure>> outcome) {
  Transfer& transfer = *transfers_.at(key);
  transfer.fetching = false;
  transfer.fetch.reset();
  if (!outcome) {
    const auto answer = answer_for(transfer.id, outcome.error());
    if (transfer.mode == Mode::fetch_events) {
      transfer.writer.write(sse("error", {{"code", failure_name(outcome.error().code)},
                                          {"status", answer.status},
                                          {"message", answer.message}}));
      transfer.writer.finish();
    } else if (!transfer.answered) {
      auto respond = std::move(transfer.respond);
      transfer.answered = true;
      respond(json_error(answer.status, answer.message));
    } else {
      spdlog::warn("api: fetch of {} failed while streaming it: {}", transfer.id.to_string(), answer.message);
    }
    return end(key, /*cancel_fetch=*/false);  // a streamed body is cut short: the client sees the truncation
  }
  if (transfer.probing) {
    transfer.probing = false;
    const std::uint64_t size = outcome->size;
    if (transfer.mode == Mode::head || !transfer.range) return start_response(key, size);
    // A suffix range: now that the size is known, fetch the groups it covers.
    const auto wanted = resolve_range(*transfer.range, size);
    if (!wanted) return start_response(key, size);  // answers 416
    transfer.size_known = true;
    transfer.holder_wait.reset();
    const RangeRequest exact{.kind = RangeRequest::Kind::from_to,
                             .first = wanted->offset,
                             .last = wanted->offset + wanted->length - 1};
    transfer.range = exact;
    const auto fetch_range = fetch_range_of(exact);
    start_response(key, size);  // headers now; the body follows the fetch
    return start_fetch(key, fetch_range);
  }
  transfer.fetch_complete = true;
  transfer.committed = outcome->committed;
  if (transfer.mode == Mode::fetch_events) {
    const double seconds = std::chrono::duration<double>(loop_.now() - transfer.started).count();
    transfer.writer.write(sse("done", {{"id", transfer.id.to_string()},
                                       {"size", outcome->size},
                                       {"sources", outcome->sources},
                                       {"committed", outcome->committed},
                                       {"local", false},
                                       {"seconds", seconds}}));
    transfer.writer.finish();
    return end(key, false);
  }
  if (!transfer.size_known) return start_response(key, outcome->size);
  pump(key);
}

void ContentRoutes::on_holder_wait_over(std::uint64_t key) {
  auto found = transfers_.find(key);
  if (found == transfers_.end() || found->second->size_known) return;
  Transfer& transfer = *found->second;
  const std::string message = "no holder of " + transfer.id.to_string() + " found within " +
                              seconds_text(transfer.holder_wait_ms) + " s";
  if (transfer.mode == Mode::fetch_events) {
    transfer.writer.write(sse("error", {{"code", "not_found"}, {"status", 404}, {"message", message}}));
    transfer.writer.finish();
  } else if (!transfer.answered) {
    auto respond = std::move(transfer.respond);
    transfer.answered = true;
    respond(json_error(404, message));
  }
  end(key, /*cancel_fetch=*/true);
}

void ContentRoutes::start_response(std::uint64_t key, std::uint64_t size) {
  Transfer& transfer = *transfers_.at(key);
  transfer.size_known = true;
  transfer.holder_wait.reset();
  if (transfer.answered) return;  // a suffix range's second fetch: the answer is on its way

  HttpResponse response;
  if (transfer.mode == Mode::head) {
    add_object_headers(response, transfer.id, size);
    // The server frames a plain answer by its (empty) body, so the size goes
    // out as a declared-length stream that ends at once.
    if (size > 0) response.stream = [](runtime::HttpStreamWriter writer) { writer.finish(); };
    auto respond = std::move(transfer.respond);
    end(key, /*cancel_fetch=*/true);
    return respond(std::move(response));
  }

  content::ByteRange body{0, size};
  if (transfer.range) {
    const auto wanted = resolve_range(*transfer.range, size);
    if (!wanted) {
      response = json_error(416, "the range is outside " + transfer.id.to_string() + " (" + std::to_string(size) +
                                     " bytes)");
      response.headers["Content-Range"] = unsatisfied_range_value(size);
      auto respond = std::move(transfer.respond);
      end(key, /*cancel_fetch=*/true);
      return respond(std::move(response));
    }
    body = *wanted;
    response.status = 206;
    response.headers["Content-Range"] = content_range_value(body, size);
  }
  add_object_headers(response, transfer.id, body.length);
  transfer.next = body.offset;
  transfer.end = body.offset + body.length;
  auto respond = std::move(transfer.respond);
  transfer.answered = true;
  if (body.length == 0) {
    end(key, /*cancel_fetch=*/false);  // empty content: nothing to stream, the fetch (if any) is done
    return respond(std::move(response));
  }
  response.stream = [self = self_, key](runtime::HttpStreamWriter writer) {
    if (*self) (*self)->attach_writer(key, std::move(writer));
  };
  respond(std::move(response));
}

void ContentRoutes::attach_writer(std::uint64_t key, runtime::HttpStreamWriter writer) {
  auto found = transfers_.find(key);
  if (found == transfers_.end()) return;  // dropping the writer cuts the response
  Transfer& transfer = *found->second;
  transfer.writer = std::move(writer);
  // A client that leaves stops the fetch; verified groups stay in the
  // store's partial download, so asking again resumes rather than restarts.
  transfer.writer.on_close([self = self_, key] {
    if (*self) (*self)->end(key, /*cancel_fetch=*/true);
  });
  transfer.writer.on_drain([self = self_, key] {
    if (*self) (*self)->pump(key);
  });
  pump(key);
}

void ContentRoutes::pump(std::uint64_t key) {
  auto found = transfers_.find(key);
  if (found == transfers_.end()) return;
  Transfer& transfer = *found->second;
  if (transfer.mode != Mode::get || !transfer.writer.open()) return;
  const std::uint64_t limit = transfer.fetch_complete ? transfer.end : std::min(transfer.end, transfer.readable_end);
  while (transfer.next < limit && !transfer.writer.backlogged()) {
    const std::uint64_t length = std::min<std::uint64_t>(routes_options_.read_chunk_bytes, limit - transfer.next);
    auto chunk = read_chunk(transfer, transfer.next, length);
    if (!chunk && chunk.error().code == content::StoreErrc::not_found && !transfer.fetch_complete) {
      // Neither the partial download nor the object: the fetch is moving
      // one into the other (its commit runs on another thread and may
      // overtake the progress event being served). Its end pumps again, or
      // ends this transfer if it failed.
      return;
    }
    if (!chunk || chunk->empty()) {
      spdlog::warn("api: cannot read {} at {}: {}; cutting the response", transfer.id.to_string(), transfer.next,
                   chunk ? "no bytes" : chunk.error().detail);
      return end(key, /*cancel_fetch=*/true);
    }
    transfer.next += chunk->size();
    // One memcpy: a string built from the byte iterators copies a byte at a time.
    if (!transfer.writer.write(std::string(reinterpret_cast<const char*>(chunk->data()), chunk->size()))) {
      return end(key, true);
    }
  }
  if (transfer.next >= transfer.end) {
    transfer.writer.finish();
    // A whole-content fetch still committing goes on by itself.
    end(key, /*cancel_fetch=*/false);
  }
}

Expected<Bytes, content::StoreError> ContentRoutes::read_chunk(Transfer& transfer, std::uint64_t offset,
                                                               std::uint64_t length) {
  if (!transfer.file && !transfer.committed) {
    const std::uint64_t vouched_end = transfer.fetch_complete ? transfer.end : transfer.readable_end;
    auto partial = routes_options_.read_partial(transfer.id, offset, length, vouched_end);
    if (partial) return partial;
    // The download may have been committed since: its bytes moved to the object.
    if (!store_->contains(transfer.id)) return partial;
    transfer.committed = true;
  }
  if (!transfer.file) {
    auto info = store_->stat(transfer.id);
    if (!info) return unexpected(info.error());
    transfer.file = content::UniqueFd(::open(info->data_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!transfer.file) return unexpected(content::os_error(errno, "open " + info->data_path.string()));
  }
  Bytes bytes(length);
  auto read = content::read_exact_at(transfer.file.get(), bytes, offset);
  if (!read) return unexpected(read.error());
  return bytes;
}

void ContentRoutes::end(std::uint64_t key, bool cancel_fetch) {
  auto found = transfers_.find(key);
  if (found == transfers_.end()) return;
  // Out of the map first: a fetcher that reports cancellation at once finds nothing.
  auto transfer = std::move(found->second);
  transfers_.erase(found);
  if (cancel_fetch && transfer->fetching && transfer->fetch && fetcher_) fetcher_->cancel(*transfer->fetch);
  // Destroying an unfinished writer cuts its response, as it should.
}

// ---- fetch event stream ----------------------------------------------------

void ContentRoutes::fetch_events(const content::ContentId& id, const runtime::HttpRequest& request,
                                 Responder& respond) {
  const auto wait = holder_wait_of(request, respond);
  if (!wait) return;
  auto opened = store();
  if (!opened) return respond(json_error(500, "cannot open the content store: " + opened.error().detail));
  if (auto info = (*opened)->stat(id)) {
    auto response = event_stream_response();
    response.stream = [done = sse("done", {{"id", id.to_string()},
                                           {"size", info->size},
                                           {"sources", 0},
                                           {"committed", true},
                                           {"local", true},
                                           {"seconds", 0.0}})](runtime::HttpStreamWriter writer) {
      writer.write(done);
      writer.finish();
    };
    return respond(std::move(response));
  }
  if (!fetcher_) {
    return respond(json_error(404, id.to_string() + " is not in the local store, and this daemon does not fetch "
                                                    "through the mesh"));
  }
  if (transfers_.size() >= routes_options_.transfers_max) {
    return respond(json_error(503, "too many content streams in progress; try again"));
  }
  auto transfer = std::make_unique<Transfer>();
  transfer->id = id;
  transfer->mode = Mode::fetch_events;
  transfer->holder_wait_ms = *wait;
  transfer->started = loop_.now();
  transfer->answered = true;
  const auto key = next_transfer_++;
  transfers_.emplace(key, std::move(transfer));

  auto response = event_stream_response();
  response.stream = [self = self_, key](runtime::HttpStreamWriter writer) {
    if (!*self) return;
    auto found = (*self)->transfers_.find(key);
    if (found == (*self)->transfers_.end()) return;
    Transfer& streaming = *found->second;
    streaming.writer = std::move(writer);
    streaming.writer.on_close([self, key] {
      if (*self) (*self)->end(key, /*cancel_fetch=*/true);
    });
    // The first bytes tell the client the fetch has started.
    streaming.writer.write(": fetching " + streaming.id.to_string() + "\n\n");
  };
  respond(std::move(response));
  start_fetch(key, std::nullopt);
}

void ContentRoutes::send_progress(Transfer& transfer, const FetchProgress& progress) {
  const Instant now = loop_.now();
  const auto interval = std::chrono::milliseconds(routes_options_.progress_interval_ms);
  if (transfer.last_progress && now - *transfer.last_progress < interval) return;
  // A client that reads slowly gets fewer updates rather than a growing queue.
  if (transfer.writer.backlogged()) return;
  transfer.last_progress = now;
  const double seconds = std::chrono::duration<double>(now - transfer.started).count();
  const double rate = seconds > 0 ? static_cast<double>(progress.verified_bytes) / seconds : 0.0;
  transfer.writer.write(sse("progress", {{"size", progress.size},
                                         {"wanted_bytes", progress.wanted_bytes},
                                         {"verified_bytes", progress.verified_bytes},
                                         {"contiguous_bytes", progress.contiguous_bytes},
                                         {"sources", progress.sources},
                                         {"rate", rate},
                                         {"seconds", seconds}}));
}

// ---- holders, delete, publish ----------------------------------------------

void ContentRoutes::holders(const content::ContentId& id, Responder& respond) {
  auto opened = store();
  if (!opened) return respond(json_error(500, "cannot open the content store: " + opened.error().detail));
  const auto info = (*opened)->stat(id);
  nlohmann::json rows = nlohmann::json::array();
  if (fetcher_) {
    for (const auto& holder : fetcher_->holders(id.hash())) {
      nlohmann::json row{{"peer_id", holder.peer_id}, {"addrs", holder.addrs}, {"size", holder.size},
                         {"connected", holder.connected}};
      row["throughput"] = holder.throughput ? nlohmann::json(*holder.throughput) : nlohmann::json(nullptr);
      rows.push_back(std::move(row));
    }
  }
  nlohmann::json body{{"id", id.to_string()}, {"local", info.has_value()}, {"holders", rows}};
  body["size"] = info ? nlohmann::json(info->size) : nlohmann::json(nullptr);
  respond(json_response(200, body));
}

void ContentRoutes::remove(const content::ContentId& id, Responder& respond) {
  auto opened = store();
  if (!opened) return respond(json_error(500, "cannot open the content store: " + opened.error().detail));
  auto removed = (*opened)->remove(id);
  if (!removed) return respond(json_error(status_for(removed.error()), removed.error().detail));
  if (fetcher_) fetcher_->withdraw(id.hash());
  respond(json_response(200, {{"removed", id.to_string()}, {"withdrawn", fetcher_ != nullptr}}));
}

void ContentRoutes::publish(const runtime::HttpRequest& request, Responder respond) {
  // Two forms: {"path": "/abs/file"} (the CLI, same machine) or the raw bytes as the body.
  std::string file;
  auto content_type = request.headers.find("Content-Type");
  const bool json = content_type != request.headers.end() && content_type->second.starts_with("application/json");
  if (json) {
    auto body = nlohmann::json::parse(request.body, nullptr, false);
    if (body.is_discarded() || !body.is_object() || !body.contains("path") || !body["path"].is_string()) {
      return respond(json_error(400, "send {\"path\": \"/absolute/file\"} or the content itself as the body"));
    }
    file = body["path"].get<std::string>();
    if (file.empty() || file.front() != '/') return respond(json_error(400, "\"path\" must be absolute"));
  }
  if (*in_flight_ >= kPublishesInFlightMax) {
    return respond(json_error(503, "too many publishes in progress; try again"));
  }
  ++*in_flight_;
  const std::uint64_t key = next_worker_++;
  auto bytes = json ? std::string() : request.body;
  workers_[key] = std::thread([this, key, file, bytes = std::move(bytes), respond = std::move(respond),
                               in_flight = in_flight_, self = self_]() mutable {
    runtime::HttpResponse response;
    std::optional<content::PutResult> stored;
    auto store = content::Store::open(options_);
    if (!store) {
      response = json_error(500, "cannot open the content store: " + store.error().detail);
    } else {
      auto put = file.empty() ? store->put_bytes(as_bytes(bytes)) : store->put_file(file);
      if (!put) {
        response = json_error(status_for(put.error()), put.error().detail);
      } else {
        stored = *put;
        response = json_response(200, {{"id", put->id.to_string()}, {"size", put->size},
                                       {"already_stored", put->already_stored}, {"path", file}});
      }
    }
    loop_.post([self, key, respond = std::move(respond), response = std::move(response), stored, in_flight]() mutable {
      --*in_flight;
      // Announce before answering: a client that asks another node next finds us.
      if (*self && stored && (*self)->fetcher_) (*self)->fetcher_->announce(stored->id.hash(), stored->size);
      respond(std::move(response));
      if (!*self) return;
      // The worker has nothing left to do but return: joining is immediate.
      auto& workers = (*self)->workers_;
      if (auto worker = workers.find(key); worker != workers.end()) {
        worker->second.join();
        workers.erase(worker);
      }
    });
  });
}

}  // namespace taho::api
