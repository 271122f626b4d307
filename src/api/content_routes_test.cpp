// The content routes against a real store in a temp dir and a fake fetcher
// whose callbacks the tests fire by hand, with a fake stream sink in place
// of the HTTP server's socket.
#include "api/content_routes.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <random>

#include "content/store/partial.hpp"
#include "content/tree/range_decoder.hpp"
#include "runtime/asio/sse_parser.hpp"

namespace taho::api {
namespace {

namespace fs = std::filesystem;
using runtime::HttpResponse;

Bytes random_bytes(std::size_t length, std::uint32_t seed) {
  std::mt19937 generator(seed);
  Bytes out(length);
  for (auto& byte : out) byte = static_cast<std::uint8_t>(generator());
  return out;
}

std::string text_of(ByteView bytes, std::uint64_t offset, std::uint64_t length) {
  return std::string(bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                     bytes.begin() + static_cast<std::ptrdiff_t>(offset + length));
}

struct SinkState {
  std::string body;
  bool finished = false;
  bool aborted = false;
  bool backlog_after_write = false;  // each write fills the queue past the low-water mark
  bool backlogged = false;
  std::function<void()> drained;
  std::function<void()> closed;
};

class FakeSink final : public runtime::HttpStreamSink {
 public:
  explicit FakeSink(std::shared_ptr<SinkState> state) : state_(std::move(state)) {}
  bool write(std::string chunk) override {
    if (!open()) return false;
    state_->body += chunk;
    if (state_->backlog_after_write) state_->backlogged = true;
    return true;
  }
  std::size_t queued_bytes() const override { return 0; }
  bool backlogged() const override { return state_->backlogged; }
  bool open() const override { return !state_->finished && !state_->aborted; }
  void on_drain(std::function<void()> drained) override { state_->drained = std::move(drained); }
  void on_close(std::function<void()> closed) override { state_->closed = std::move(closed); }
  void finish() override { state_->finished = true; }
  void abort() override { state_->aborted = true; }

 private:
  std::shared_ptr<SinkState> state_;
};

// What a request got: the response (its stream already started, as the
// server does before the responder returns) and the stream's sink.
struct Answer {
  bool answered = false;
  HttpResponse response;
  std::shared_ptr<SinkState> sink;
  std::shared_ptr<SinkState> sink_state_before_answer = std::make_shared<SinkState>();

  runtime::asio::HttpResponder responder() {
    return [this](HttpResponse r) {
      EXPECT_FALSE(answered) << "answered twice";
      answered = true;
      auto stream = std::move(r.stream);
      response = std::move(r);
      if (stream) {
        sink = sink_state_before_answer;
        stream(runtime::HttpStreamWriter(std::make_unique<FakeSink>(sink)));
      }
    };
  }
  std::string header(const std::string& name) const {
    auto found = response.headers.find(name);
    return found == response.headers.end() ? "" : found->second;
  }
  std::string error() const { return nlohmann::json::parse(response.body).value("error", ""); }
};

class FakeFetcher final : public ContentFetcher {
 public:
  struct Call {
    content::Hash root{};
    std::optional<content::ByteRange> range;
    OnProgress progress;
    OnDone done;
    bool cancelled = false;
  };

  std::uint64_t fetch(const content::Hash& root, std::optional<content::ByteRange> range, OnProgress on_progress,
                      OnDone on_done) override {
    calls.push_back({root, range, std::move(on_progress), std::move(on_done), false});
    return calls.size();  // handle = index + 1
  }
  void cancel(std::uint64_t handle) override { calls.at(handle - 1).cancelled = true; }
  std::vector<HolderRow> holders(const content::Hash&) const override { return rows; }
  void announce(const content::Hash& root, std::uint64_t size) override { announced.emplace_back(root, size); }
  void withdraw(const content::Hash& root) override { withdrawn.push_back(root); }

  Call& last() { return calls.back(); }

