// taho_bench_gossip_client: the application side of one taho daemon for
// bench/gossip, in C++ so the bench measures the daemon rather than a
// node.js client. It speaks bench_peer.mjs's JSON-lines protocol on stdio
// (see there) exactly like taho_gossip_client.mjs, publishes with
// POST /api/v1/events/{topic} over keep-alive connections (one per publish
// in flight) and receives from the server-sent event stream
// GET /api/v1/events/{topic}. One thread, one Asio loop.
// Usage: taho_bench_gossip_client --home TAHO_HOME [--topic T]
#include <time.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "runtime/asio/sse_parser.hpp"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

constexpr std::string_view kTopicDefault = "taho-gossip-bench";
constexpr std::size_t kHeaderBytesMax = 64;        // of a payload: "phase|publisher|seq|send_ns|"
constexpr std::size_t kPacedInFlightMax = 64;      // as bench_peer.mjs
constexpr std::size_t kReadChunkBytes = 64 * 1024;  // one read of the event stream
constexpr std::size_t kSseEventBytesMax = 8 * 1024 * 1024;
// The daemon closes keep-alive connections idle this long (its idle timeout
// is 30 s): reconnect rather than race its close.
constexpr auto kIdleReconnect = std::chrono::seconds(5);

// CLOCK_MONOTONIC ns, the clock node's process.hrtime.bigint() reads: one
// clock for every process of the bench.
std::int64_t monotonic_ns() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
}

