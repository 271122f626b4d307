// Streamed responses of the API's HTTP server over real loopback sockets.
// The server runs on an EventLoop in its own thread; everything that touches
// the server or a writer goes through LoopThread::call. Clients are the
// blocking http_stream/http_request, or raw sockets where a test needs a
// client that misbehaves. Every wait is bounded, so a bug fails, never hangs.
#include "runtime/asio/http_server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>
#include <sys/time.h>
#include <thread>
#include <utility>

#include "runtime/asio/event_loop.hpp"
#include "runtime/asio/http_client.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::runtime::asio {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// An EventLoop running in a thread of its own.
class LoopThread {
 public:
  LoopThread() : guard_(loop.context().get_executor()), thread_([this] { loop.context().run(); }) {}
  ~LoopThread() {
    guard_.reset();
    loop.stop();
    thread_.join();
  }

  // Runs `work` on the loop thread and returns its result.
  template <class Work>
  auto call(Work work) {
    using Value = decltype(work());
    std::packaged_task<Value()> task(std::move(work));
    auto result = task.get_future();
    loop.post([&task] { task(); });
    if (result.wait_for(10s) != std::future_status::ready) {
      ADD_FAILURE() << "the loop did not run the work within 10 s";
      std::abort();  // `task` lives on this stack: nothing sane is left to do
    }
    return result.get();
  }

  EventLoop loop;

 private:
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::thread thread_;
};

// A deterministic byte pattern, so a reader can check order at any offset.
char pattern_byte(std::uint64_t offset) { return static_cast<char>((offset * 2654435761u) >> 13); }

std::string pattern(std::uint64_t offset, std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = pattern_byte(offset + i);
  return out;
}

HttpRequest get(std::string target) {
  HttpRequest request;
  request.method = "GET";
  request.target = std::move(target);
  return request;
}

bool wait_for(std::future<void>& future, std::chrono::milliseconds timeout = 5s) {
  return future.wait_for(timeout) == std::future_status::ready;
}

// What one http_stream call saw.
struct Received {
  std::optional<Expected<HttpStreamEnd, HttpClientError>> result;
  int status = 0;
  HttpHeaders headers;
  std::string body;
};

// Clients in these tests give up after 5 s of silence, so a server bug fails
// the test instead of hanging it.
HttpStreamOptions bounded() {
  HttpStreamOptions options;
  options.idle_timeout_ms = 5'000;
  return options;
}

Received stream_from(const std::string& address, const std::string& target, HttpStreamOptions options = bounded(),
                     std::function<bool(const std::string& body_so_far)> keep_going = nullptr) {
  Received received;
  received.result = http_stream(
      address, get(target), options,
      [&](int status, const HttpHeaders& headers) {
        received.status = status;
        received.headers = headers;
        return true;
      },
      [&](std::string_view bytes) {
        received.body.append(bytes);
        return !keep_going || keep_going(received.body);
      });
  return received;
}

// A raw client: sends a request head and reads the response head, then the
// test decides how (and whether) to read on.
class RawClient {
 public:
  explicit RawClient(const std::string& address) : socket_(context_) {
    const auto colon = address.rfind(':');
    socket_.connect(tcp::endpoint(boost::asio::ip::make_address(address.substr(0, colon)),
                                  static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1)))));
    // Blocking reads give up after 10 s, so a server bug fails the test instead of hanging it.
    const timeval read_timeout{10, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &read_timeout, sizeof read_timeout);
  }
  void send_request(const std::string& target, const std::string& method = "GET") {
    const std::string head = method + " " + target + " HTTP/1.1\r\nHost: test\r\n\r\n";
    boost::asio::write(socket_, boost::asio::buffer(head));
  }
  std::string read_head() {
    const std::size_t head_bytes = boost::asio::read_until(socket_, boost::asio::dynamic_buffer(received_), "\r\n\r\n");
    std::string head = received_.substr(0, head_bytes);
    received_.erase(0, head_bytes);
    return head;
  }
  // Reads until the server closes; true if it did within `timeout`.
  bool closed_by_server_within(std::chrono::milliseconds timeout) {
    socket_.non_blocking(true);
    const auto deadline = Clock::now() + timeout;
    std::array<char, 64 * 1024> scratch{};
    while (Clock::now() < deadline) {
      boost::system::error_code error;
      socket_.read_some(boost::asio::buffer(scratch), error);
      if (error == boost::asio::error::would_block) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
      if (error) return true;
    }
    return false;
  }
  // Everything the server sends until it closes (or 10 s of silence).
  std::string read_until_closed() {
    boost::system::error_code error;
    boost::asio::read(socket_, boost::asio::dynamic_buffer(received_), error);
    return std::exchange(received_, {});
  }
  // Bytes read past the last head, with a short wait for more to arrive.
  std::string bytes_after_head(std::chrono::milliseconds wait) {
    std::this_thread::sleep_for(wait);
    socket_.non_blocking(true);
    std::array<char, 4096> scratch{};
    boost::system::error_code error;
    const std::size_t count = socket_.read_some(boost::asio::buffer(scratch), error);
    socket_.non_blocking(false);
    received_.append(scratch.data(), error ? 0 : count);
    return std::exchange(received_, {});
  }
  void close() { socket_.close(); }

 private:
  boost::asio::io_context context_;
  tcp::socket socket_;
  std::string received_;
};