  std::vector<Call> calls;
  std::vector<HolderRow> rows;
  std::vector<std::pair<content::Hash, std::uint64_t>> announced;
  std::vector<content::Hash> withdrawn;
};

constexpr std::uint64_t kGroup = 16 * 1024;

class ContentRoutesTest : public ::testing::Test {
 protected:
  ContentRoutesTest() {
    std::string pattern = (fs::temp_directory_path() / "taho-content-routes-XXXXXX").string();
    EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    store_options_.root = root_ / "store";
    store_options_.free_bytes_reserve = 0;
    routes_options_.read_chunk_bytes = 64 * 1024;
    // The download in progress: the remote content, readable up to what the
    // test has declared verified.
    routes_options_.read_partial = [this](const content::ContentId& id, std::uint64_t offset, std::uint64_t length,
                                          std::uint64_t vouched_end) -> Expected<Bytes, content::StoreError> {
      ++partial_reads_;
      EXPECT_LE(offset + length, vouched_end) << "reads stay within what the fetch reported verified";
      if (!partial_available_ || id.hash() != remote_id_.hash() || offset + length > remote_.size()) {
        return unexpected(content::StoreError{content::StoreErrc::not_found, "no partial download"});
      }
      return Bytes(remote_.begin() + static_cast<std::ptrdiff_t>(offset),
                   remote_.begin() + static_cast<std::ptrdiff_t>(offset + length));
    };
    remote_ = random_bytes(100'000, 7);
    remote_id_ = content::ContentId(crypto::blake3::hash(remote_));
  }
  ~ContentRoutesTest() override {
    routes_.reset();
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }

  ContentRoutes& routes() {
    if (!routes_) routes_ = std::make_unique<ContentRoutes>(loop_, store_options_, fetcher_ptr_, routes_options_);
    return *routes_;
  }
  content::ContentId put_local(ByteView bytes) {
    auto store = content::Store::open(store_options_);
    EXPECT_TRUE(store.has_value());
    auto put = store->put_bytes(bytes);
    EXPECT_TRUE(put.has_value());
    return put->id;
  }
  Answer& call(std::string method, std::string target, runtime::HttpHeaders headers = {}, std::string body = {}) {
    runtime::HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.headers = std::move(headers);
    request.body = std::move(body);
    answers_.push_back(std::make_unique<Answer>());
    Answer& answer = *answers_.back();
    const std::string path = request.target.substr(0, request.target.find('?'));
    auto respond = answer.responder();
    EXPECT_TRUE(routes().handle(request, path, respond));
    return answer;
  }
  Answer& get(const content::ContentId& id, std::string range = {}, std::string query = {}) {
    runtime::HttpHeaders headers;
    if (!range.empty()) headers["Range"] = range;
    return call("GET", "/api/v1/content/" + id.to_string() + query, headers);
  }
  // Runs the loop until `done` or 5 s pass.
  void run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      loop_.context().restart();
      loop_.context().run_for(std::chrono::milliseconds(5));
    }
  }

  fs::path root_;
  content::StoreOptions store_options_;
  ContentRoutesOptions routes_options_;
  runtime::asio::EventLoop loop_;
  FakeFetcher fetcher_;
  ContentFetcher* fetcher_ptr_ = &fetcher_;
  std::unique_ptr<ContentRoutes> routes_;
  std::vector<std::unique_ptr<Answer>> answers_;
  Bytes remote_;
  content::ContentId remote_id_;
  bool partial_available_ = true;
  int partial_reads_ = 0;
};

// ---- local content ----------------------------------------------------------

TEST_F(ContentRoutesTest, LocalGetStreamsTheWholeObject) {
  const auto bytes = random_bytes(300'000, 1);
  const auto id = put_local(bytes);
  auto& answer = get(id);
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), "300000");
  EXPECT_EQ(answer.header("Content-Type"), "application/octet-stream");
  EXPECT_EQ(answer.header("Accept-Ranges"), "bytes");
  EXPECT_EQ(answer.header("ETag"), "\"" + id.to_string() + "\"");
  ASSERT_TRUE(answer.sink);
  EXPECT_EQ(answer.sink->body, text_of(bytes, 0, bytes.size()));
  EXPECT_TRUE(answer.sink->finished);
  EXPECT_EQ(routes().transfers(), 0u);
  EXPECT_TRUE(fetcher_.calls.empty());
  EXPECT_EQ(partial_reads_, 0);
}

TEST_F(ContentRoutesTest, AcceptsTheCidForm) {
  const auto bytes = random_bytes(1000, 2);
  const auto id = put_local(bytes);
  auto& answer = call("GET", "/api/v1/content/" + id.to_cid_string());
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.sink->body, text_of(bytes, 0, bytes.size()));
}