void emit(const json& object) {
  const std::string line = object.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

std::string make_payload(const std::string& phase, std::int64_t publisher, std::int64_t seq, std::size_t size) {
  std::string payload =
      phase + "|" + std::to_string(publisher) + "|" + std::to_string(seq) + "|" + std::to_string(monotonic_ns()) + "|";
  if (payload.size() < size) payload.append(size - payload.size(), '.');
  return payload;
}

struct ParsedPayload {
  std::string_view phase;
  std::int64_t publisher = 0;
  std::string_view key;  // "publisher|seq"
  std::int64_t send_ns = 0;
};

// Splits "phase|publisher|seq|send_ns|..." as bench_peer.mjs does; nullopt
// for a payload that is not ours.
std::optional<ParsedPayload> parse_payload(std::string_view text) {
  const std::string_view head = text.substr(0, kHeaderBytesMax);
  std::string_view fields[4];
  std::size_t start = 0;
  for (auto& field : fields) {
    const auto bar = head.find('|', start);
    if (bar == std::string_view::npos) return std::nullopt;
    field = head.substr(start, bar - start);
    start = bar + 1;
  }
  ParsedPayload parsed;
  parsed.phase = fields[0];
  auto number = [](std::string_view digits, std::int64_t& out) {
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    return error == std::errc{} && end == digits.data() + digits.size() && !digits.empty();
  };
  if (!number(fields[1], parsed.publisher) || !number(fields[3], parsed.send_ns)) return std::nullopt;
  parsed.key = head.substr(fields[1].data() - head.data(), fields[1].size() + 1 + fields[2].size());
  return parsed;
}

// Per-phase receive records, deduplicated by (publisher, seq): bench_peer.mjs's Receiver.
class Receiver {
 public:
  void record(std::string_view text, std::int64_t recv_ns) {
    const auto parsed = parse_payload(text);
    if (!parsed) return;
    Phase& phase = phases_[std::string(parsed->phase)];
    if (!phase.seen.emplace(parsed->key).second) {
      ++phase.duplicates;
      return;
    }
    auto [from, fresh] = phase.by_publisher.try_emplace(parsed->publisher);
    if (fresh) from->second.first_ns = recv_ns;
    from->second.latencies.push_back(recv_ns - parsed->send_ns);
    from->second.last_ns = recv_ns;
  }

  json report(const std::string& phase_name, bool samples, std::optional<std::int64_t> exclude) const {
    const auto phase = phases_.find(phase_name);
    std::uint64_t count = 0;
    std::optional<std::int64_t> first, last;
    json latencies = json::array();
    if (phase != phases_.end()) {
      for (const auto& [publisher, from] : phase->second.by_publisher) {
        if (exclude && publisher == *exclude) continue;
        count += from.latencies.size();
        first = first ? std::min(*first, from.first_ns) : from.first_ns;
        last = last ? std::max(*last, from.last_ns) : from.last_ns;
        if (!samples) continue;
        for (const auto latency : from.latencies) latencies.push_back(latency);
      }
    }
    json out{{"count", count},
             {"duplicates", phase == phases_.end() ? 0 : phase->second.duplicates},
             {"first_ns", first ? json(std::to_string(*first)) : json(nullptr)},
             {"last_ns", last ? json(std::to_string(*last)) : json(nullptr)}};
    if (samples) out["latencies_ns"] = std::move(latencies);
    return out;
  }

 private:
  struct From {
    std::vector<std::int64_t> latencies;
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
  };
  struct Phase {
    std::unordered_set<std::string> seen;
    std::map<std::int64_t, From> by_publisher;
    std::uint64_t duplicates = 0;
  };
  std::map<std::string, Phase, std::less<>> phases_;
};

struct ApiAddress {
  tcp::endpoint endpoint;
  std::string host_header;
  std::string authorization;
};

// One keep-alive HTTP/1.1 connection to the API, one request at a time.
class ApiConnection {
 public:
  // status 0: the request failed before an answer (text says why).
  using Done = std::function<void(int status, std::string body)>;

  ApiConnection(asio::io_context& io, const ApiAddress& address) : stream_(io), address_(address) {}

  bool busy() const { return busy_; }

  void request(http::verb method, const std::string& target, std::string body, Done done) {
    busy_ = true;
    done_ = std::move(done);
    request_ = {};
    request_.method(method);
    request_.target(target);
    request_.version(11);
    request_.set(http::field::host, address_.host_header);
    request_.set(http::field::authorization, address_.authorization);
    request_.keep_alive(true);
    request_.body() = std::move(body);
    request_.prepare_payload();
    const bool stale = std::chrono::steady_clock::now() - last_used_ > kIdleReconnect;
    if (connected_ && !stale) return send();
    beast::error_code ignored;
    stream_.socket().close(ignored);
    connected_ = false;
    buffer_.clear();
    stream_.async_connect(address_.endpoint, [this](beast::error_code error) {
      if (error) return finish(0, "connect: " + error.message());
      connected_ = true;
      stream_.socket().set_option(tcp::no_delay(true));
      send();
    });
  }

 private:
  void send() {
    http::async_write(stream_, request_, [this](beast::error_code error, std::size_t) {
      if (error) return fail("write: " + error.message());
      response_ = {};
      http::async_read(stream_, buffer_, response_, [this](beast::error_code read_error, std::size_t) {
        if (read_error) return fail("read: " + read_error.message());
        if (!response_.keep_alive()) connected_ = false;
        finish(static_cast<int>(response_.result_int()), std::move(response_.body()));
      });
    });
  }

  void fail(const std::string& why) {
    connected_ = false;
    buffer_.clear();
    finish(0, why);
  }

  void finish(int status, std::string body) {
    busy_ = false;
    last_used_ = std::chrono::steady_clock::now();
    auto done = std::move(done_);
    done(status, std::move(body));
  }

  beast::tcp_stream stream_;
  const ApiAddress& address_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  Done done_;
  bool busy_ = false;
  bool connected_ = false;
  std::chrono::steady_clock::time_point last_used_{};
};

// GET /api/v1/events/{topic}: hands each event's data to the receiver.
class EventStream {
 public:
  EventStream(asio::io_context& io, const ApiAddress& address, std::string target, std::string topic,
              Receiver& receiver)
      : stream_(io), address_(address), target_(std::move(target)), topic_(std::move(topic)), receiver_(receiver),
        parser_(taho::runtime::SseParserOptions{64 * 1024, kSseEventBytesMax}), chunk_(kReadChunkBytes) {}

  // `opened(error)` once the daemon answered (it has subscribed by then); empty error = 200.
  void open(std::function<void(std::string error)> opened) {
    opened_ = std::move(opened);
    request_.method(http::verb::get);
    request_.target(target_);
    request_.version(11);
    request_.set(http::field::host, address_.host_header);
    request_.set(http::field::authorization, address_.authorization);
    request_.set(http::field::accept, "text/event-stream");
    response_.body_limit(boost::none);
    stream_.async_connect(address_.endpoint, [this](beast::error_code error) {
      if (error) return answer("connect: " + error.message());
      http::async_write(stream_, request_, [this](beast::error_code write_error, std::size_t) {
        if (write_error) return answer("write: " + write_error.message());
        http::async_read_header(stream_, buffer_, response_, [this](beast::error_code read_error, std::size_t) {
          if (read_error) return answer("read: " + read_error.message());
          if (response_.get().result_int() != 200) {
            return answer("GET " + target_ + ": " + std::to_string(response_.get().result_int()));
          }
          answer("");
          read_body();
        });
      });
    });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  void answer(std::string error) {
    if (auto opened = std::move(opened_)) opened(std::move(error));
  }

  void read_body() {
    response_.get().body().data = chunk_.data();
    response_.get().body().size = chunk_.size();
    http::async_read_some(stream_, buffer_, response_, [this](beast::error_code error, std::size_t) {
      const std::int64_t recv_ns = monotonic_ns();
      if (error == http::error::need_buffer) error = {};
      const std::size_t got = chunk_.size() - response_.get().body().size;
      if (got > 0 && !consume(std::string_view(chunk_.data(), got), recv_ns)) return;
      if (error || response_.is_done()) {
        std::cerr << "taho_bench_gossip_client: the event stream ended"
                  << (error ? ": " + error.message() : std::string()) << "\n";
        return;
      }
      read_body();
    });
  }

  bool consume(std::string_view bytes, std::int64_t recv_ns) {
    if (auto fed = parser_.feed(bytes); !fed) {
      std::cerr << "taho_bench_gossip_client: bad event stream: " << fed.error().detail << "\n";
      return false;
    }
    while (auto event = parser_.poll_event()) {
      if (event->event != "message") continue;
      const auto message = json::parse(event->data, nullptr, false);
      if (!message.is_object()) continue;
      const auto topic = message.find("topic");
      const auto data = message.find("data");
      if (topic == message.end() || data == message.end() || !data->is_string() || *topic != topic_) continue;
      const auto& text = data->get_ref<const std::string&>();
      receiver_.record(text, recv_ns);
    }
    return true;
  }

  beast::tcp_stream stream_;
  const ApiAddress& address_;
  const std::string target_;
  const std::string topic_;
  Receiver& receiver_;
  taho::runtime::SseParser parser_;
  http::request<http::empty_body> request_;
  http::response_parser<http::buffer_body> response_;
  beast::flat_buffer buffer_;
  std::vector<char> chunk_;
  std::function<void(std::string)> opened_;
};

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

// One publish command: `count` messages, paced at `rate`/s on a fixed
// schedule, or (rate 0) as fast as the daemon answers with `window` in flight.
struct PublishJob {
  json id;
  std::string phase;
  std::int64_t publisher = 0;
  std::int64_t count = 0;
  std::size_t size = 256;
  double rate = 0;
  std::size_t window = 1;
  std::int64_t next = 0;
  std::size_t in_flight = 0;
  std::uint64_t published = 0;
  std::uint64_t refused = 0;
  std::optional<std::string> last_error;
  std::int64_t first_ns = 0;
  bool waiting_for_slot = false;  // paced: the schedule waits for a free slot
};

class Client {
 public:
  Client(asio::io_context& io, ApiAddress address, std::string topic)
      : io_(io), address_(std::move(address)), topic_(std::move(topic)),
        events_path_("/api/v1/events/" + percent_encode(topic_)), input_(io, ::dup(STDIN_FILENO)), pacer_(io) {}

  void start() {
    api(http::verb::get, "/api/v1/id", "", [this](int status, std::string body) {
      const auto id = json::parse(body, nullptr, false);
      if (status != 200 || !id.is_object()) {
        std::cerr << "taho_bench_gossip_client: GET /api/v1/id: " << status << " " << body << "\n";
        std::exit(1);
      }
      emit({{"event", "ready"}, {"peer_id", id.value("peer_id", "")}, {"addrs", id.value("addrs", json::array())}});
      read_command();
    });
  }

 private:
  using Reply = std::function<void(json result, std::optional<std::string> error)>;

  // A request on an idle keep-alive connection (opening one when all are busy).
  void api(http::verb method, const std::string& target, std::string body, ApiConnection::Done done) {
    ApiConnection* idle = nullptr;
    for (auto& connection : connections_) {
      if (!connection->busy()) {
        idle = connection.get();
        break;
      }
    }
    if (idle == nullptr) {
      connections_.push_back(std::make_unique<ApiConnection>(io_, address_));
      idle = connections_.back().get();
    }
    idle->request(method, target, std::move(body), std::move(done));
  }

  void read_command() {
    asio::async_read_until(input_, input_buffer_, '\n', [this](beast::error_code error, std::size_t bytes) {
      if (error) std::exit(0);  // stdin closed: the bench is gone
      std::string line(static_cast<const char*>(input_buffer_.data().data()), bytes - 1);
      input_buffer_.consume(bytes);
      handle(line);
      read_command();
    });
  }

  void handle(const std::string& line) {
    const auto message = json::parse(line, nullptr, false);
    if (!message.is_object()) return emit({{"event", "error"}, {"message", "not JSON: " + line}});
    const std::string cmd = message.value("cmd", "");
    const json id = message.value("id", json(nullptr));
    Reply reply = [cmd, id](json result, std::optional<std::string> error) {
      if (error) return emit({{"event", "error"}, {"cmd", cmd}, {"id", id}, {"message", *error}});
      result["event"] = cmd;
      result["id"] = id;
      emit(result);
    };
    if (cmd == "stop") {
      if (stream_) stream_->close();
      emit({{"event", "stopped"}, {"id", id}});
      std::exit(0);
    } else if (cmd == "dial") {
      reply({}, "this peer does not dial");
    } else if (cmd == "subscribe") {
      subscribe(std::move(reply));
    } else if (cmd == "status") {
      status(std::move(reply));
    } else if (cmd == "publish") {
      publish(message, std::move(reply));
    } else if (cmd == "collect") {
      std::optional<std::int64_t> exclude;
      if (auto found = message.find("exclude_publisher"); found != message.end() && found->is_number_integer()) {
        exclude = found->get<std::int64_t>();
      }
      reply(receiver_.report(message.value("phase", ""), message.value("samples", false), exclude), std::nullopt);
    } else {
      reply({}, "unknown command " + cmd);
    }
  }

  void subscribe(Reply reply) {
    if (stream_) return reply(json::object(), std::nullopt);
    stream_ = std::make_unique<EventStream>(io_, address_, events_path_, topic_, receiver_);
    stream_->open([reply = std::move(reply)](std::string error) {
      if (!error.empty()) return reply({}, error);
      reply(json::object(), std::nullopt);
    });
  }

  void status(Reply reply) {
    api(http::verb::get, "/api/v1/mesh", "", [this, reply = std::move(reply)](int status, std::string body) {
      const auto mesh = json::parse(body, nullptr, false);
      if (status != 200 || !mesh.is_object()) return reply({}, "GET /api/v1/mesh: " + std::to_string(status) + " " + body);
      api(http::verb::get, "/api/v1/peers", "", [this, mesh, reply](int peers_status, std::string peers_body) {
        const auto peers = json::parse(peers_body, nullptr, false);
        if (peers_status != 200 || !peers.is_object() || !peers["peers"].is_array()) {
          return reply({}, "GET /api/v1/peers: " + std::to_string(peers_status) + " " + peers_body);
        }
        json ids = json::array();
        for (const auto& peer : peers["peers"]) ids.push_back(peer.value("peer_id", ""));
        json ours = json::object();
        if (const auto topics = mesh.find("gossip_topics"); topics != mesh.end() && topics->is_object()) {
          if (const auto found = topics->find(topic_); found != topics->end() && found->is_object()) ours = *found;
        }
        reply({{"connections", ids.size()},
               {"peers", ids},
               {"mesh_peers", ours.value("mesh_peers", 0)},
               {"topic_peers", ours.value("topic_peers", 0)}},
              std::nullopt);
      });
    });
  }

  void publish(const json& message, Reply reply) {
    auto job = std::make_shared<PublishJob>();
    job->phase = message.value("phase", "");
    job->publisher = message.value("publisher", 0);
    job->count = message.value("count", 0);
    job->size = message.value("size", std::size_t{256});
    job->rate = message.value("rate", 0.0);
    job->window = std::max<std::size_t>(1, message.value("window", std::size_t{1}));
    job->first_ns = monotonic_ns();
    replies_[job.get()] = std::move(reply);
    if (job->count <= 0) return finish_if_done(job);
    if (job->rate > 0) return pace(job);
    for (std::size_t i = 0; i < job->window && job->next < job->count; ++i) publish_one(job, job->next++);
  }

  // Paced: message `seq` is due at first + seq/rate, whatever the others did.
  void pace(const std::shared_ptr<PublishJob>& job) {
    if (job->next >= job->count) return;
    if (job->in_flight >= kPacedInFlightMax) {
      job->waiting_for_slot = true;
      return;
    }
    const auto due_ns = job->first_ns + static_cast<std::int64_t>(static_cast<double>(job->next) * 1e9 / job->rate);
    const auto wait_ns = due_ns - monotonic_ns();
    if (wait_ns > 1'000'000) {
      pacer_.expires_after(std::chrono::nanoseconds(wait_ns));
      pacer_.async_wait([this, job](beast::error_code error) {
        if (error) return;
        publish_one(job, job->next++);
        pace(job);
      });
      return;
    }
    publish_one(job, job->next++);
    pace(job);
  }

  void publish_one(const std::shared_ptr<PublishJob>& job, std::int64_t seq) {
    ++job->in_flight;
    api(http::verb::post, events_path_, make_payload(job->phase, job->publisher, seq, job->size),
        [this, job](int status, std::string body) {
          --job->in_flight;
          if (status == 200) {
            ++job->published;
          } else {
            ++job->refused;
            job->last_error = "POST " + events_path_ + ": " + std::to_string(status) + " " + body;
          }
          if (job->rate > 0) {
            if (job->waiting_for_slot) {
              job->waiting_for_slot = false;
              pace(job);
            }
          } else if (job->next < job->count) {
            publish_one(job, job->next++);
          }
          finish_if_done(job);
        });
  }

  void finish_if_done(const std::shared_ptr<PublishJob>& job) {
    if (job->in_flight > 0 || job->next < job->count) return;
    auto reply = replies_.extract(job.get());
    if (reply.empty()) return;
    reply.mapped()({{"published", job->published},
                    {"refused", job->refused},
                    {"last_error", job->last_error ? json(*job->last_error) : json(nullptr)},
                    {"first_ns", std::to_string(job->first_ns)},
                    {"last_ns", std::to_string(monotonic_ns())}},
                   std::nullopt);
  }

  asio::io_context& io_;
  const ApiAddress address_;
  const std::string topic_;
  const std::string events_path_;
  asio::posix::stream_descriptor input_;
  asio::streambuf input_buffer_;
  asio::steady_timer pacer_;
  std::vector<std::unique_ptr<ApiConnection>> connections_;
  std::unique_ptr<EventStream> stream_;
  std::map<const PublishJob*, Reply> replies_;
  Receiver receiver_;
};

std::optional<std::string> read_trimmed(const std::string& path) {
  std::ifstream file(path);
  std::string text;
  if (!file || !std::getline(file, text)) return std::nullopt;
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  std::string home;
  std::string topic(kTopicDefault);
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (flag == "--home") home = argv[i + 1];
    else if (flag == "--topic") topic = argv[i + 1];
  }
  if (home.empty()) {
    std::cerr << "usage: taho_bench_gossip_client --home TAHO_HOME [--topic T]\n";
    return 2;
  }
  const auto api_addr = read_trimmed(home + "/api.addr");
  const auto token = read_trimmed(home + "/api.token");
  if (!api_addr || !token) {
    std::cerr << "taho_bench_gossip_client: no api.addr / api.token in " << home << "\n";
    return 2;
  }
  const auto colon = api_addr->rfind(':');
  beast::error_code error;
  const auto ip = asio::ip::make_address(api_addr->substr(0, colon), error);
  unsigned port = 0;
  const auto port_text = std::string_view(*api_addr).substr(colon == std::string::npos ? 0 : colon + 1);
  const auto parsed = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (colon == std::string::npos || error || parsed.ec != std::errc{} || port == 0 || port > 65535) {
    std::cerr << "taho_bench_gossip_client: bad api.addr " << *api_addr << "\n";
    return 2;
  }
  asio::io_context io;
  ApiAddress address{tcp::endpoint(ip, static_cast<std::uint16_t>(port)), *api_addr, "Bearer " + *token};
  Client client(io, std::move(address), topic);
  client.start();
  io.run();
  return 0;
}
