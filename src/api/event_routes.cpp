#include "api/event_routes.hpp"

#include <openssl/evp.h>

#include <array>
#include <charconv>

#include "api/json.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::api {

namespace {

constexpr std::string_view kPrefix = "/api/v1/events/";

// The appenders below write into the event's buffer in place: an event is
// formatted for every message, and temporaries showed in profiles.
void append_base64(std::string& out, ByteView bytes) {
  const std::size_t at = out.size();
  out.resize(at + 4 * ((bytes.size() + 2) / 3) + 1);  // EVP_EncodeBlock writes a NUL after
  const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + at), bytes.data(),
                                      static_cast<int>(bytes.size()));
  out.resize(at + static_cast<std::size_t>(written));
}

void append_hex(std::string& out, ByteView bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (const auto byte : bytes) {
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
}

void append_decimal(std::string& out, std::uint64_t value) {
  std::array<char, 20> digits{};
  const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
  out.append(digits.data(), end);
}

// Well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing
// past U+10FFFF, so every JSON reader takes the text as it is.
std::size_t utf8_sequence_bytes(ByteView bytes, std::size_t at) {
  const auto lead = bytes[at];
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint8_t second_min = 0x80, second_max = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) second_min = 0xa0;  // overlong
    if (lead == 0xed) second_max = 0x9f;  // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) second_min = 0x90;  // overlong
    if (lead == 0xf4) second_max = 0x8f;  // past U+10FFFF
  } else {
    return 0;
  }
  if (at + length > bytes.size()) return 0;
  if (bytes[at + 1] < second_min || bytes[at + 1] > second_max) return 0;
  for (std::size_t k = 2; k < length; ++k) {
    if ((bytes[at + k] & 0xc0) != 0x80) return 0;
  }
  return length;
}

bool valid_utf8(ByteView bytes) {
  for (std::size_t i = 0; i < bytes.size();) {
    const auto length = utf8_sequence_bytes(bytes, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

// Appends `text` as a JSON string. Bytes that are not well-formed UTF-8
// become U+FFFD (a topic is whatever bytes a peer sent).
void append_json_string(std::string& out, ByteView text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < text.size();) {
    const auto c = text[i];
    if (c >= 0x80) {
      const auto length = utf8_sequence_bytes(text, i);
      if (length == 0) {
        out += "\ufffd";
        ++i;
      } else {
        out.append(reinterpret_cast<const char*>(text.data() + i), length);
        i += length;
      }
      continue;
    }
    ++i;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 0xf]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_json_string(std::string& out, std::string_view text) {
  append_json_string(out, ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

// The event's JSON with `from` already in text. Written by hand: this runs
// for every message and every subscriber, and building a JSON document
// first costs several times the encoding.
void append_event_json(std::string& out, const host::GossipMessage& message, std::string_view author) {
  out += "{\"topic\":";
  append_json_string(out, message.topic);
  out += ",\"from\":";
  append_json_string(out, author);
  // A decimal string: seqnos use all 64 bits, and JSON readers that hold
  // numbers as doubles (JavaScript) would round them.
  out += ",\"seqno\":\"";
  append_decimal(out, message.seqno);
  out += "\",\"id\":\"";
  append_hex(out, message.id);
  out += "\",\"data_base64\":\"";
  append_base64(out, message.data);
  out += "\",\"data\":";
  if (valid_utf8(message.data)) {
    append_json_string(out, ByteView(message.data));
  } else {
    out += "null";
  }
  out.push_back('}');
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
  std::string out;
  append_event_json(out, message, message.author.to_string());
  return out;
}

namespace {

// event_stream_bytes() into `out`, replacing what it held (its capacity is kept).
void format_event_stream(std::string& out, const host::GossipMessage& message, std::string_view author) {
  // One data line is enough: the JSON holds no line break (they are escaped).
  out.clear();
  out.reserve(128 + message.topic.size() + author.size() + 2 * message.id.size() + 3 * message.data.size());
  out += "event: message\ndata: ";
  append_event_json(out, message, author);
  out += "\nid: ";
  append_decimal(out, message.seqno);
  out += "\n\n";
}

}  // namespace

std::string event_stream_bytes(const host::GossipMessage& message, std::string_view author) {
  std::string out;
  format_event_stream(out, message, author);
  return out;
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
  if (sub.dropped > 0) {
    // Tell the reader it missed some, once it keeps up again.
    sub.writer.write(*runtime::format_sse_event({"dropped", std::to_string(sub.dropped), ""}));
    sub.dropped = 0;
  }
  sub.writer.write(formatted(message));
}

const std::string& EventRoutes::formatted(const host::GossipMessage& message) {
  // Every subscriber of the topic gets the same bytes: encode them once.
  if (last_event_.has_value() && last_event_->id == message.id && last_event_->topic == message.topic) {
    return last_event_->bytes;
  }
  auto author = authors_.find(message.author);
  if (author == authors_.end()) {
    if (authors_.size() >= kAuthorTextsMax) authors_.clear();
    author = authors_.emplace(message.author, message.author.to_string()).first;
  }
  // Reassigned in place: the buffers of the previous event are reused.
  if (!last_event_) last_event_.emplace();
  last_event_->id.assign(message.id.begin(), message.id.end());
  last_event_->topic.assign(message.topic);
  format_event_stream(last_event_->bytes, message, author->second);
  return last_event_->bytes;
}

void EventRoutes::remove(std::uint64_t subscriber) {
  auto found = subscribers_.find(subscriber);
  if (found == subscribers_.end()) return;
  network_.unsubscribe(found->second.subscription);
  subscribers_.erase(found);
}

}  // namespace taho::api