TEST_F(ContentRoutesTest, LocalRanges) {
  const auto bytes = random_bytes(1000, 3);
  const auto id = put_local(bytes);
  struct Case {
    std::string range;
    std::uint64_t offset, length;
  };
  for (const auto& c : {Case{"bytes=10-19", 10, 10}, Case{"bytes=-5", 995, 5}, Case{"bytes=990-", 990, 10},
                        Case{"bytes=0-5000", 0, 1000}, Case{"bytes=999-999", 999, 1}}) {
    auto& answer = get(id, c.range);
    EXPECT_EQ(answer.response.status, 206) << c.range;
    EXPECT_EQ(answer.header("Content-Range"), content_range_value({c.offset, c.length}, 1000)) << c.range;
    EXPECT_EQ(answer.header("Content-Length"), std::to_string(c.length)) << c.range;
    ASSERT_TRUE(answer.sink) << c.range;
    EXPECT_EQ(answer.sink->body, text_of(bytes, c.offset, c.length)) << c.range;
    EXPECT_TRUE(answer.sink->finished);
  }
  // Another unit is ignored: the whole content.
  auto& other = get(id, "items=0-1");
  EXPECT_EQ(other.response.status, 200);
  EXPECT_EQ(other.sink->body.size(), 1000u);
}

TEST_F(ContentRoutesTest, BadRangesAre416) {
  const auto id = put_local(random_bytes(1000, 4));
  auto& past_end = get(id, "bytes=1000-");
  EXPECT_EQ(past_end.response.status, 416);
  EXPECT_EQ(past_end.header("Content-Range"), "bytes */1000");
  EXPECT_EQ(get(id, "bytes=-0").response.status, 416);
  auto& malformed = get(id, "bytes=abc");
  EXPECT_EQ(malformed.response.status, 416);
  EXPECT_NE(malformed.error().find("bad Range header"), std::string::npos);
  auto& several = get(id, "bytes=0-1,4-5");
  EXPECT_EQ(several.response.status, 416);
  EXPECT_NE(several.error().find("several ranges"), std::string::npos);
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, EmptyContent) {
  const auto id = put_local({});
  auto& answer = get(id);
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), "0");
  EXPECT_FALSE(answer.sink) << "nothing to stream";
  EXPECT_EQ(get(id, "bytes=0-").response.status, 416);
}

TEST_F(ContentRoutesTest, LocalHeadDeclaresTheSizeWithoutBody) {
  const auto id = put_local(random_bytes(5000, 5));
  auto& answer = call("HEAD", "/api/v1/content/" + id.to_string(), {{"Range", "bytes=0-9"}});
  EXPECT_EQ(answer.response.status, 200) << "HEAD ignores Range";
  EXPECT_EQ(answer.header("Content-Length"), "5000");
  ASSERT_TRUE(answer.sink);
  EXPECT_TRUE(answer.sink->body.empty());
  EXPECT_TRUE(answer.sink->finished);
}

