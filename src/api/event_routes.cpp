#include "api/event_routes.hpp"

#include <openssl/evp.h>

#include "api/json.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::api {

namespace {

constexpr std::string_view kPrefix = "/api/v1/events/";

std::string base64(ByteView bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(),
                                      static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(written));
  return out;
}

bool valid_utf8(ByteView bytes) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto lead = bytes[i];
    const std::size_t extra = lead < 0x80 ? 0 : (lead >> 5) == 0x6 ? 1 : (lead >> 4) == 0xe ? 2 : (lead >> 3) == 0x1e ? 3 : 9;
    if (extra == 9 || i + extra >= bytes.size()) return false;  // a bad lead byte, or cut short
    for (std::size_t k = 1; k <= extra; ++k) {
      if ((bytes[i + k] & 0xc0) != 0x80) return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    const int high = hex(text[i + 1]);
    const int low = hex(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

std::string event_json(const host::GossipMessage& message) {
  nlohmann::json body{{"topic", message.topic},
                      {"from", message.author.to_string()},
                      {"seqno", message.seqno},
                      {"id", to_hex(message.id)},
                      {"data_base64", base64(message.data)}};
  body["data"] = valid_utf8(message.data) ? nlohmann::json(std::string(message.data.begin(), message.data.end()))
                                          : nlohmann::json(nullptr);
  return body.dump();
}

EventRoutes::EventRoutes(node::Network& network, EventRoutesOptions options)
    : network_(network), options_(options), self_(std::make_shared<EventRoutes*>(this)) {}

EventRoutes::~EventRoutes() {
  *self_ = nullptr;
  for (auto& [id, subscriber] : subscribers_) {
    network_.unsubscribe(subscriber.subscription);
    subscriber.writer.finish();
  }
}

bool EventRoutes::handle(const runtime::HttpRequest& request, std::string_view path,
                         runtime::asio::HttpResponder& respond) {
  if (path.substr(0, kPrefix.size()) != kPrefix) return false;
  auto topic = percent_decode(path.substr(kPrefix.size()));
  if (!topic || topic->empty()) {
    respond(json_error(400, "give a topic: /api/v1/events/{topic} (percent-encoded)"));
    return true;
  }
  if (request.method == "POST") {
    publish(*topic, request, respond);
  } else if (request.method == "GET") {
    subscribe(*topic, respond);
  } else {
    respond(method_not_allowed("GET, POST"));
  }
  return true;
}

void EventRoutes::publish(const std::string& topic, const runtime::HttpRequest& request,
                          runtime::asio::HttpResponder& respond) {
  const ByteView data(reinterpret_cast<const std::uint8_t*>(request.body.data()), request.body.size());
  auto id = network_.publish(topic, data);
  if (!id) {
    const bool too_large = id.error().code == gossipsub::publish::Errc::data_too_large;
    return respond(json_error(too_large ? 413 : 503, id.error().detail));
  }
  respond(json_response(200, {{"topic", topic}, {"id", to_hex(*id)}, {"bytes", data.size()}}));
}

void EventRoutes::subscribe(const std::string& topic, runtime::asio::HttpResponder& respond) {
  if (subscribers_.size() >= options_.subscribers_max) {
    return respond(json_error(503, "too many event subscribers (" + std::to_string(options_.subscribers_max) + ")"));
  }
  const auto id = next_subscriber_++;
  auto subscription = network_.subscribe(topic, [self = self_, id](const host::GossipMessage& message) {
    if (*self) (*self)->deliver(id, message);
  });
  if (!subscription) return respond(json_error(400, subscription.error().text));
  subscribers_.emplace(id, Subscriber{topic, *subscription, {}, 0});
  runtime::HttpResponse response;
  response.headers["Content-Type"] = "text/event-stream";
  response.headers["Cache-Control"] = "no-cache";
  response.stream = [self = self_, id](runtime::HttpStreamWriter writer) {
    if (!*self) return;
    auto& routes = **self;
    auto found = routes.subscribers_.find(id);
    if (found == routes.subscribers_.end()) return;
    writer.on_close([self, id] {
      if (*self) (*self)->remove(id);
    });
    // The first bytes tell the client the subscription is live.
    writer.write(": subscribed to " + found->second.topic + "\n\n");
    found->second.writer = std::move(writer);
  };
  respond(std::move(response));
}

void EventRoutes::deliver(std::uint64_t subscriber, const host::GossipMessage& message) {
  auto found = subscribers_.find(subscriber);
  if (found == subscribers_.end() || !found->second.writer.open()) return;
  Subscriber& sub = found->second;
  if (sub.writer.queued_bytes() > options_.subscriber_backlog_bytes_max) {
    ++sub.dropped;
    return;
  }
  runtime::SseEvent event{"message", event_json(message), std::to_string(message.seqno)};
  if (sub.dropped > 0) {
    // Tell the reader it missed some, once it keeps up again.
    sub.writer.write(*runtime::format_sse_event({"dropped", std::to_string(sub.dropped), ""}));
    sub.dropped = 0;
  }
  if (auto bytes = runtime::format_sse_event(event)) sub.writer.write(std::move(*bytes));
}

void EventRoutes::remove(std::uint64_t subscriber) {
  auto found = subscribers_.find(subscriber);
  if (found == subscribers_.end()) return;
  network_.unsubscribe(found->second.subscription);
  subscribers_.erase(found);
}

}  // namespace taho::api
