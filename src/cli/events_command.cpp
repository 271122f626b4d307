// `taho events publish TOPIC [MESSAGE | --file F | stdin lines]` and
// `taho events subscribe TOPIC`: topics over gossipsub, through the daemon.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include <nlohmann/json.hpp>

#include "cli/command.hpp"
#include "cli/daemon_client.hpp"
#include "cli/session.hpp"
#include "runtime/asio/http_client.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::cli {
namespace {

// Topics may hold any character: everything but unreserved ones is escaped.
std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// A string field of an event, or `fallback` when it is missing or not text
// (the stream is the daemon's, but a bad field must not end the command).
std::string text_field(const nlohmann::json& event, const char* name, std::string fallback = "?") {
  const auto found = event.find(name);
  return found != event.end() && found->is_string() ? found->get<std::string>() : fallback;
}

// "FROM #SEQNO: DATA". seqno is a decimal string (a 64-bit number does not
// survive JSON readers that use doubles); a number from an older daemon is
// printed as well.
std::string describe_event(const nlohmann::json& event) {
  std::string seqno = text_field(event, "seqno");
  if (const auto found = event.find("seqno"); found != event.end() && found->is_number_unsigned()) {
    seqno = std::to_string(found->get<std::uint64_t>());
  }
  const auto data = event.find("data");
  const std::string shown = data != event.end() && data->is_string()
                                ? data->get<std::string>()
                                : "(binary, base64) " + text_field(event, "data_base64", "");
  return text_field(event, "from") + " #" + seqno + ": " + shown;
}

struct PublishOptions {
  std::string topic;
  std::optional<std::string> message;
  std::optional<std::string> file;
};

int publish_one(const Context& context, const DaemonClient& daemon, const std::string& topic, std::string data) {
  auto response = daemon.request("POST", "/api/v1/events/" + percent_encode(topic), std::move(data));
  if (!response) {
    std::cerr << "taho events publish: " << response.error().text << "\n";
    return kExitFailure;
  }
  auto body = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status / 100 != 2) {
    const std::string error = body.is_object() && body.contains("error") ? body["error"].get<std::string>()
                                                                        : "HTTP " + std::to_string(response->status);
    std::cerr << "taho events publish: " << error << "\n";
    return kExitFailure;
  }
  if (context.global.json) {
    std::cout << body.dump() << "\n";
  } else {
    std::cout << "published " << body["bytes"].get<std::size_t>() << " bytes to " << topic << " (id "
              << body["id"].get<std::string>().substr(0, 16) << "...)\n";
  }
  return kExitOk;
}

int run_publish(const Context& context, const PublishOptions& options) {
  if (options.message && options.file) {
    std::cerr << "taho events publish: give MESSAGE or --file, not both\n";
    return kExitUsage;
  }
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "events publish");
  if (!daemon) return kExitFailure;
  if (options.message) return publish_one(context, *daemon, options.topic, *options.message);
  if (options.file) {
    std::ifstream in(*options.file, std::ios::binary);
    if (!in) {
      std::cerr << "taho events publish: cannot read " << *options.file << "\n";
      return kExitFailure;
    }
    std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return publish_one(context, *daemon, options.topic, std::move(data));
  }
  // Neither: every line of stdin is one message.
  std::string line;
  int status = kExitOk;
  while (std::getline(std::cin, line)) {
    if (publish_one(context, *daemon, options.topic, line) != kExitOk) status = kExitFailure;
  }
  return status;
}

int run_subscribe(const Context& context, const std::string& topic, std::size_t count) {
  auto session = load_session(context);
  if (!session) return kExitUsage;
  auto daemon = DaemonClient::require(session->home, "events subscribe");
  if (!daemon) return kExitFailure;
  runtime::HttpRequest request;
  request.method = "GET";
  request.target = "/api/v1/events/" + percent_encode(topic);
  request.headers["Authorization"] = daemon->authorization();
  request.headers["Accept"] = "text/event-stream";
  runtime::SseParserOptions parser_options;
  parser_options.event_bytes_max = 8 * 1024 * 1024;  // a 1 MiB message in base64 and JSON
  runtime::SseParser parser(parser_options);
  std::size_t received = 0;
  std::string error;
  runtime::asio::HttpStreamOptions stream_options;  // no overall timeout: runs until stopped
  auto ended = runtime::asio::http_stream(
      daemon->address(), request, stream_options,
      [&](int status, const runtime::HttpHeaders&) {
        if (status != 200) error = "the daemon answered HTTP " + std::to_string(status);
        return true;  // read the error body too
      },
      [&](std::string_view bytes) {
        if (!error.empty()) {
          auto body = nlohmann::json::parse(bytes, nullptr, false);
          if (body.is_object() && body.contains("error")) error = body["error"].get<std::string>();
          return false;
        }
        if (auto fed = parser.feed(bytes); !fed) {
          error = "bad event stream: " + fed.error().detail;
          return false;
        }
        while (auto event = parser.poll_event()) {
          if (event->event == "dropped") {
            std::cerr << "taho events subscribe: " << event->data << " messages dropped (reading too slowly)\n";
            continue;
          }
          if (context.global.json) {
            std::cout << event->data << std::endl;
          } else {
            auto message = nlohmann::json::parse(event->data, nullptr, false);
            if (!message.is_object()) continue;
            std::cout << describe_event(message) << std::endl;
          }
          if (count > 0 && ++received >= count) return false;
        }
        return true;
      });
  if (!error.empty()) {
    std::cerr << "taho events subscribe: " << error << "\n";
    return kExitFailure;
  }
  if (!ended) {
    std::cerr << "taho events subscribe: " << ended.error().detail << "\n";
    return kExitFailure;
  }
  if (!ended->stopped) {
    std::cerr << "taho events subscribe: the daemon ended the stream\n";
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void register_events_command(CLI::App& app, Context& context) {
  auto* events = app.add_subcommand("events", "Publish and subscribe to event topics (gossipsub)");
  events->require_subcommand(1);

  auto publish_options = std::make_shared<PublishOptions>();
  auto* publish = events->add_subcommand(
      "publish", "Publish MESSAGE (or --file, or each line of stdin) to TOPIC");
  publish->add_option("TOPIC", publish_options->topic, "Topic name")->required();
  publish->add_option("MESSAGE", publish_options->message, "The message text");
  publish->add_option("--file", publish_options->file, "Publish this file's bytes as one message")
      ->check(CLI::ExistingFile);
  publish->callback([&context, publish_options] {
    context.action = [&context, publish_options] { return run_publish(context, *publish_options); };
  });

  auto topic = std::make_shared<std::string>();
  auto count = std::make_shared<std::size_t>(0);
  auto* subscribe = events->add_subcommand(
      "subscribe", "Print every event of TOPIC as it arrives (with --json: topic, from, seqno, data)");
  subscribe->add_option("TOPIC", *topic, "Topic name")->required();
  subscribe->add_option("-n,--count", *count, "Exit after this many events (default: run until interrupted)");
  subscribe->callback([&context, topic, count] {
    context.action = [&context, topic, count] { return run_subscribe(context, *topic, *count); };
  });
}

}  // namespace taho::cli