TEST_F(ContentRoutesTest, StreamsWithBackpressure) {
  const auto bytes = random_bytes(300'000, 6);
  const auto id = put_local(bytes);
  auto& answer = *answers_.emplace_back(std::make_unique<Answer>());
  answer.sink_state_before_answer->backlog_after_write = true;
  runtime::HttpRequest request;
  request.method = "GET";
  request.target = "/api/v1/content/" + id.to_string();
  auto respond = answer.responder();
  routes().handle(request, request.target, respond);
  ASSERT_TRUE(answer.sink);
  EXPECT_EQ(answer.sink->body.size(), 64u * 1024) << "one chunk, then wait for the queue to drain";
  std::size_t drains = 0;
  while (!answer.sink->finished && drains < 100) {
    answer.sink->backlogged = false;
    answer.sink->drained();
    ++drains;
  }
  EXPECT_EQ(drains, 4u);  // 300000 bytes in 64 KiB chunks: 5 chunks
  EXPECT_EQ(answer.sink->body, text_of(bytes, 0, bytes.size()));
}

TEST_F(ContentRoutesTest, RequestErrors) {
  EXPECT_EQ(call("GET", "/api/v1/content/ca_blake3_nothex").response.status, 400);
  EXPECT_NE(answers_.back()->error().find("bad content id"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/content/" + remote_id_.to_string() + "/nope").response.status, 404);
  EXPECT_EQ(call("PUT", "/api/v1/content/" + remote_id_.to_string()).response.status, 405);
  EXPECT_EQ(call("GET", "/api/v1/content").response.status, 405);
  EXPECT_EQ(call("GET", "/api/v1/content/" + remote_id_.to_string() + "/fetch").response.status, 405);
  EXPECT_EQ(call("GET", "/api/v1/content/" + remote_id_.to_string() + "?timeout=abc").response.status, 400);
  EXPECT_EQ(call("GET", "/api/v1/content/" + remote_id_.to_string() + "?timeout=-1").response.status, 400);
  EXPECT_TRUE(fetcher_.calls.empty());
  runtime::HttpRequest other;
  other.method = "GET";
  auto respond = Answer().responder();
  EXPECT_FALSE(routes().handle(other, "/api/v1/contentx", respond));
}

// ---- content fetched through the mesh ----------------------------------------

TEST_F(ContentRoutesTest, WithoutFetcherNonLocalContentIs404) {
  fetcher_ptr_ = nullptr;
  auto& answer = get(remote_id_);
  EXPECT_EQ(answer.response.status, 404);
  EXPECT_NE(answer.error().find("not in the local store"), std::string::npos);
}

TEST_F(ContentRoutesTest, NotFoundByTheFetcherIs404) {
  auto& answer = get(remote_id_);
  EXPECT_FALSE(answer.answered) << "waits for the mesh";
  ASSERT_EQ(fetcher_.calls.size(), 1u);
  EXPECT_EQ(fetcher_.last().root, remote_id_.hash());
  EXPECT_FALSE(fetcher_.last().range.has_value()) << "the whole content";
  fetcher_.last().done(unexpected(Error<FetchFailure>{FetchFailure::not_found, "asked 3 peers"}));
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 404);
  EXPECT_NE(answer.error().find("no holder of " + remote_id_.to_string() + " found: asked 3 peers"),
            std::string::npos);
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, FailureStatuses) {
  const std::pair<FetchFailure, int> cases[] = {{FetchFailure::unavailable, 502}, {FetchFailure::storage, 507},
                                                {FetchFailure::cancelled, 503}, {FetchFailure::disabled, 404},
                                                {FetchFailure::bad_range, 416}};
  for (const auto& [failure, status] : cases) {
    auto& answer = get(remote_id_);
    fetcher_.last().done(unexpected(Error<FetchFailure>{failure, ""}));
    EXPECT_EQ(answer.response.status, status);
  }
}

TEST_F(ContentRoutesTest, StreamsAsContiguousBytesGrow) {
  auto& answer = get(remote_id_);
  auto& fetch = fetcher_.last();
  fetch.progress({.size = 0, .wanted_bytes = 0, .verified_bytes = 0, .contiguous_bytes = 0, .sources = 1});
  EXPECT_FALSE(answer.answered) << "the size is not known yet";
  fetch.progress({.size = remote_.size(), .wanted_bytes = remote_.size(), .contiguous_bytes = 0, .sources = 1});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), std::to_string(remote_.size()));
  ASSERT_TRUE(answer.sink);
  EXPECT_TRUE(answer.sink->body.empty());
  fetch.progress({.size = remote_.size(), .verified_bytes = 50'000, .contiguous_bytes = 40'000, .sources = 2});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 0, 40'000)) << "only the contiguous verified bytes";
  EXPECT_GT(partial_reads_, 0);
  fetch.progress({.size = remote_.size(), .verified_bytes = 100'000, .contiguous_bytes = 100'000, .sources = 2});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 0, remote_.size()));
  EXPECT_TRUE(answer.sink->finished);
  EXPECT_EQ(routes().transfers(), 0u);
  EXPECT_FALSE(fetch.cancelled) << "the fetch goes on to commit the object";
}

TEST_F(ContentRoutesTest, DoneSendsTheRestAndReadsTheCommittedObject) {
  partial_available_ = false;  // committed: the partial download is gone
  auto& answer = get(remote_id_);
  put_local(remote_);  // what the fetcher's commit does
  fetcher_.last().done(FetchOutcome{.size = remote_.size(), .committed = true, .sources = 2});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.sink->body, text_of(remote_, 0, remote_.size()));
  EXPECT_TRUE(answer.sink->finished);
}

