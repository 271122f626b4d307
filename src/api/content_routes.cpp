#include "api/content_routes.hpp"

#include <nlohmann/json.hpp>

#include "api/api.hpp"

namespace taho::api {
namespace {

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

runtime::HttpResponse json_ok(const nlohmann::json& body) {
  runtime::HttpResponse response;
  response.headers["Content-Type"] = "application/json";
  response.body = body.dump() + "\n";
  return response;
}

}  // namespace

ContentRoutes::ContentRoutes(runtime::asio::EventLoop& loop, content::StoreOptions options)
    : loop_(loop), options_(std::move(options)), in_flight_(std::make_shared<std::size_t>(0)) {}

ContentRoutes::~ContentRoutes() {
  for (auto& [key, worker] : workers_) {
    if (worker.joinable()) worker.join();
  }
}

bool ContentRoutes::handle(const runtime::HttpRequest& request, std::string_view path,
                           runtime::asio::HttpResponder& respond) {
  if (path != "/api/v1/content") return false;
  if (request.method != "POST") {
    auto response = json_error(405, "method not allowed; use POST");
    response.headers["Allow"] = "POST";
    respond(std::move(response));
    return true;
  }
  publish(request, std::move(respond));
  return true;
}

void ContentRoutes::publish(const runtime::HttpRequest& request, runtime::asio::HttpResponder respond) {
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
                               in_flight = in_flight_]() mutable {
    runtime::HttpResponse response;
    auto store = content::Store::open(options_);
    if (!store) {
      response = json_error(500, "cannot open the content store: " + store.error().detail);
    } else {
      auto put = file.empty() ? store->put_bytes(as_bytes(bytes)) : store->put_file(file);
      if (!put) {
        response = json_error(status_for(put.error()), put.error().detail);
      } else {
        response = json_ok({{"id", put->id.to_string()}, {"size", put->size}, {"already_stored", put->already_stored},
                            {"path", file}});
      }
    }
    loop_.post([this, key, respond = std::move(respond), response = std::move(response), in_flight]() mutable {
      --*in_flight;
      respond(std::move(response));
      // The worker has nothing left to do but return: joining is immediate.
      if (auto worker = workers_.find(key); worker != workers_.end()) {
        worker->second.join();
        workers_.erase(worker);
      }
    });
  });
}

}  // namespace taho::api