// The server under test with a handler per test. Writers the handlers
// produce are kept in `streams`, touched only on the loop thread.
class HttpStreamServerTest : public ::testing::Test {
 protected:
  void start(HttpServerOptions options, HttpHandler handler) {
    options.port = 0;
    runner_.call([&] {
      auto started = HttpServer::start(runner_.loop, options, std::move(handler));
      if (!started) {
        ADD_FAILURE() << started.error().text;
        return;
      }
      server_ = std::move(*started);
      address_ = server_->local_address();
    });
  }
  void TearDown() override {
    runner_.call([&] {
      streams_.clear();
      server_.reset();
    });
  }

  // A handler answering `target` with a stream handed to `open`, and
  // anything else with a plain 200 "plain".
  HttpHandler streaming_handler(std::string target, HttpHeaders headers,
                                std::function<void(HttpStreamWriter&)> open) {
    return [this, target, headers, open](const HttpRequest& request, HttpResponder respond) {
      HttpResponse response;
      if (request.target != target) {
        response.body = "plain";
        respond(std::move(response));
        return;
      }
      response.headers = headers;
      response.stream = [this, open](HttpStreamWriter writer) {
        streams_.push_back(std::move(writer));
        open(streams_.back());
      };
      respond(std::move(response));
    };
  }

  LoopThread runner_;
  std::unique_ptr<HttpServer> server_;
  std::string address_;
  std::deque<HttpStreamWriter> streams_;  // deque: references stay valid as streams are added
};