TEST_F(ContentRoutesTest, PartialDownloadCommittedMidStreamFallsBackToTheObject) {
  auto& answer = get(remote_id_);
  auto& fetch = fetcher_.last();
  fetch.progress({.size = remote_.size(), .contiguous_bytes = 30'000});
  EXPECT_EQ(answer.sink->body.size(), 30'000u);
  partial_available_ = false;
  put_local(remote_);
  fetch.progress({.size = remote_.size(), .contiguous_bytes = remote_.size()});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 0, remote_.size()));
  EXPECT_TRUE(answer.sink->finished);
}

// The commit may move the partial download into the object before the
// progress event being served is read: the stream waits for the fetch's end.
TEST_F(ContentRoutesTest, PartialDownloadGoneBeforeTheObjectIsThereWaitsForTheCommit) {
  auto& answer = get(remote_id_);
  auto& fetch = fetcher_.last();
  partial_available_ = false;  // moved by the commit, which has not finished
  fetch.progress({.size = remote_.size(), .contiguous_bytes = 30'000});
  ASSERT_TRUE(answer.sink);
  EXPECT_TRUE(answer.sink->body.empty());
  EXPECT_FALSE(answer.sink->aborted);
  EXPECT_FALSE(fetch.cancelled);
  put_local(remote_);
  fetch.done(FetchOutcome{.size = remote_.size(), .committed = true, .sources = 1});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 0, remote_.size()));
  EXPECT_TRUE(answer.sink->finished);
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, UnreadableBytesCutTheStream) {
  partial_available_ = false;
  auto& answer = get(remote_id_);
  auto& fetch = fetcher_.last();
  fetch.progress({.size = remote_.size(), .contiguous_bytes = 30'000});
  ASSERT_TRUE(answer.sink);
  EXPECT_FALSE(answer.sink->aborted) << "perhaps being committed: wait for the fetch's end";
  // It ended, and still neither the partial download nor the object has the bytes.
  fetch.done(FetchOutcome{.size = remote_.size(), .committed = false, .sources = 1});
  EXPECT_TRUE(answer.sink->body.empty());
  EXPECT_TRUE(answer.sink->aborted) << "a truncated body, never a wrong one";
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, FailureAfterTheHeadersCutsTheBody) {
  auto& answer = get(remote_id_);
  auto& fetch = fetcher_.last();
  fetch.progress({.size = remote_.size(), .contiguous_bytes = 16'384});
  fetch.done(unexpected(Error<FetchFailure>{FetchFailure::unavailable, "all holders left"}));
  EXPECT_EQ(answer.sink->body.size(), 16'384u);
  EXPECT_TRUE(answer.sink->aborted);
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, RangeFetchesOnlyTheGroupsItNeeds) {
  auto& answer = get(remote_id_, "bytes=20000-20009");
  auto& fetch = fetcher_.last();
  ASSERT_TRUE(fetch.range.has_value());
  EXPECT_EQ(fetch.range->offset, kGroup);
  EXPECT_EQ(fetch.range->length, kGroup);
  // contiguous_bytes count from the start of the wanted range.
  fetch.progress({.size = remote_.size(), .wanted_bytes = kGroup, .contiguous_bytes = 0});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 206);
  EXPECT_EQ(answer.header("Content-Range"), "bytes 20000-20009/100000");
  fetch.progress({.size = remote_.size(), .wanted_bytes = kGroup, .contiguous_bytes = 20000 - kGroup + 5});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 20000, 5));
  fetch.done(FetchOutcome{.size = remote_.size(), .committed = false, .sources = 1});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 20000, 10));
  EXPECT_TRUE(answer.sink->finished);
}

TEST_F(ContentRoutesTest, RangePastTheEndOfFetchedContentIs416) {
  auto& answer = get(remote_id_, "bytes=200000-");
  auto& fetch = fetcher_.last();
  fetch.progress({.size = remote_.size()});
  EXPECT_EQ(answer.response.status, 416);
  EXPECT_EQ(answer.header("Content-Range"), "bytes */100000");
  EXPECT_TRUE(fetch.cancelled);
}

TEST_F(ContentRoutesTest, SuffixRangeLearnsTheSizeFirst) {
  auto& answer = get(remote_id_, "bytes=-100");
  ASSERT_EQ(fetcher_.calls.size(), 1u);
  ASSERT_TRUE(fetcher_.calls[0].range.has_value());
  EXPECT_EQ(fetcher_.calls[0].range->length, 0u) << "a size probe";
  fetcher_.calls[0].done(FetchOutcome{.size = remote_.size(), .committed = false, .sources = 1});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 206);
  EXPECT_EQ(answer.header("Content-Range"), "bytes 99900-99999/100000");
  ASSERT_EQ(fetcher_.calls.size(), 2u);
  EXPECT_EQ(fetcher_.calls[1].range->offset, 6 * kGroup);
  EXPECT_EQ(fetcher_.calls[1].range->length, kGroup);
  fetcher_.calls[1].progress({.size = remote_.size(), .contiguous_bytes = remote_.size() - 6 * kGroup});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 99'900, 100));
  EXPECT_TRUE(answer.sink->finished);
}

