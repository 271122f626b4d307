// http_stream against canned servers on loopback: byte-exact responses,
// split and paced as a test needs, including broken ones a real server
// would never send.
#include "runtime/asio/http_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

namespace taho::runtime::asio {
namespace {

using namespace std::chrono_literals;
using tcp = boost::asio::ip::tcp;

// Accepts one connection, reads the request head, sends `pieces` with
// `pause` between them, then either closes or (hold_open) waits until the
// client closes.
class CannedServer {
 public:
  CannedServer(std::vector<std::string> pieces, std::chrono::milliseconds pause = 0ms, bool hold_open = false)
      : acceptor_(context_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this, pieces = std::move(pieces), pause, hold_open] {
      boost::system::error_code error;
      tcp::socket socket(context_);
      acceptor_.accept(socket, error);
      if (error) return;
      socket.set_option(tcp::no_delay(true), error);
      std::string request;
      boost::asio::read_until(socket, boost::asio::dynamic_buffer(request), "\r\n\r\n", error);
      request_head = request;
      for (const auto& piece : pieces) {
        boost::asio::write(socket, boost::asio::buffer(piece), error);
        if (error) return;  // the client left
        if (pause > 0ms) std::this_thread::sleep_for(pause);
      }
      if (hold_open) {
        std::array<char, 256> scratch{};
        while (!error) socket.read_some(boost::asio::buffer(scratch), error);
      }
    });
  }
  ~CannedServer() { thread_.join(); }

  std::string address() const { return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()); }
  std::string request_head;  // read after the client call returned

 private:
  boost::asio::io_context context_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

HttpRequest subscribe() {
  HttpRequest request;
  request.method = "GET";
  request.target = "/api/v1/events/news";
  request.headers["Authorization"] = "Bearer t0ken";
  return request;
}

struct Outcome {
  std::optional<Expected<HttpStreamEnd, HttpClientError>> result;
  int status = 0;
  HttpHeaders headers;
  std::vector<std::string> chunks;
  std::string body() const {
    std::string all;
    for (const auto& chunk : chunks) all += chunk;
    return all;
  }
};

Outcome run(const std::string& address, HttpStreamOptions options = {}, std::size_t stop_after_chunks = 0,
            bool stop_at_headers = false) {
  Outcome outcome;
  outcome.result = http_stream(
      address, subscribe(), options,
      [&](int status, const HttpHeaders& headers) {
        outcome.status = status;
        outcome.headers = headers;
        return !stop_at_headers;
      },
      [&](std::string_view bytes) {
        outcome.chunks.emplace_back(bytes);
        return stop_after_chunks == 0 || outcome.chunks.size() < stop_after_chunks;
      });
  return outcome;
}

TEST(HttpStream, DecodesChunkedBodiesSplitAnywhere) {
  CannedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n",
                       "5\r\nhel", "lo\r\n", "6;ext=1\r\n world\r\n1", "a\r\n0123456789abcdefghijklmnop\r\n",
                       "0\r\n\r\n"},
                      5ms);
  const auto outcome = run(server.address());
  ASSERT_TRUE(outcome.result->has_value()) << outcome.result->error().detail;
  EXPECT_EQ(outcome.status, 200);
  EXPECT_EQ(outcome.headers.at("content-type"), "text/event-stream");
  EXPECT_EQ(outcome.body(), "hello world0123456789abcdefghijklmnop");
  EXPECT_GE(outcome.chunks.size(), 3u) << "bytes are handed over as they arrive";
  EXPECT_EQ((*outcome.result)->body_bytes, outcome.body().size());
  EXPECT_FALSE((*outcome.result)->stopped);
  EXPECT_NE(server.request_head.find("GET /api/v1/events/news HTTP/1.1\r\n"), std::string::npos);
  EXPECT_NE(server.request_head.find("Authorization: Bearer t0ken\r\n"), std::string::npos);
}

TEST(HttpStream, ContentLengthBodyLargerThanOneRead) {
  std::string content(200'000, '\0');
  for (std::size_t i = 0; i < content.size(); ++i) content[i] = static_cast<char>(i * 7);
  CannedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 200000\r\n\r\n", content.substr(0, 1000), content.substr(1000)});
  HttpStreamOptions options;
  options.read_bytes_max = 16 * 1024;
  const auto outcome = run(server.address(), options);
  ASSERT_TRUE(outcome.result->has_value()) << outcome.result->error().detail;
  EXPECT_EQ(outcome.body(), content);
  for (const auto& chunk : outcome.chunks) EXPECT_LE(chunk.size(), options.read_bytes_max);
}

TEST(HttpStream, BodyWithoutLengthEndsWhenTheServerCloses) {
  CannedServer server({"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", "all of ", "it"});
  const auto outcome = run(server.address());
  ASSERT_TRUE(outcome.result->has_value()) << outcome.result->error().detail;
  EXPECT_EQ(outcome.body(), "all of it");
}

TEST(HttpStream, EmptyBodiesEndAtTheHeaders) {
  CannedServer server({"HTTP/1.1 204 No Content\r\n\r\n"}, 0ms, true);
  const auto outcome = run(server.address());
  ASSERT_TRUE(outcome.result->has_value()) << outcome.result->error().detail;
  EXPECT_EQ(outcome.status, 204);
  EXPECT_TRUE(outcome.chunks.empty());
}

TEST(HttpStream, ChunkedBodyCutShortIsTruncated) {
  CannedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\n8\r\nabc"});
  const auto outcome = run(server.address());
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::truncated);
  EXPECT_EQ(outcome.body(), "helloabc") << "what did arrive is still handed over";
}