TEST_F(HttpStreamServerTest, ChunkedStreamOfManyChunksArrivesInOrder) {
  start({}, streaming_handler("/stream", {{"Content-Type", "text/plain"}}, [](HttpStreamWriter& writer) {
          for (int i = 0; i < 2000; ++i) {
            EXPECT_TRUE(writer.write("chunk " + std::to_string(i) + "\n"));
            EXPECT_TRUE(writer.write(""));  // must not be framed as the terminating chunk
          }
          writer.finish();
        }));
  const auto received = stream_from(address_, "/stream");
  ASSERT_TRUE(received.result->has_value()) << received.result->error().detail;
  EXPECT_FALSE((*received.result)->stopped);
  EXPECT_EQ(received.status, 200);
  EXPECT_EQ(received.headers.at("transfer-encoding"), "chunked");
  EXPECT_EQ(received.headers.count("Content-Length"), 0u);
  EXPECT_EQ(received.headers.at("Connection"), "close");
  std::string expected;
  for (int i = 0; i < 2000; ++i) expected += "chunk " + std::to_string(i) + "\n";
  EXPECT_EQ(received.body, expected);
  EXPECT_EQ((*received.result)->body_bytes, expected.size());
  // The server still answers plain requests afterwards.
  auto plain = http_request(address_, get("/other"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->body, "plain");
}

TEST_F(HttpStreamServerTest, ContentLengthStreamSendsExactlyThatMany) {
  constexpr std::size_t total = 300'000;
  start({}, streaming_handler("/blob", {{"Content-Length", std::to_string(total)}}, [](HttpStreamWriter& writer) {
          for (std::size_t offset = 0; offset < total; offset += 1000) EXPECT_TRUE(writer.write(pattern(offset, 1000)));
          writer.finish();
        }));
  const auto received = stream_from(address_, "/blob");
  ASSERT_TRUE(received.result->has_value()) << received.result->error().detail;
  EXPECT_EQ(received.headers.at("Content-Length"), std::to_string(total));
  EXPECT_EQ(received.headers.count("Transfer-Encoding"), 0u);
  EXPECT_EQ(received.body, pattern(0, total));
}

TEST_F(HttpStreamServerTest, ContentLengthFinishedEarlyReachesTheClientAsTruncated) {
  start({}, streaming_handler("/blob", {{"Content-Length", "1000"}}, [](HttpStreamWriter& writer) {
          EXPECT_TRUE(writer.write(pattern(0, 600)));
          writer.finish();
        }));
  const auto received = stream_from(address_, "/blob");
  ASSERT_FALSE(received.result->has_value());
  EXPECT_EQ(received.result->error().code, HttpClientErrc::truncated);
  EXPECT_EQ(received.body, pattern(0, 600));
}

TEST_F(HttpStreamServerTest, WritingPastContentLengthIsRefusedAndCutsTheStream) {
  std::promise<bool> refused;
  start({}, streaming_handler("/blob", {{"Content-Length", "10"}}, [&](HttpStreamWriter& writer) {
          EXPECT_TRUE(writer.write("12345"));
          const bool accepted = writer.write("123456");
          refused.set_value(!accepted && !writer.open());
        }));
  const auto received = stream_from(address_, "/blob");
  EXPECT_TRUE(refused.get_future().get());
  ASSERT_FALSE(received.result->has_value());
  EXPECT_LT(received.body.size(), 10u);
}

TEST_F(HttpStreamServerTest, BadDeclaredContentLengthIsAServerError) {
  std::promise<bool> writer_open;
  start({}, streaming_handler("/blob", {{"Content-Length", "12x"}},
                              [&](HttpStreamWriter& writer) { writer_open.set_value(writer.write("x")); }));
  auto answer = http_request(address_, get("/blob"));
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 500);
  EXPECT_FALSE(writer_open.get_future().get());
}

TEST_F(HttpStreamServerTest, AbandonedWriterTruncatesTheChunkedBody) {
  start({}, streaming_handler("/stream", {}, [this](HttpStreamWriter& writer) {
          EXPECT_TRUE(writer.write("some of it"));
          streams_.clear();  // the producer drops its writer without finish()
        }));
  const auto received = stream_from(address_, "/stream");
  ASSERT_FALSE(received.result->has_value());
  EXPECT_EQ(received.result->error().code, HttpClientErrc::truncated);
}

TEST_F(HttpStreamServerTest, ClientDisconnectCallsOnCloseAndLaterWritesFail) {
  std::promise<void> closed;
  start({}, streaming_handler("/events", {{"Content-Type", "text/event-stream"}}, [&](HttpStreamWriter& writer) {
          writer.on_close([&] { closed.set_value(); });
          EXPECT_TRUE(writer.write(": hello\n\n"));
        }));
  RawClient client(address_);
  client.send_request("/events");
  EXPECT_NE(client.read_head().find("200 OK"), std::string::npos);
  client.close();
  auto closed_future = closed.get_future();
  ASSERT_TRUE(wait_for(closed_future)) << "on_close did not fire after the client left";
  const auto state = runner_.call([&] {
    auto& writer = streams_.front();
    return std::make_pair(writer.open(), writer.write("data: late\n\n"));
  });
  EXPECT_FALSE(state.first);
  EXPECT_FALSE(state.second);
}

TEST_F(HttpStreamServerTest, OnCloseMayDestroyTheWriterAndDoesNotFireAfterFinish) {
  std::promise<void> closed;
  std::atomic<int> close_calls = 0;
  start({}, streaming_handler("/events", {}, [&](HttpStreamWriter& writer) {
          writer.on_close([&] {
            ++close_calls;
            streams_.clear();  // destroying the writer from its own callback is allowed
            closed.set_value();
          });
        }));
  RawClient client(address_);
  client.send_request("/events");
  client.read_head();
  client.close();
  auto closed_future = closed.get_future();
  ASSERT_TRUE(wait_for(closed_future));

  // A finished stream's on_close never fires, even when the client leaves.
  std::atomic<int> finished_close_calls = 0;
  runner_.call([&] {
    streams_.clear();
    return 0;
  });
  HttpServerOptions options;
  start(options, streaming_handler("/done", {}, [&](HttpStreamWriter& writer) {
          writer.on_close([&] { ++finished_close_calls; });
          writer.write("x");
          writer.finish();
        }));
  const auto received = stream_from(address_, "/done");
  ASSERT_TRUE(received.result->has_value());
  std::this_thread::sleep_for(100ms);
  runner_.call([] { return 0; });  // let anything posted run
  EXPECT_EQ(close_calls.load(), 1);
  EXPECT_EQ(finished_close_calls.load(), 0);
}