TEST_F(ContentRoutesTest, HeadOfRemoteContentProbesTheSize) {
  auto& answer = call("HEAD", "/api/v1/content/" + remote_id_.to_string());
  ASSERT_EQ(fetcher_.calls.size(), 1u);
  EXPECT_EQ(fetcher_.last().range->length, 0u);
  fetcher_.last().done(FetchOutcome{.size = 12345, .committed = false, .sources = 1});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(answer.header("Content-Length"), "12345");
  EXPECT_TRUE(answer.sink->body.empty());
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, NoHolderWithinTheWaitIs404) {
  routes_options_.holder_wait_ms = 20;
  auto& answer = get(remote_id_);
  run_until([&] { return answer.answered; });
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 404);
  EXPECT_NE(answer.error().find("no holder of " + remote_id_.to_string() + " found within 0.02 s"),
            std::string::npos);
  EXPECT_TRUE(fetcher_.last().cancelled);
  // A late answer from the fetcher finds nothing to answer.
  fetcher_.last().done(unexpected(Error<FetchFailure>{FetchFailure::cancelled, ""}));
}

TEST_F(ContentRoutesTest, TimeoutQueryOverridesTheWait) {
  auto& answer = get(remote_id_, "", "?timeout=0.03");
  run_until([&] { return answer.answered; });
  EXPECT_EQ(answer.response.status, 404);
  EXPECT_NE(answer.error().find("within 0.03 s"), std::string::npos);
}

TEST_F(ContentRoutesTest, AKnownSizeStopsTheWait) {
  routes_options_.holder_wait_ms = 10;
  auto& answer = get(remote_id_);
  fetcher_.last().progress({.size = remote_.size(), .contiguous_bytes = 0});
  loop_.context().restart();
  loop_.context().run_for(std::chrono::milliseconds(50));
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_FALSE(answer.sink->aborted);
  EXPECT_FALSE(fetcher_.last().cancelled);
}

TEST_F(ContentRoutesTest, ClientLeavingCancelsTheFetch) {
  auto& answer = get(remote_id_);
  fetcher_.last().progress({.size = remote_.size(), .contiguous_bytes = 1000});
  ASSERT_TRUE(answer.sink && answer.sink->closed);
  answer.sink->closed();
  EXPECT_TRUE(fetcher_.last().cancelled);
  EXPECT_EQ(routes().transfers(), 0u);
  fetcher_.last().progress({.size = remote_.size(), .contiguous_bytes = 5000});  // late: ignored
  EXPECT_EQ(answer.sink->body.size(), 1000u);
}

TEST_F(ContentRoutesTest, TooManyStreamsAre503) {
  routes_options_.transfers_max = 2;
  get(remote_id_);
  get(remote_id_);
  EXPECT_EQ(get(remote_id_).response.status, 503);
}

TEST_F(ContentRoutesTest, DestroyingTheRoutesCancelsFetches) {
  get(remote_id_);
  routes_.reset();
  EXPECT_TRUE(fetcher_.last().cancelled);
  fetcher_.last().done(unexpected(Error<FetchFailure>{FetchFailure::cancelled, ""}));  // must not crash
}

// ---- the store's real partial downloads ---------------------------------------

class RealPartialTest : public ContentRoutesTest {
 protected:
  // A partial download of remote_ in the routes' store with its first
  // `groups` groups written (and not flushed: the bitmap on disk lags).
  content::Partial start_partial(std::size_t groups) {
    content::StoreOptions source_options = store_options_;
    source_options.root = root_ / "source";
    auto source = content::Store::open(source_options);
    EXPECT_TRUE(source.has_value());
    EXPECT_TRUE(source->put_bytes(remote_).has_value());
    const content::ByteRange whole{0, remote_.size()};
    auto encoded = source->encode_range(remote_id_, whole);
    EXPECT_TRUE(encoded.has_value());
    content::RangeDecoder decoder(remote_id_.hash(), whole);
    EXPECT_TRUE(decoder.feed(*encoded).has_value());
    EXPECT_TRUE(decoder.finish().has_value());
    store_options_.partial_flush_bytes = std::uint64_t{1} << 30;
    auto store = content::Store::open(store_options_);
    EXPECT_TRUE(store.has_value());
    store_ = std::make_unique<content::Store>(std::move(*store));
    auto partial = store_->open_partial(remote_id_, remote_.size());
    EXPECT_TRUE(partial.has_value());
    for (std::size_t i = 0; auto group = decoder.poll_group(); ++i) {
      if (i < groups) {
        EXPECT_TRUE(partial->write(*group).has_value());
      } else {
        rest_.push_back(std::move(*group));
      }
    }
    return std::move(*partial);
  }
  std::unique_ptr<content::Store> store_;
  std::vector<content::VerifiedGroup> rest_;
};