TEST(HttpStream, ContentLengthBodyCutShortIsTruncated) {
  CannedServer server({"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", "only forty bytes of the hundred promised"});
  const auto outcome = run(server.address());
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::truncated);
}

TEST(HttpStream, BadChunkFramingIsAProtocolError) {
  CannedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\nhello\r\nzz\r\nnope\r\n"}, 0ms,
                      true);
  const auto outcome = run(server.address());
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::protocol);
}

TEST(HttpStream, GarbageInsteadOfAResponseIsAProtocolError) {
  CannedServer server({"SSH-2.0-OpenSSH_9.2\r\n\r\n"}, 0ms, true);
  const auto outcome = run(server.address());
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::protocol);
  EXPECT_EQ(outcome.status, 0) << "on_headers must not see a response that never came";
}

TEST(HttpStream, OversizedHeadersAreAProtocolError) {
  CannedServer server({"HTTP/1.1 200 OK\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"}, 0ms, true);
  HttpStreamOptions options;
  options.header_bytes_max = 1024;
  const auto outcome = run(server.address(), options);
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::protocol);
}

TEST(HttpStream, OnHeadersCanStopBeforeTheBody) {
  CannedServer server({"HTTP/1.1 401 Unauthorized\r\nContent-Length: 5\r\n\r\nnope!"});
  const auto outcome = run(server.address(), {}, 0, true);
  ASSERT_TRUE(outcome.result->has_value());
  EXPECT_TRUE((*outcome.result)->stopped);
  EXPECT_EQ((*outcome.result)->status, 401);
  EXPECT_TRUE(outcome.chunks.empty());
}

TEST(HttpStream, OnChunkCanStopAnEndlessStream) {
  CannedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\none\r\n", "3\r\ntwo\r\n",
                       "5\r\nthree\r\n"},
                      20ms, true);  // never terminated: only the callback ends it
  const auto outcome = run(server.address(), {}, 2);
  ASSERT_TRUE(outcome.result->has_value()) << outcome.result->error().detail;
  EXPECT_TRUE((*outcome.result)->stopped);
  EXPECT_EQ(outcome.body(), "onetwo");
}

TEST(HttpStream, IdleTimeoutEndsASilentStream) {
  CannedServer server({"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "3\r\none\r\n"}, 0ms, true);
  HttpStreamOptions options;
  options.idle_timeout_ms = 150;
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = run(server.address(), options);
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::timeout);
  EXPECT_EQ(outcome.body(), "one");
  EXPECT_GE(std::chrono::steady_clock::now() - started, 150ms);
}

TEST(HttpStream, OverallTimeoutEndsEvenABusyStream) {
  std::vector<std::string> pieces = {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"};
  for (int i = 0; i < 40; ++i) pieces.push_back("1\r\nx\r\n");
  CannedServer server(pieces, 20ms, true);
  HttpStreamOptions options;
  options.timeout_ms = 200;
  options.idle_timeout_ms = 1000;
  const auto outcome = run(server.address(), options);
  ASSERT_FALSE(outcome.result->has_value());
  EXPECT_EQ(outcome.result->error().code, HttpClientErrc::timeout);
  EXPECT_GT(outcome.body().size(), 2u);
  EXPECT_LT(outcome.body().size(), 40u);
}

TEST(HttpStream, ConnectFailuresAndBadAddresses) {
  std::string closed_address;
  {
    boost::asio::io_context context;
    tcp::acceptor acceptor(context, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    closed_address = "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port());
  }  // nothing listens there any more
  const auto refused = run(closed_address);
  ASSERT_FALSE(refused.result->has_value());
  EXPECT_EQ(refused.result->error().code, HttpClientErrc::connect_failed);

  for (const std::string address : {"nonsense", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80x", "host:80"}) {
    const auto outcome = run(address);
    ASSERT_FALSE(outcome.result->has_value()) << address;
    EXPECT_EQ(outcome.result->error().code, HttpClientErrc::bad_address) << address;
  }
}

}  // namespace
}  // namespace taho::runtime::asio
