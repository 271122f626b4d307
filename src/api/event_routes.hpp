// The local API's event routes (DESIGN.md §7): topics over gossipsub.
//   POST /api/v1/events/{topic}   body = the message bytes -> {"id", "topic"}
//   GET  /api/v1/events/{topic}   a server-sent event stream, one "message"
//                                 event per gossip message: JSON with topic,
//                                 from, seqno (a decimal string), id, data
//                                 (UTF-8 text or null) and data_base64.
// The topic is the rest of the path, percent-decoded (so "taho/content/1"
// works as /api/v1/events/taho%2Fcontent%2F1 or taho/content/1).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "node/network.hpp"
#include "runtime/asio/http_server.hpp"
#include "runtime/http_message.hpp"

namespace taho::api {

struct EventRoutesOptions {
  std::size_t subscribers_max = 256;
  // A subscriber this far behind (bytes queued) loses messages instead of
  // growing our memory; each loss is counted and reported in the stream.
  std::size_t subscriber_backlog_bytes_max = 4 * 1024 * 1024;
};

// The JSON of one delivered message, as the stream carries it.
std::string event_json(const host::GossipMessage& message);
// The whole server-sent event of a message ("event: message", its JSON as
// data, the seqno as id), with the author's text given.
std::string event_stream_bytes(const host::GossipMessage& message, std::string_view author);
// "%2F" -> "/"; nullopt for a bad escape.
std::optional<std::string> percent_decode(std::string_view text);

class EventRoutes {
 public:
  EventRoutes(node::Network& network, EventRoutesOptions options = {});
  ~EventRoutes();
  EventRoutes(const EventRoutes&) = delete;
  EventRoutes& operator=(const EventRoutes&) = delete;

  bool handle(const runtime::HttpRequest& request, std::string_view path, runtime::asio::HttpResponder& respond);

 private:
  struct Subscriber {
    std::string topic;
    node::Network::SubscriptionId subscription = 0;
    runtime::HttpStreamWriter writer;
    std::uint64_t dropped = 0;
  };
  void publish(const std::string& topic, const runtime::HttpRequest& request, runtime::asio::HttpResponder& respond);
  void subscribe(const std::string& topic, runtime::asio::HttpResponder& respond);
  void deliver(std::uint64_t subscriber, const host::GossipMessage& message);
  // The stream bytes of a message, encoded once for all its subscribers.
  const std::string& formatted(const host::GossipMessage& message);
  void remove(std::uint64_t subscriber);

  node::Network& network_;
  EventRoutesOptions options_;
  std::map<std::uint64_t, Subscriber> subscribers_;
  std::uint64_t next_subscriber_ = 1;
  struct FormattedEvent {
    Bytes id;
    std::string topic;
    std::string bytes;
  };
  std::optional<FormattedEvent> last_event_;
  // Authors' peer ids as text (base58 costs more than the rest of an
  // event); cleared when full, which a node with many publishers may hit.
  static constexpr std::size_t kAuthorTextsMax = 1024;
  std::map<PeerId, std::string> authors_;
  // Callbacks hold this, not `this`: they may run after we are gone.
  std::shared_ptr<EventRoutes*> self_;
};

}  // namespace taho::api