TEST_F(RealPartialTest, ReaderReturnsOnlyVouchedOrFlushedBytes) {
  auto partial = start_partial(3);
  const auto read = store_partial_reader(*store_);
  auto vouched = read(remote_id_, 100, 2 * kGroup, 3 * kGroup);
  ASSERT_TRUE(vouched.has_value()) << vouched.error().detail;
  EXPECT_EQ(std::string(vouched->begin(), vouched->end()), text_of(remote_, 100, 2 * kGroup));
  auto beyond = read(remote_id_, 2 * kGroup, 2 * kGroup, 3 * kGroup);
  ASSERT_FALSE(beyond.has_value());
  EXPECT_EQ(beyond.error().code, content::StoreErrc::not_verified);
  EXPECT_EQ(read(content::ContentId(crypto::blake3::hash(as_bytes(std::string("x")))), 0, 1, 1).error().code,
            content::StoreErrc::not_found);
}

TEST_F(RealPartialTest, RoutesStreamAFetchInProgressFromTheStore) {
  routes_options_.read_partial = nullptr;  // the routes' own store handle
  auto partial = start_partial(4);
  auto& answer = get(remote_id_, "bytes=10-");
  fetcher_.last().progress({.size = remote_.size(), .contiguous_bytes = 4 * kGroup});
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.response.status, 206);
  ASSERT_TRUE(answer.sink);
  EXPECT_EQ(answer.sink->body, text_of(remote_, 10, 4 * kGroup - 10));
  EXPECT_FALSE(answer.sink->aborted);
  // The fetch writes the rest and commits: the rest comes from the object.
  for (const auto& group : rest_) ASSERT_TRUE(partial.write(group).has_value());
  ASSERT_TRUE(partial.commit().has_value());
  fetcher_.last().done(FetchOutcome{.size = remote_.size(), .committed = true, .sources = 1});
  EXPECT_EQ(answer.sink->body, text_of(remote_, 10, remote_.size() - 10));
  EXPECT_TRUE(answer.sink->finished);
}

// ---- fetch event stream ----------------------------------------------------

std::vector<runtime::SseEvent> events_of(const std::string& body) {
  runtime::SseParser parser;
  EXPECT_TRUE(parser.feed(body).has_value());
  std::vector<runtime::SseEvent> events;
  while (auto event = parser.poll_event()) events.push_back(*event);
  return events;
}

