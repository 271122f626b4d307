#include "api/api.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace taho::api {
namespace {

class ApiRoutes : public ::testing::Test {
 protected:
  ApiRoutes() : node_(*crypto::Ed25519KeyPair::generate(), "0.1.0"), api_(node_, nullptr, kToken) {}

  runtime::HttpResponse call(std::string method, std::string target, std::string token = {}) {
    runtime::HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    if (!token.empty()) request.headers["authorization"] = "Bearer " + token;
    runtime::HttpResponse answer;
    bool answered = false;
    api_.handle(request, [&](runtime::HttpResponse response) {
      answer = std::move(response);
      answered = true;
    });
    EXPECT_TRUE(answered) << "routes without networking answer at once";
    return answer;
  }

  static constexpr const char* kToken = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
  node::Node node_;
  Api api_;
};

TEST_F(ApiRoutes, HealthNeedsNoToken) {
  auto response = call("GET", "/health");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(nlohmann::json::parse(response.body)["status"], "ok");
}

TEST_F(ApiRoutes, EverythingElseNeedsTheExactToken) {
  EXPECT_EQ(call("GET", "/api/v1/id").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/id", "wrong").status, 401);
  std::string almost(kToken);
  almost.back() = 'e';
  EXPECT_EQ(call("GET", "/api/v1/id", almost).status, 401);
  EXPECT_EQ(call("GET", "/api/v1/id", std::string(kToken) + "0").status, 401);
  EXPECT_EQ(call("GET", "/metrics").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/nope").status, 401) << "unknown paths must not be probed without a token";
  auto response = call("GET", "/api/v1/id", kToken);
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.headers["WWW-Authenticate"], "");
}

TEST_F(ApiRoutes, IdReportsPeerIdAddrsAndAgent) {
  node_.set_listen_addrs({*Multiaddr::parse("/ip4/127.0.0.1/tcp/4001/p2p/" + node_.peer_id().to_string())});
  auto body = nlohmann::json::parse(call("GET", "/api/v1/id?verbose=1", kToken).body);
  EXPECT_EQ(body["peer_id"], node_.peer_id().to_string());
  ASSERT_EQ(body["addrs"].size(), 1u);
  EXPECT_EQ(body["addrs"][0], "/ip4/127.0.0.1/tcp/4001/p2p/" + node_.peer_id().to_string());
  EXPECT_EQ(body["agent_version"], "taho/0.1.0");
}

TEST_F(ApiRoutes, WrongMethodAndUnknownPath) {
  auto wrong_method = call("DELETE", "/api/v1/id", kToken);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.headers["Allow"], "GET");
  auto unknown = call("GET", "/api/v1/nope", kToken);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_TRUE(nlohmann::json::parse(unknown.body).contains("error"));
}

TEST_F(ApiRoutes, NetworkingRoutesSayWhenNetworkingIsOff) {
  EXPECT_EQ(call("GET", "/api/v1/peers", kToken).status, 503);
  EXPECT_EQ(call("POST", "/api/v1/connect", kToken).status, 503);
  EXPECT_EQ(call("POST", "/api/v1/perf", kToken).status, 503);
  EXPECT_EQ(call("POST", "/api/v1/echo", kToken).status, 503);
  EXPECT_EQ(call("POST", "/api/v1/perf").status, 401);
}

TEST_F(ApiRoutes, MetricsCountRefusedRequests) {
  call("GET", "/api/v1/id", "wrong");
  auto metrics = call("GET", "/metrics", kToken);
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("taho_api_requests_unauthorized_total 1"), std::string::npos) << metrics.body;
}

}  // namespace
}  // namespace taho::api
