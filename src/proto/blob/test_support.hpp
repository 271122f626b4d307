// Test helpers: content with its outboard, and an in-memory exchange that
// runs a blob client against a blob server and a tiny "store" driver, with
// random fragmentation in both directions and hooks to misbehave.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <vector>

#include "content/tree/outboard.hpp"
#include "content/tree/range_encoding.hpp"
#include "proto/blob/client.hpp"
#include "proto/blob/server.hpp"

namespace taho::blob::test {

struct StoredContent {
  Bytes content;
  content::Outboard outboard;
};

inline StoredContent make_content(std::uint64_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  StoredContent stored;
  stored.content.resize(size);
  for (auto& byte : stored.content) byte = static_cast<std::uint8_t>(rng());
  stored.outboard = content::compute_outboard(stored.content);
  return stored;
}

inline Bytes encode(const StoredContent& stored, content::ByteRange range) {
  auto view = content::OutboardView::open(stored.outboard.bytes, stored.content.size());
  EXPECT_TRUE(view);
  auto encoded = content::encode_range(stored.content, *view, range);
  EXPECT_TRUE(encoded);
  return encoded ? *encoded : Bytes{};
}

// How the serving side misbehaves, if at all.
struct Misbehaviour {
  std::function<void(Bytes& encoding)> tamper;  // applied to the encoding before it is pushed
  std::optional<std::uint64_t> cut_body_at;     // the stream ends after this many body bytes
  Bytes extra_after;                            // raw bytes after the whole response
};

struct Outcome {
  Expected<void, BlobError> result;             // the client's first failure, or success
  std::vector<content::VerifiedGroup> groups;   // every group the client handed out
  std::optional<std::uint64_t> size;
  std::optional<BlobError> server_refusal;
  std::optional<Expected<std::uint64_t, BlobError>> server_answer;
  std::uint64_t client_received = 0;
};

// Runs one exchange to its end. `holdings` is the server's store.
inline Outcome run_exchange(Client client, const std::map<content::Hash, const StoredContent*>& holdings,
                            std::uint32_t seed, const ServerOptions& server_options = {},
                            const Misbehaviour& misbehaviour = {}) {
  std::mt19937 rng(seed);
  auto piece = [&](std::size_t available) {
    return std::min<std::size_t>(available, 1 + rng() % 40000);
  };
  Server server(server_options);
  Outcome outcome{Expected<void, BlobError>{}, {}, {}, {}, {}, 0};
  Bytes encoding;
  std::size_t pushed = 0;
  bool server_input_ended = false;
  bool client_ended = false;
  bool extra_sent = misbehaviour.extra_after.empty();
  auto client_fail = [&](const BlobError& error) { outcome.result = unexpected(error); };

  for (int round = 0; round < 1'000'000 && outcome.result && !client_ended; ++round) {
    // Client -> server.
    if (!client.pending_output().empty() && server.wants_input()) {
      const ByteView out = client.pending_output().first(piece(client.pending_output().size()));
      EXPECT_TRUE(server.handle_data(out));
      client.consume_output(out.size());
    }
    if (client.close_write_due() && !server_input_ended) {
      server_input_ended = true;
      EXPECT_TRUE(server.handle_end());
    }
    // The driver answers from its store.
    if (auto request = server.poll_request()) {
      auto held = holdings.find(request->root);
      if (held == holdings.end()) {
        EXPECT_TRUE(server.respond_dont_have());
      } else {
        const StoredContent& stored = *held->second;
        outcome.server_answer = server.respond_have(stored.content.size());
        if (*outcome.server_answer && **outcome.server_answer > 0) {
          encoding = encode(stored, {request->offset, request->length});
          EXPECT_EQ(encoding.size(), **outcome.server_answer);
          if (misbehaviour.tamper) misbehaviour.tamper(encoding);
        }
      }
    }
    const std::size_t body_end = misbehaviour.cut_body_at
                                     ? static_cast<std::size_t>(std::min<std::uint64_t>(*misbehaviour.cut_body_at, encoding.size()))
                                     : encoding.size();
    while (server.wants_body() && pushed < body_end) {
      const std::size_t size = piece(body_end - pushed);
      auto taken = server.push_body(ByteView(encoding).subspan(pushed, size));
      EXPECT_TRUE(taken);
      if (!taken) break;
      pushed += *taken;
      if (*taken < size) break;
    }
    // Server -> client, as far as the client wants.
    if (!server.pending_output().empty() && client.wants_input()) {
      const ByteView out = server.pending_output().first(piece(server.pending_output().size()));
      outcome.client_received += out.size();
      if (auto fed = client.handle_data(out); !fed) client_fail(fed.error());
      server.consume_output(out.size());
    }
    // Now and then the fetcher takes the verified groups (backpressure otherwise).
    if (rng() % 3 == 0 || !client.wants_input()) {
      while (auto group = client.poll_group()) outcome.groups.push_back(std::move(*group));
    }
    const bool cut_done = misbehaviour.cut_body_at && pushed == body_end && server.pending_output().empty() &&
                          server.body_bytes_remaining() > 0;
    if (outcome.result && (server.close_write_due() || cut_done) && client.wants_input()) {
      if (!extra_sent) {
        extra_sent = true;
        if (auto fed = client.handle_data(misbehaviour.extra_after); !fed) client_fail(fed.error());
        continue;
      }
      client_ended = true;
      if (auto ended = client.handle_end(); !ended) client_fail(ended.error());
    }
  }
  while (auto group = client.poll_group()) outcome.groups.push_back(std::move(*group));
  outcome.size = client.size();
  outcome.server_refusal = server.refusal();
  if (outcome.result) {
    EXPECT_TRUE(client.done());
    EXPECT_EQ(client.received_bytes(), outcome.client_received + misbehaviour.extra_after.size());
  }
  return outcome;
}

// The groups a range response carries: the requested ones and the last.
inline std::vector<std::uint64_t> expected_groups(std::uint64_t size, content::ByteRange range) {
  auto groups = content::groups_of(range, size);
  EXPECT_TRUE(groups);
  std::vector<std::uint64_t> out;
  for (std::uint64_t group = groups->first; group < groups->end; ++group) out.push_back(group);
  const std::uint64_t last = content::group_count(size) - 1;
  if (out.empty() || out.back() != last) out.push_back(last);
  return out;
}

}  // namespace taho::blob::test