TEST_F(ContentRoutesTest, FetchEventsReportProgressThenDone) {
  routes_options_.progress_interval_ms = 60'000;  // one progress event, then throttled
  auto& answer = call("POST", "/api/v1/content/" + remote_id_.to_string() + "/fetch");
  ASSERT_TRUE(answer.answered);
  EXPECT_EQ(answer.header("Content-Type"), "text/event-stream");
  ASSERT_EQ(fetcher_.calls.size(), 1u);
  auto& fetch = fetcher_.last();
  fetch.progress({.size = remote_.size(), .wanted_bytes = remote_.size(), .verified_bytes = 16'384, .sources = 2});
  fetch.progress({.size = remote_.size(), .wanted_bytes = remote_.size(), .verified_bytes = 32'768, .sources = 2});
  fetch.done(FetchOutcome{.size = remote_.size(), .committed = true, .sources = 3});
  const auto events = events_of(answer.sink->body);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].event, "progress");
  const auto progress = nlohmann::json::parse(events[0].data);
  EXPECT_EQ(progress["size"], remote_.size());
  EXPECT_EQ(progress["verified_bytes"], 16'384);
  EXPECT_EQ(progress["sources"], 2);
  EXPECT_TRUE(progress.contains("rate"));
  EXPECT_EQ(events[1].event, "done");
  const auto done = nlohmann::json::parse(events[1].data);
  EXPECT_EQ(done["id"], remote_id_.to_string());
  EXPECT_EQ(done["size"], remote_.size());
  EXPECT_EQ(done["sources"], 3);
  EXPECT_EQ(done["local"], false);
  EXPECT_TRUE(answer.sink->finished);
  EXPECT_EQ(routes().transfers(), 0u);
}

TEST_F(ContentRoutesTest, FetchEventsReportFailure) {
  auto& answer = call("POST", "/api/v1/content/" + remote_id_.to_string() + "/fetch");
  fetcher_.last().done(unexpected(Error<FetchFailure>{FetchFailure::not_found, "nobody"}));
  const auto events = events_of(answer.sink->body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "error");
  const auto error = nlohmann::json::parse(events[0].data);
  EXPECT_EQ(error["code"], "not_found");
  EXPECT_EQ(error["status"], 404);
  EXPECT_NE(error["message"].get<std::string>().find("nobody"), std::string::npos);
  EXPECT_TRUE(answer.sink->finished);
}

TEST_F(ContentRoutesTest, FetchEventsTimeOutWithoutHolder) {
  auto& answer = call("POST", "/api/v1/content/" + remote_id_.to_string() + "/fetch?timeout=0.02");
  run_until([&] { return answer.sink && answer.sink->finished; });
  const auto events = events_of(answer.sink->body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "error");
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["code"], "not_found");
  EXPECT_TRUE(fetcher_.last().cancelled);
}

TEST_F(ContentRoutesTest, FetchEventsOfLocalContentAreDoneAtOnce) {
  const auto id = put_local(random_bytes(777, 8));
  auto& answer = call("POST", "/api/v1/content/" + id.to_string() + "/fetch");
  const auto events = events_of(answer.sink->body);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "done");
  const auto done = nlohmann::json::parse(events[0].data);
  EXPECT_EQ(done["size"], 777);
  EXPECT_EQ(done["local"], true);
  EXPECT_TRUE(fetcher_.calls.empty());
}

TEST_F(ContentRoutesTest, FetchEventsLeavingCancels) {
  auto& answer = call("POST", "/api/v1/content/" + remote_id_.to_string() + "/fetch");
  answer.sink->closed();
  EXPECT_TRUE(fetcher_.last().cancelled);
  EXPECT_EQ(routes().transfers(), 0u);
}

// ---- holders, delete, publish ----------------------------------------------

TEST_F(ContentRoutesTest, HoldersListsTheIndexAndWhetherWeHoldIt) {
  fetcher_.rows.push_back({"12D3KooWA", {"/ip4/127.0.0.1/tcp/4001"}, 100'000, true, 2.5e6});
  fetcher_.rows.push_back({"12D3KooWB", {}, 100'000, false, std::nullopt});
  auto& answer = call("GET", "/api/v1/content/" + remote_id_.to_string() + "/holders");
  EXPECT_EQ(answer.response.status, 200);
  const auto body = nlohmann::json::parse(answer.response.body);
  EXPECT_EQ(body["id"], remote_id_.to_string());
  EXPECT_EQ(body["local"], false);
  EXPECT_TRUE(body["size"].is_null());
  ASSERT_EQ(body["holders"].size(), 2u);
  EXPECT_EQ(body["holders"][0]["peer_id"], "12D3KooWA");
  EXPECT_EQ(body["holders"][0]["addrs"][0], "/ip4/127.0.0.1/tcp/4001");
  EXPECT_EQ(body["holders"][0]["connected"], true);
  EXPECT_EQ(body["holders"][0]["throughput"], 2.5e6);
  EXPECT_TRUE(body["holders"][1]["throughput"].is_null());

  const auto id = put_local(random_bytes(10, 9));
  const auto local = nlohmann::json::parse(call("GET", "/api/v1/content/" + id.to_string() + "/holders").response.body);
  EXPECT_EQ(local["local"], true);
  EXPECT_EQ(local["size"], 10);
}

TEST_F(ContentRoutesTest, DeleteRemovesAndWithdraws) {
  const auto id = put_local(random_bytes(10, 10));
  auto& answer = call("DELETE", "/api/v1/content/" + id.to_string());
  EXPECT_EQ(answer.response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(answer.response.body)["removed"], id.to_string());
  ASSERT_EQ(fetcher_.withdrawn.size(), 1u);
  EXPECT_EQ(fetcher_.withdrawn[0], id.hash());
  EXPECT_FALSE(get(id).answered) << "not local any more: asked of the mesh";
  EXPECT_EQ(fetcher_.calls.size(), 1u);
  EXPECT_EQ(call("DELETE", "/api/v1/content/" + id.to_string()).response.status, 404);
  EXPECT_EQ(fetcher_.withdrawn.size(), 1u);
}

TEST_F(ContentRoutesTest, PublishAnnounces) {
  auto& answer = call("POST", "/api/v1/content", {}, "hello mesh");
  run_until([&] { return answer.answered; });
  ASSERT_EQ(answer.response.status, 200);
  const auto body = nlohmann::json::parse(answer.response.body);
  ASSERT_EQ(fetcher_.announced.size(), 1u);
  EXPECT_EQ(content::ContentId(fetcher_.announced[0].first).to_string(), body["id"]);
  EXPECT_EQ(fetcher_.announced[0].second, 10u);
}

}  // namespace
}  // namespace taho::api