// A producer that writes while the queue is below the low-water mark and
// resumes on on_drain, feeding a deliberately slow reader.
struct PacedProducer {
  HttpStreamWriter* writer = nullptr;
  std::uint64_t total = 0;
  std::size_t piece_bytes = 64 * 1024;
  std::uint64_t sent = 0;
  int drains = 0;
  std::size_t queued_max = 0;
  bool refused = false;

  void pump() {
    while (sent < total && !writer->backlogged()) {
      const auto size = static_cast<std::size_t>(std::min<std::uint64_t>(piece_bytes, total - sent));
      if (!writer->write(pattern(sent, size))) {
        refused = true;
        return;
      }
      sent += size;
      queued_max = std::max(queued_max, writer->queued_bytes());
    }
    if (sent == total) writer->finish();
  }
};

TEST_F(HttpStreamServerTest, BackpressureDrainsASlowReaderWithoutHittingTheLimit) {
  constexpr std::uint64_t total = 24 * 1024 * 1024;
  HttpServerOptions options;
  options.stream_low_water_bytes = 256 * 1024;
  options.stream_queue_bytes_max = 1024 * 1024;
  PacedProducer producer;
  producer.total = total;
  start(options, streaming_handler("/blob", {{"Content-Length", std::to_string(total)}}, [&](HttpStreamWriter& writer) {
          producer.writer = &writer;
          writer.on_drain([&] {
            ++producer.drains;
            producer.pump();
          });
          producer.pump();
        }));
  std::uint64_t checked = 0;
  std::uint64_t mismatches = 0;
  std::size_t pieces_bytes = 0;
  HttpStreamOptions client_options = bounded();
  client_options.read_bytes_max = 32 * 1024;
  auto result = http_stream(
      address_, get("/blob"), client_options, [](int, const HttpHeaders&) { return true; },
      [&](std::string_view bytes) {
        for (const char c : bytes) mismatches += c != pattern_byte(checked++);
        pieces_bytes += bytes.size();
        if (pieces_bytes >= 256 * 1024) {  // the slow reader: 1 ms per 256 KiB
          pieces_bytes = 0;
          std::this_thread::sleep_for(1ms);
        }
        return true;
      });
  ASSERT_TRUE(result.has_value()) << result.error().detail;
  EXPECT_EQ(checked, total);
  EXPECT_EQ(mismatches, 0u);
  const auto [drains, queued_max, refused] = runner_.call([&] {
    return std::make_tuple(producer.drains, producer.queued_max, producer.refused);
  });
  EXPECT_FALSE(refused);
  EXPECT_GT(drains, 10) << "the producer should have waited for the reader many times";
  EXPECT_LT(queued_max, options.stream_low_water_bytes + 2 * producer.piece_bytes);
}

TEST_F(HttpStreamServerTest, OversizedQueueCutsTheStream) {
  HttpServerOptions options;
  options.stream_queue_bytes_max = 256 * 1024;
  std::promise<int> accepted_writes;
  std::promise<void> closed;
  start(options, streaming_handler("/stream", {}, [&](HttpStreamWriter& writer) {
          writer.on_close([&] { closed.set_value(); });
          int accepted = 0;
          // A producer ignoring backpressure: everything at once.
          while (accepted < 100 && writer.write(pattern(0, 64 * 1024))) ++accepted;
          accepted_writes.set_value(accepted);
        }));
  const auto received = stream_from(address_, "/stream");
  EXPECT_EQ(accepted_writes.get_future().get(), 3);  // the fourth 64 KiB chunk would pass 256 KiB
  auto closed_future = closed.get_future();
  EXPECT_TRUE(wait_for(closed_future));
  ASSERT_FALSE(received.result->has_value());
}

TEST_F(HttpStreamServerTest, SilentEventStreamOutlivesTheIdleTimeoutWhileIdleConnectionsDoNot) {
  HttpServerOptions options;
  options.idle_timeout_ms = 200;
  options.sse_keepalive_ms = 0;  // truly silent
  start(options, streaming_handler("/events", {{"Content-Type", "text/event-stream"}}, [](HttpStreamWriter&) {}));

  std::promise<Received> outcome;
  std::thread subscriber([&] {
    outcome.set_value(stream_from(address_, "/events", bounded(), [](const std::string& body) {
      return body.find("\n\n") == std::string::npos;  // stop after the first event
    }));
  });
  RawClient idle(address_);  // connects and says nothing
  EXPECT_TRUE(idle.closed_by_server_within(3s)) << "an idle connection must still time out";
  std::this_thread::sleep_for(800ms);  // four idle timeouts of silence on the stream
  const bool delivered = runner_.call([&] {
    return !streams_.empty() && streams_.front().write(*format_sse_event({"tick", "still here", "1"}));
  });
  EXPECT_TRUE(delivered) << "the silent stream was dropped";
  auto received_future = outcome.get_future();
  ASSERT_EQ(received_future.wait_for(5s), std::future_status::ready);
  subscriber.join();
  const auto received = received_future.get();
  ASSERT_TRUE(received.result->has_value()) << received.result->error().detail;
  EXPECT_TRUE((*received.result)->stopped);
  SseParser parser;
  ASSERT_TRUE(parser.feed(received.body).has_value());
  const auto event = parser.poll_event();
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "tick");
  EXPECT_EQ(event->data, "still here");
}

TEST_F(HttpStreamServerTest, SilentEventStreamGetsKeepAliveComments) {
  HttpServerOptions options;
  options.sse_keepalive_ms = 50;
  start(options, streaming_handler("/events", {{"Content-Type", "text/event-stream; charset=utf-8"}},
                                   [](HttpStreamWriter&) {}));
  const auto started = Clock::now();
  const auto received = stream_from(address_, "/events", bounded(), [](const std::string& body) {
    return body.size() < 3 * std::string(": keep-alive\n\n").size();
  });
  const auto elapsed = Clock::now() - started;
  ASSERT_TRUE(received.result->has_value()) << received.result->error().detail;
  const std::string keepalive = ": keep-alive\n\n";
  ASSERT_EQ(received.body.size() % keepalive.size(), 0u) << received.body;
  for (std::size_t at = 0; at < received.body.size(); at += keepalive.size()) {
    EXPECT_EQ(received.body.substr(at, keepalive.size()), keepalive);
  }
  EXPECT_GE(elapsed, 120ms);
  SseParser parser;
  ASSERT_TRUE(parser.feed(received.body).has_value());
  EXPECT_FALSE(parser.poll_event().has_value()) << "keep-alives are comments, not events";
}

TEST_F(HttpStreamServerTest, OtherSilentStreamsGetNoKeepAlive) {
  HttpServerOptions options;
  options.sse_keepalive_ms = 20;
  start(options, streaming_handler("/stream", {{"Content-Type", "application/octet-stream"}}, [](HttpStreamWriter&) {}));
  HttpStreamOptions client_options;
  client_options.idle_timeout_ms = 300;
  const auto received = stream_from(address_, "/stream", client_options);
  ASSERT_FALSE(received.result->has_value());
  EXPECT_EQ(received.result->error().code, HttpClientErrc::timeout);
  EXPECT_EQ(received.body, "") << "a comment line would corrupt a body that is not an event stream";
}

TEST_F(HttpStreamServerTest, ClientThatReadsNothingIsDroppedAfterTheIdleTimeout) {
  HttpServerOptions options;
  options.idle_timeout_ms = 300;
  options.stream_queue_bytes_max = 64 * 1024 * 1024;
  std::promise<void> closed;
  PacedProducer producer;
  producer.total = 256 * 1024 * 1024;  // more than the socket buffers hold
  start(options, streaming_handler("/blob", {}, [&](HttpStreamWriter& writer) {
          producer.writer = &writer;
          writer.on_close([&] { closed.set_value(); });
          writer.on_drain([&] { producer.pump(); });
          producer.pump();
        }));
  RawClient client(address_);
  client.send_request("/blob");
  client.read_head();
  // Reads nothing more: the writes stall and the server gives up on it.
  auto closed_future = closed.get_future();
  EXPECT_TRUE(wait_for(closed_future, 5s));
}

TEST_F(HttpStreamServerTest, StreamsCountAgainstConnectionsMax) {
  HttpServerOptions options;
  options.connections_max = 2;
  std::atomic<int> closes = 0;
  start(options, streaming_handler("/events", {}, [&](HttpStreamWriter& writer) {
          writer.on_close([&] { ++closes; });
        }));
  RawClient first(address_);
  first.send_request("/events");
  first.read_head();
  RawClient second(address_);
  second.send_request("/events");
  second.read_head();
  RawClient third(address_);
  EXPECT_TRUE(third.closed_by_server_within(3s)) << "a third connection went over connections_max";

  first.close();
  const auto deadline = Clock::now() + 5s;
  while (closes.load() < 1 && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(closes.load(), 1);
  auto plain = http_request(address_, get("/plain"));
  ASSERT_TRUE(plain.has_value()) << plain.error().detail;
  EXPECT_EQ(plain->body, "plain");
}

// The server's log lines while it lives, to check what it warns about.
class CapturedLog {
 public:
  CapturedLog()
      : sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        previous_(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const {
    std::string all;
    for (const auto& line : sink_->last_formatted()) all += line;
    return all;
  }

 private:
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(HttpStreamServerTest, HeadOfADeclaredLengthStreamSendsTheLengthAndNoBody) {
  CapturedLog log;
  std::atomic<bool> write_refused = false;
  start({}, streaming_handler("/blob", {{"Content-Length", "123456"}, {"ETag", "\"x\""}},
                              [&](HttpStreamWriter& writer) {
                                write_refused = !writer.write("not for a HEAD");
                                writer.finish();
                              }));
  RawClient client(address_);
  client.send_request("/blob", "HEAD");
  const std::string answer = client.read_until_closed();
  ASSERT_GE(answer.size(), 4u);
  EXPECT_EQ(answer.rfind("HTTP/1.1 200", 0), 0u) << answer;
  EXPECT_NE(answer.find("Content-Length: 123456\r\n"), std::string::npos) << answer;
  EXPECT_NE(answer.find("ETag: \"x\"\r\n"), std::string::npos) << answer;
  EXPECT_EQ(answer.find("\r\n\r\n"), answer.size() - 4) << "bytes after the head: " << answer;
  EXPECT_TRUE(write_refused.load()) << "a HEAD answer takes no body bytes";
  runner_.call([] { return 0; });  // the server's log lines of this exchange are written
  EXPECT_EQ(log.text().find("short of its Content-Length"), std::string::npos) << log.text();
  // The same resource by GET still streams its body.
  auto plain = http_request(address_, get("/other"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(plain->body, "plain");
}

TEST_F(HttpStreamServerTest, HeadOfAPlainAnswerKeepsItsLengthAndTheConnection) {
  start({}, [](const HttpRequest& request, HttpResponder respond) {
    HttpResponse response;
    if (request.target == "/declared") {
      response.headers["Content-Length"] = "5000";  // a HEAD handler that knows the size, sends no body
    } else {
      response.body = "plain body";
    }
    respond(std::move(response));
  });
  RawClient client(address_);
  client.send_request("/declared", "HEAD");
  const std::string declared = client.read_head();
  EXPECT_NE(declared.find("Content-Length: 5000\r\n"), std::string::npos) << declared;
  EXPECT_EQ(client.bytes_after_head(100ms), "");
  // Still keep-alive: the next answer on this connection parses cleanly.
  client.send_request("/body", "HEAD");
  const std::string from_body = client.read_head();
  EXPECT_EQ(from_body.rfind("HTTP/1.1 200", 0), 0u) << from_body;
  EXPECT_NE(from_body.find("Content-Length: 10\r\n"), std::string::npos) << from_body;
  EXPECT_EQ(client.bytes_after_head(100ms), "");
  client.send_request("/body");
  const std::string get_head = client.read_head();
  EXPECT_EQ(get_head.rfind("HTTP/1.1 200", 0), 0u) << get_head;
  EXPECT_EQ(client.bytes_after_head(100ms), "plain body");
}

}  // namespace
}  // namespace taho::runtime::asio
