// Content exchange on the simulated network (issue 8): real swarms (Noise,
// Yamux, identify), gossip announcements, the DHT, and the content
// behaviour's fetch pipeline against in-memory stores, on a virtual clock.
// Every scenario replays from its seed.
#include "host/content_behaviour.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <random>
#include <set>

#include "content/tree/tree_shape.hpp"
#include "host/memory_content_storage.hpp"
#include "content/tree/range_encoding.hpp"
#include "host/sim_network.hpp"
#include "proto/blob/message.hpp"

namespace taho::host {
namespace {

using namespace std::chrono_literals;
using content::kGroupBytes;

Bytes random_bytes(std::size_t size, std::uint32_t seed) {
  std::mt19937 rng(seed);
  Bytes bytes(size);
  for (auto& byte : bytes) byte = static_cast<std::uint8_t>(rng());
  return bytes;
}

// A holder whose every range response has one byte flipped (a modified or
// broken peer); size proofs alone stay intact, so it passes the probe and
// gets ranges to serve.
class CorruptingStorage : public MemoryContentStorage {
 public:
  Result<Bytes> encode_range(const content::Hash& root, content::ByteRange range) override {
    auto encoded = MemoryContentStorage::encode_range(root, range);
    if (encoded && range.length > 0 && encoded->size() > 16) (*encoded)[encoded->size() / 2] ^= 0x40;
    return encoded;
  }
};

// A holder that serves but never says what it holds (no announcement, no
// holdings exchange): only asking it finds its content.
class QuietStorage : public MemoryContentStorage {
 public:
  std::vector<HeldContent> held() override { return {}; }
};

using StoreFactory = std::function<std::unique_ptr<MemoryContentStorage>(std::size_t)>;
using Tweak = std::function<void(std::size_t, HostOptions&)>;

struct Mesh {
  std::vector<std::unique_ptr<MemoryContentStorage>> stores;  // null: the node has no storage
  std::unique_ptr<SimNetwork> net;

  Host& host(std::size_t i) { return net->host(i); }
  MemoryContentStorage& store(std::size_t i) { return *stores.at(i); }
};

Mesh make_mesh(std::size_t n, std::uint64_t seed, std::size_t min_peers, const Tweak& tweak = {},
               const StoreFactory& make_store = {}) {
  Mesh mesh;
  std::vector<ContentStorage*> plugged;
  for (std::size_t i = 0; i < n; ++i) {
    mesh.stores.push_back(make_store ? make_store(i) : std::make_unique<MemoryContentStorage>());
    plugged.push_back(mesh.stores.back().get());
  }
  SimNetworkOptions options;
  options.seed = seed;
  options.configure = [plugged, tweak, min_peers](std::size_t i, HostOptions& host) {
    host.connections.min_peers = min_peers;
    host.content_storage = plugged[i];
    host.content.discovery_timeout = 5s;
    host.content.plan.range_bytes = 256 * 1024;
    host.swarm.pending_upgrades_max = 256;
    if (tweak) tweak(i, host);
  };
  mesh.net = std::make_unique<SimNetwork>(n, options);
  for (std::size_t i = 1; i < n; ++i) mesh.host(i).add_bootstrap(mesh.net->now(), mesh.net->address(0));
  return mesh;
}

std::optional<content_event::FetchFinished> finished_fetch(SimNetwork& net, std::size_t index, FetchId id) {
  for (const auto& event : net.events(index)) {
    if (const auto* done = std::get_if<content_event::FetchFinished>(&event); done && done->id == id) return *done;
  }
  return std::nullopt;
}

std::size_t finished_count(SimNetwork& net, std::size_t index, FetchId id) {
  return static_cast<std::size_t>(std::count_if(net.events(index).begin(), net.events(index).end(), [&](const auto& event) {
    const auto* done = std::get_if<content_event::FetchFinished>(&event);
    return done && done->id == id;
  }));
}

std::vector<content_event::FetchProgress> progress_of(SimNetwork& net, std::size_t index, FetchId id) {
  std::vector<content_event::FetchProgress> progress;
  for (const auto& event : net.events(index)) {
    if (const auto* step = std::get_if<content_event::FetchProgress>(&event); step && step->id == id) {
      progress.push_back(*step);
    }
  }
  return progress;
}

// Progress: one event when the size is known, then at most one per 100 ms,
// never going backwards, within the wanted range.
void expect_progress_paced(SimNetwork& net, std::size_t index, FetchId id, std::uint64_t size, std::uint64_t wanted) {
  const auto progress = progress_of(net, index, id);
  ASSERT_FALSE(progress.empty()) << "one progress event when the size is known";
  EXPECT_EQ(progress.front().size, size);
  for (std::size_t i = 0; i < progress.size(); ++i) {
    EXPECT_EQ(progress[i].wanted_bytes, wanted);
    EXPECT_LE(progress[i].verified_bytes, wanted);
    EXPECT_LE(progress[i].contiguous_bytes, progress[i].verified_bytes);
    if (i > 0) EXPECT_GE(progress[i].verified_bytes, progress[i - 1].verified_bytes);
  }
}

content_event::FetchFinished fetch_and_wait(Mesh& mesh, std::size_t index, const content::Hash& root,
                                            std::optional<content::ByteRange> range = std::nullopt,
                                            Duration limit = 60s) {
  const FetchId id = mesh.host(index).fetch(mesh.net->now(), root, range);
  const bool done = mesh.net->run_until([&] { return finished_fetch(*mesh.net, index, id).has_value(); }, limit);
  EXPECT_TRUE(done) << "the fetch never finished";
  if (!done) {
    return content_event::FetchFinished{id, root, unexpected(FetchError{FetchErrc::unavailable, "test timeout"}),
                                        false, {}};
  }
  return *finished_fetch(*mesh.net, index, id);
}

content::Hash publish(Mesh& mesh, std::size_t index, const Bytes& bytes) {
  const content::Hash root = mesh.store(index).add(bytes);
  mesh.host(index).announce_content(mesh.net->now(), root, bytes.size());
  return root;
}

bool served_by(const content_event::FetchFinished& finished, const PeerId& peer) {
  return std::find(finished.served_by.begin(), finished.served_by.end(), peer) != finished.served_by.end();
}

TEST(MemoryContentStorage, ServesKeepsPartialsAndCommitsOnlyWhatHashesToTheId) {
  MemoryContentStorage store;
  const Bytes older = random_bytes(1000, 20);
  const Bytes bytes = random_bytes(3 * kGroupBytes + 5, 21);
  const content::Hash first = store.add(older);
  const content::Hash root = store.add(bytes);
  ASSERT_EQ(store.held().size(), 2u);
  EXPECT_EQ(store.held()[0].root, root) << "newest first";
  EXPECT_EQ(store.size_of(first), older.size());
  ASSERT_TRUE(store.encode_range(root, {kGroupBytes, kGroupBytes}));
  EXPECT_EQ(store.encode_range(root, {kGroupBytes, kGroupBytes})->size(),
            *content::encoded_range_bytes({kGroupBytes, kGroupBytes}, bytes.size()));
  EXPECT_TRUE(store.remove(root));
  EXPECT_FALSE(store.size_of(root));
  EXPECT_FALSE(store.encode_range(root, {0, 1}));

  // A download: groups written survive closing, a wrong group is refused,
  // and the commit checks the assembled bytes against the id.
  auto bitmap = store.open_partial(root, bytes.size());
  ASSERT_TRUE(bitmap);
  EXPECT_EQ(*bitmap, Bytes{0});
  const auto group = [&](std::uint64_t index) {
    const std::uint64_t length = content::group_length(bytes.size(), index);
    const auto begin = bytes.begin() + static_cast<std::ptrdiff_t>(index * kGroupBytes);
    return content::VerifiedGroup{index, index * kGroupBytes, Bytes(begin, begin + static_cast<std::ptrdiff_t>(length))};
  };
  ASSERT_TRUE(store.write_group(root, group(1)));
  EXPECT_FALSE(store.write_group(root, content::VerifiedGroup{3, 3 * kGroupBytes, Bytes(100)})) << "wrong length";
  ASSERT_TRUE(store.begin_commit(root));
  const auto refused = store.poll_commit(root);
  ASSERT_TRUE(refused);
  EXPECT_FALSE(*refused) << "groups are missing";
  EXPECT_FALSE(store.poll_commit(root)) << "an outcome is told once";
  EXPECT_EQ(*store.open_partial(root, bytes.size()), Bytes{0x02});
  for (std::uint64_t index : {0u, 2u, 3u}) ASSERT_TRUE(store.write_group(root, group(index)));
  ASSERT_TRUE(store.begin_commit(root));
  EXPECT_FALSE(store.begin_commit(root)) << "begun already";
  const auto committed = store.poll_commit(root);
  ASSERT_TRUE(committed && *committed);
  ASSERT_NE(store.contents(root), nullptr);
  EXPECT_EQ(*store.contents(root), bytes);
  EXPECT_FALSE(store.partial_groups(root));

  // A partial of another size starts afresh; bytes that do not hash to
  // the id are never committed.
  content::Hash wrong{};
  wrong.fill(3);
  ASSERT_TRUE(store.open_partial(wrong, 10));
  ASSERT_TRUE(store.write_group(wrong, content::VerifiedGroup{0, 0, Bytes(10, 1)}));
  EXPECT_EQ(*store.open_partial(wrong, 20), Bytes{0});
  ASSERT_TRUE(store.write_group(wrong, content::VerifiedGroup{0, 0, Bytes(20, 1)}));
  ASSERT_TRUE(store.begin_commit(wrong));
  const auto mismatch = store.poll_commit(wrong);
  ASSERT_TRUE(mismatch);
  EXPECT_FALSE(*mismatch);
  EXPECT_FALSE(store.size_of(wrong));
}

TEST(Content, PublishOnOneNodeFetchOnAnother) {
  Mesh mesh = make_mesh(2, 11, 1);
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(300'000, 1);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);

  const auto holders = mesh.host(1).content_holders(root);
  ASSERT_EQ(holders.size(), 1u) << "the announcement reached the index";
  EXPECT_EQ(holders[0].peer, mesh.net->peer(0));
  EXPECT_EQ(holders[0].size, bytes.size());
  EXPECT_TRUE(holders[0].connected);
  EXPECT_FALSE(holders[0].addrs.empty());

  const FetchId id = mesh.host(1).fetch(mesh.net->now(), root);
  ASSERT_TRUE(mesh.net->run_until([&] { return finished_fetch(*mesh.net, 1, id).has_value(); }, 30s));
  const auto finished = *finished_fetch(*mesh.net, 1, id);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_EQ(*finished.size, bytes.size());
  EXPECT_TRUE(finished.committed);
  EXPECT_EQ(finished.served_by, std::vector<PeerId>{mesh.net->peer(0)});
  ASSERT_NE(mesh.store(1).contents(root), nullptr);
  EXPECT_EQ(*mesh.store(1).contents(root), bytes);
  EXPECT_EQ(mesh.host(1).content().fetches_running(), 0u);

  expect_progress_paced(*mesh.net, 1, id, bytes.size(), bytes.size());

  // B holds it now and says so: A's index learns B.
  mesh.net->run_for(3s);
  const auto back = mesh.host(0).content_holders(root);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].peer, mesh.net->peer(1));

  // Fetching what the store holds finishes at once, exactly once.
  const FetchId again = mesh.host(1).fetch(mesh.net->now(), root);
  mesh.net->run_for(1ms);
  const auto held = finished_fetch(*mesh.net, 1, again);
  ASSERT_TRUE(held);
  ASSERT_TRUE(held->size);
  EXPECT_FALSE(held->committed);
  mesh.net->run_for(1s);
  EXPECT_EQ(finished_count(*mesh.net, 1, again), 1u);
  EXPECT_EQ(finished_count(*mesh.net, 1, id), 1u);
}

// The daemon commits on a worker thread: while the commit runs the fetch
// waits without holding anything up (the host serves, other fetches run,
// a second fetch of the same root waits), and a cancel meanwhile is
// answered once the commit is over.
TEST(Content, FetchWaitsForACommitThatRunsElsewhere) {
  Mesh mesh = make_mesh(2, 31, 1);
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(400'000, 21);
  const Bytes other = random_bytes(100'000, 22);
  const content::Hash root = publish(mesh, 0, bytes);
  const content::Hash other_root = publish(mesh, 0, other);
  const content::Hash served_root = publish(mesh, 1, random_bytes(50'000, 23));
  mesh.net->run_for(2s);
  mesh.store(1).hold_commits(true);

  const FetchId id = mesh.host(1).fetch(mesh.net->now(), root);
  ASSERT_TRUE(mesh.net->run_until([&] { return mesh.store(1).commits_pending() == 1; }, 30s));
  mesh.net->run_for(2s);
  EXPECT_FALSE(finished_fetch(*mesh.net, 1, id)) << "finished before its commit";
  EXPECT_EQ(mesh.host(1).content().fetches_running(), 1u);
  const auto progress = progress_of(*mesh.net, 1, id);
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().verified_bytes, bytes.size());

  // Meanwhile: the node serves, and a fetch of other content runs and
  // waits for its own commit; a second fetch of the same root waits.
  const auto served = fetch_and_wait(mesh, 0, served_root);
  ASSERT_TRUE(served.size) << served.size.error().detail;
  EXPECT_TRUE(served.committed);
  const FetchId second = mesh.host(1).fetch(mesh.net->now(), root);
  const FetchId unrelated = mesh.host(1).fetch(mesh.net->now(), other_root);
  ASSERT_TRUE(mesh.net->run_until([&] { return mesh.store(1).commits_pending() == 2; }, 30s));
  mesh.host(1).cancel_fetch(mesh.net->now(), id);
  mesh.net->run_for(1s);
  EXPECT_FALSE(finished_fetch(*mesh.net, 1, id)) << "the cancel waits for the commit";
  EXPECT_FALSE(finished_fetch(*mesh.net, 1, second));
  EXPECT_FALSE(finished_fetch(*mesh.net, 1, unrelated));

  mesh.store(1).release_commits();
  ASSERT_TRUE(mesh.net->run_until([&] { return finished_fetch(*mesh.net, 1, second).has_value(); }, 5s));
  const auto cancelled = *finished_fetch(*mesh.net, 1, id);
  ASSERT_FALSE(cancelled.size);
  EXPECT_EQ(cancelled.size.error().code, FetchErrc::cancelled);
  ASSERT_NE(mesh.store(1).contents(root), nullptr) << "the commit itself went through";
  EXPECT_EQ(*mesh.store(1).contents(root), bytes);
  const auto again = *finished_fetch(*mesh.net, 1, second);
  ASSERT_TRUE(again.size);
  EXPECT_FALSE(again.committed) << "it found the object in the store";
  const auto done = *finished_fetch(*mesh.net, 1, unrelated);
  ASSERT_TRUE(done.size) << done.size.error().detail;
  EXPECT_TRUE(done.committed);
  EXPECT_EQ(*mesh.store(1).contents(other_root), other);
  EXPECT_EQ(mesh.host(1).content().fetches_running(), 0u);
  mesh.net->run_for(1s);
  EXPECT_EQ(finished_count(*mesh.net, 1, id), 1u);
}

TEST(Content, TwoFetchesOfOneRootShareTheWork) {
  Mesh mesh = make_mesh(2, 25, 1);
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(500'000, 11);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);
  const FetchId first = mesh.host(1).fetch(mesh.net->now(), root);
  const FetchId second = mesh.host(1).fetch(mesh.net->now(), root, content::ByteRange{0, 1000});
  ASSERT_TRUE(mesh.net->run_until(
      [&] { return finished_fetch(*mesh.net, 1, first) && finished_fetch(*mesh.net, 1, second); }, 30s));
  const auto whole = *finished_fetch(*mesh.net, 1, first);
  const auto part = *finished_fetch(*mesh.net, 1, second);
  ASSERT_TRUE(whole.size);
  ASSERT_TRUE(part.size);
  EXPECT_TRUE(whole.committed);
  EXPECT_FALSE(part.committed) << "the second waited, then found the object in the store";
  EXPECT_EQ(*part.size, bytes.size());
  EXPECT_LT(mesh.store(0).encoded_bytes_served(), bytes.size() + 100'000u) << "downloaded once";
  mesh.net->run_for(1s);
  EXPECT_EQ(finished_count(*mesh.net, 1, first), 1u);
  EXPECT_EQ(finished_count(*mesh.net, 1, second), 1u);
}

TEST(Content, ThreeHoldersAndACorruptOneIsDroppedAndPenalised) {
  constexpr std::size_t corrupt = 1;
  Mesh mesh = make_mesh(5, 12, 4, {}, [](std::size_t i) -> std::unique_ptr<MemoryContentStorage> {
    if (i == corrupt) return std::make_unique<CorruptingStorage>();
    return std::make_unique<MemoryContentStorage>();
  });
  mesh.net->run_for(4s);
  const Bytes bytes = random_bytes(3 * 1024 * 1024 + 12345, 2);
  content::Hash root{};
  for (std::size_t holder : {0u, 1u, 2u, 3u}) root = publish(mesh, holder, bytes);
  mesh.net->run_for(2s);
  ASSERT_EQ(mesh.host(4).content_holders(root).size(), 4u);

  const auto finished = fetch_and_wait(mesh, 4, root);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_TRUE(finished.committed);
  ASSERT_NE(mesh.store(4).contents(root), nullptr);
  EXPECT_EQ(*mesh.store(4).contents(root), bytes);
  EXPECT_EQ(content::compute_outboard(*mesh.store(4).contents(root)).root, root) << "the result verifies";
  // Caught once, then never asked again for this content (its groups
  // verified before the bad one are good and may have been kept).
  EXPECT_EQ(mesh.host(4).content().stats().bad_groups, 1u) << "the corrupt holder was caught and dropped";
  std::size_t honest = 0;
  for (std::size_t holder : {0u, 2u, 3u}) honest += served_by(finished, mesh.net->peer(holder));
  EXPECT_GE(honest, 2u) << "several holders served at once";
  EXPECT_GT(mesh.store(corrupt).encoded_bytes_served(), 0u) << "the corrupt holder was asked for ranges";
}

TEST(Content, HolderStoppedMidFetchTheOtherFinishes) {
  Mesh mesh = make_mesh(3, 13, 2, [](std::size_t, HostOptions& host) {
    host.content.serving_bytes_per_second_per_peer = 1024 * 1024;
  });
  mesh.net->run_for(4s);
  const Bytes bytes = random_bytes(4 * 1024 * 1024, 3);
  const content::Hash root = publish(mesh, 0, bytes);
  publish(mesh, 1, bytes);
  mesh.net->run_for(2s);

  const FetchId id = mesh.host(2).fetch(mesh.net->now(), root);
  ASSERT_TRUE(mesh.net->run_until(
      [&] {
        const auto progress = progress_of(*mesh.net, 2, id);
        return !progress.empty() && progress.back().verified_bytes >= 1024 * 1024;
      },
      30s));
  ASSERT_FALSE(finished_fetch(*mesh.net, 2, id));
  mesh.net->stop(0);
  ASSERT_TRUE(mesh.net->run_until([&] { return finished_fetch(*mesh.net, 2, id).has_value(); }, 60s));
  const auto finished = *finished_fetch(*mesh.net, 2, id);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_EQ(*mesh.store(2).contents(root), bytes);
  EXPECT_TRUE(served_by(finished, mesh.net->peer(1)));
  // The holder that served is in the index now, though it never announced.
  const auto holders = mesh.host(2).content_holders(root);
  EXPECT_TRUE(std::any_of(holders.begin(), holders.end(),
                          [&](const HolderInfo& holder) { return holder.peer == mesh.net->peer(1); }));
}

// The limit holds for the peer across its range streams: a range that ends
// and the next that starts do not refill the bucket (they once did, and a
// limited holder served at several times its limit).
TEST(Content, ServingRateLimitHoldsAcrossRanges) {
  constexpr double rate_bytes_per_second = 512 * 1024;
  Mesh mesh = make_mesh(2, 15, 1, [&](std::size_t, HostOptions& host) {
    host.content.serving_bytes_per_second_per_peer = rate_bytes_per_second;
    // One range at a time: between two ranges the holder serves the peer nothing.
    host.content.plan.ranges_per_holder_max = 1;
  });
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(4 * 1024 * 1024, 5);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);

  const Instant started = mesh.net->now();
  const auto finished = fetch_and_wait(mesh, 1, root, std::nullopt, 60s);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  const double took = std::chrono::duration<double>(mesh.net->now() - started).count();
  const double at_the_limit = static_cast<double>(bytes.size()) / rate_bytes_per_second;  // 8 s
  EXPECT_GE(took, at_the_limit - 0.5) << "a quarter second of burst, no more";
  EXPECT_LE(took, at_the_limit * 1.5) << "and the limit is used, not undercut";
}

TEST(Content, RestartedFetcherResumesWithoutDownloadingAgain) {
  Mesh mesh = make_mesh(2, 14, 1, [](std::size_t, HostOptions& host) {
    host.content.serving_bytes_per_second_per_peer = 512 * 1024;
  });
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(2 * 1024 * 1024 + 777, 4);
  const std::uint64_t groups = content::group_count(bytes.size());
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);

  const FetchId id = mesh.host(1).fetch(mesh.net->now(), root);
  ASSERT_TRUE(mesh.net->run_until(
      [&] {
        const auto progress = progress_of(*mesh.net, 1, id);
        return !progress.empty() && progress.back().verified_bytes >= 700 * 1024;
      },
      30s));
  mesh.net->stop(1);  // like SIGKILL: the partial stays in its store
  const auto kept = mesh.store(1).partial_groups(root);
  ASSERT_TRUE(kept);
  ASSERT_GT(*kept, 0u);
  ASSERT_LT(*kept, groups);
  mesh.net->run_for(1s);

  mesh.net->start(1);
  mesh.net->run_for(3s);
  const std::uint64_t served_before = mesh.store(0).encoded_bytes_served();
  const std::uint64_t written_before = mesh.store(1).groups_written();
  const auto finished = fetch_and_wait(mesh, 1, root);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_TRUE(finished.committed);
  EXPECT_EQ(*mesh.store(1).contents(root), bytes);
  EXPECT_EQ(mesh.store(1).groups_written() - written_before, groups - *kept)
      << "only the groups the partial lacked were written";
  const std::uint64_t served = mesh.store(0).encoded_bytes_served() - served_before;
  const std::uint64_t missing_bytes = bytes.size() - *kept * kGroupBytes;
  // Proofs, and the last group that every response carries, are the overhead.
  EXPECT_LE(served, missing_bytes + 12 * (kGroupBytes + 1024));
  EXPECT_LT(served, bytes.size() - 600 * 1024);
}

TEST(Content, RangeFetchGetsOnlyTheNeededGroups) {
  Mesh mesh = make_mesh(2, 15, 1);
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(2 * 1024 * 1024, 5);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);

  // An empty range asks for the proven size only (HEAD), and downloads nothing.
  const auto probe = fetch_and_wait(mesh, 1, root, content::ByteRange{0, 0});
  ASSERT_TRUE(probe.size) << probe.size.error().detail;
  EXPECT_EQ(*probe.size, bytes.size());
  EXPECT_EQ(mesh.store(1).groups_written(), 0u);
  EXPECT_EQ(mesh.store(1).partial_groups(root), std::nullopt);

  const content::ByteRange range{700'000, 100'000};
  const auto finished = fetch_and_wait(mesh, 1, root, range);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_EQ(*finished.size, bytes.size());
  EXPECT_FALSE(finished.committed);
  EXPECT_EQ(mesh.store(1).contents(root), nullptr);
  const std::uint64_t first = range.offset / kGroupBytes;
  const std::uint64_t end = (range.offset + range.length + kGroupBytes - 1) / kGroupBytes;
  ASSERT_TRUE(mesh.store(1).partial_groups(root));
  // The wanted groups, and the last group that proved the size.
  EXPECT_EQ(*mesh.store(1).partial_groups(root), end - first + 1);
  const Bytes& partial = *mesh.store(1).partial_contents(root);
  EXPECT_TRUE(std::equal(bytes.begin() + range.offset, bytes.begin() + range.offset + range.length,
                         partial.begin() + range.offset));
  EXPECT_LT(mesh.store(0).encoded_bytes_served(), 300'000u) << "no more than the range and its proofs";
  expect_progress_paced(*mesh.net, 1, finished.id, bytes.size(), range.length);

  // The rest of the content later: the range is not downloaded again.
  const std::uint64_t written_before = mesh.store(1).groups_written();
  const auto whole = fetch_and_wait(mesh, 1, root);
  ASSERT_TRUE(whole.size);
  EXPECT_TRUE(whole.committed);
  EXPECT_EQ(*mesh.store(1).contents(root), bytes);
  EXPECT_EQ(mesh.store(1).groups_written() - written_before, content::group_count(bytes.size()) - (end - first + 1));

  // A range past the end is refused once the size is known.
  const auto past = fetch_and_wait(mesh, 1, root, content::ByteRange{bytes.size() + kGroupBytes, 10});
  ASSERT_FALSE(past.size);
  EXPECT_EQ(past.size.error().code, FetchErrc::bad_range);
}

TEST(Content, ProgressIsPacedAndReachesTheEnd) {
  Mesh mesh = make_mesh(2, 22, 1, [](std::size_t, HostOptions& host) {
    host.content.serving_bytes_per_second_per_peer = 512 * 1024;
  });
  mesh.net->run_for(3s);
  const Bytes bytes = random_bytes(1024 * 1024, 10);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);
  const Instant started = mesh.net->now();
  const FetchId id = mesh.host(1).fetch(mesh.net->now(), root);
  std::vector<Instant> seen_at;
  while (!finished_fetch(*mesh.net, 1, id) && mesh.net->now() - started < 30s) {
    mesh.net->run_for(5ms);
    while (seen_at.size() < progress_of(*mesh.net, 1, id).size()) seen_at.push_back(mesh.net->now());
  }
  ASSERT_TRUE(finished_fetch(*mesh.net, 1, id));
  ASSERT_TRUE(finished_fetch(*mesh.net, 1, id)->size);
  const Duration took = mesh.net->now() - started;
  EXPECT_GE(took, 1500ms) << "the holder's 512 KiB/s limit holds";
  EXPECT_LT(took, 4s);
  ASSERT_GE(seen_at.size(), 5u) << "progress all along";
  // The first event tells the size; the second the first contiguous bytes,
  // unpaced (a streaming GET waits for them); later ones are 100 ms apart
  // at least (5 ms of slack for when the harness looked).
  const auto progress = progress_of(*mesh.net, 1, id);
  EXPECT_EQ(progress[0].contiguous_bytes, 0u);
  EXPECT_GT(progress[1].contiguous_bytes, 0u);
  EXPECT_LT(seen_at[1] - seen_at[0], 50ms) << "the first bytes are not held back by the pacing";
  for (std::size_t i = 2; i < seen_at.size(); ++i) EXPECT_GE(seen_at[i] - seen_at[i - 1], 95ms) << i;
  EXPECT_LE(seen_at.size(), static_cast<std::size_t>(took / 100ms) + 3);
  EXPECT_GT(progress.back().verified_bytes, bytes.size() / 2);
  EXPECT_EQ(progress.back().sources, 1u);
}

TEST(Content, UnknownContentIsNotFoundAfterTheTimeout) {
  Mesh mesh = make_mesh(3, 16, 2);
  mesh.net->run_for(3s);
  content::Hash nobody{};
  nobody.fill(0x5a);
  const Instant started = mesh.net->now();
  const auto finished = fetch_and_wait(mesh, 2, nobody);
  ASSERT_FALSE(finished.size);
  EXPECT_EQ(finished.size.error().code, FetchErrc::not_found);
  EXPECT_GE(mesh.net->now() - started, 5s);
  EXPECT_LT(mesh.net->now() - started, 7s);

  // Cancelling finishes exactly once, with `cancelled`.
  const FetchId id = mesh.host(2).fetch(mesh.net->now(), nobody);
  mesh.net->run_for(1s);
  mesh.host(2).cancel_fetch(mesh.net->now(), id);
  mesh.net->run_for(6s);
  ASSERT_EQ(finished_count(*mesh.net, 2, id), 1u);
  EXPECT_EQ(finished_fetch(*mesh.net, 2, id)->size.error().code, FetchErrc::cancelled);
}

TEST(Content, WithoutStorageFetchesAreDisabled) {
  Mesh mesh = make_mesh(1, 17, 0, {}, [](std::size_t) { return std::unique_ptr<MemoryContentStorage>(); });
  content::Hash root{};
  root.fill(1);
  const FetchId id = mesh.host(0).fetch(mesh.net->now(), root);
  mesh.net->run_for(100ms);
  const auto finished = finished_fetch(*mesh.net, 0, id);
  ASSERT_TRUE(finished);
  ASSERT_FALSE(finished->size);
  EXPECT_EQ(finished->size.error().code, FetchErrc::disabled);
}

TEST(Content, FoundThroughDhtProvidersAlone) {
  // 0: a DHT server without storage (no gossip of the content topic, no
  // blob protocol); 1: the holder; 2: a DHT client that knows only node 0.
  Mesh mesh = make_mesh(
      3, 18, 1,
      [](std::size_t i, HostOptions& host) {
        if (i != 2) return;
        // A client that never looks itself up: nothing but the fetch's
        // provider lookup leads it to node 1.
        host.kad.server = false;
        host.kad.first_refresh_delay = std::chrono::hours(1);
        host.kad.refresh_interval = std::chrono::hours(1);
      },
      [](std::size_t i) { return i == 0 ? nullptr : std::make_unique<MemoryContentStorage>(); });
  mesh.net->run_for(4s);
  const Bytes bytes = random_bytes(100'000, 6);
  const content::Hash root = publish(mesh, 1, bytes);
  mesh.net->run_for(3s);
  ASSERT_EQ(mesh.net->connections_between(2, 1), 0u);
  ASSERT_TRUE(mesh.host(2).content_holders(root).empty());

  const auto finished = fetch_and_wait(mesh, 2, root);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_EQ(*mesh.store(2).contents(root), bytes);
  EXPECT_TRUE(served_by(finished, mesh.net->peer(1)));
}

TEST(Content, FoundByAskingConnectedPeers) {
  Mesh mesh = make_mesh(3, 19, 2, {}, [](std::size_t i) -> std::unique_ptr<MemoryContentStorage> {
    if (i == 1) return std::make_unique<QuietStorage>();
    return std::make_unique<MemoryContentStorage>();
  });
  mesh.net->run_for(4s);
  const Bytes bytes = random_bytes(50'000, 7);
  const content::Hash root = mesh.store(1).add(bytes);  // held, never announced
  mesh.net->run_for(12s);
  ASSERT_GE(mesh.net->connections_between(2, 1), 1u);
  ASSERT_TRUE(mesh.host(2).content_holders(root).empty());

  const auto finished = fetch_and_wait(mesh, 2, root);
  ASSERT_TRUE(finished.size) << finished.size.error().detail;
  EXPECT_EQ(*mesh.store(2).contents(root), bytes);
  EXPECT_TRUE(served_by(finished, mesh.net->peer(1)));
}

TEST(Content, HoldingsExchangeFillsTheIndexOfANewPeer) {
  Mesh mesh = make_mesh(2, 20, 1);
  const Bytes bytes = random_bytes(20'000, 8);
  // Held before any connection and never announced: the first periodic
  // announcement is 10 s away, so only the exchange on connecting tells.
  const content::Hash root = mesh.store(0).add(bytes);
  ASSERT_TRUE(mesh.net->run_until([&] { return !mesh.host(1).content_holders(root).empty(); }, 5s));
  EXPECT_EQ(mesh.host(1).content_holders(root)[0].size, bytes.size());
}

TEST(Content, IndexWithdrawalsAndPersistence) {
  Mesh mesh = make_mesh(3, 21, 2, [](std::size_t, HostOptions& host) { host.content.holder_ttl = 30s; });
  mesh.net->run_for(4s);
  const Bytes bytes = random_bytes(10'000, 9);
  const content::Hash root = publish(mesh, 0, bytes);
  mesh.net->run_for(2s);
  ASSERT_EQ(mesh.host(2).content_holders(root).size(), 1u);

  const auto records = mesh.host(2).export_holder_index();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].root, root);
  EXPECT_EQ(records[0].peer, mesh.net->peer(0));

  mesh.store(0).remove(root);
  mesh.host(0).withdraw_content(mesh.net->now(), root);
  mesh.net->run_for(2s);
  EXPECT_TRUE(mesh.host(2).content_holders(root).empty()) << "the withdrawal removed the holder";

  mesh.host(1).import_holder_index(mesh.net->now(), records);
  EXPECT_EQ(mesh.host(1).content_holders(root).size(), 1u);
  mesh.net->run_for(31s);
  EXPECT_TRUE(mesh.host(1).content_holders(root).empty()) << "entries not re-announced expire";
}

std::vector<swarm::swarm_event::StreamOpened> opened_streams(SimNetwork& net, std::size_t index) {
  std::vector<swarm::swarm_event::StreamOpened> opened;
  for (const auto& event : net.events(index)) {
    const auto* swarm_event = std::get_if<swarm::SwarmEvent>(&event);
    if (!swarm_event) continue;
    if (const auto* stream = std::get_if<swarm::swarm_event::StreamOpened>(swarm_event)) opened.push_back(*stream);
  }
  return opened;
}

TEST(Content, ServingAnswersDontHaveAndLimitsStreamsPerPeer) {
  Mesh mesh = make_mesh(2, 23, 1, [](std::size_t i, HostOptions& host) {
    if (i == 0) host.content.serving_streams_per_peer_max = 2;
  });
  mesh.net->run_for(3s);
  const std::string protocol(blob::protocol_id);

  // A request by hand for content node 0 does not hold.
  mesh.host(1).open_stream(mesh.net->now(), mesh.net->peer(0), protocol);
  mesh.net->run_for(200ms);
  ASSERT_EQ(opened_streams(*mesh.net, 1).size(), 1u);
  const auto asked = opened_streams(*mesh.net, 1)[0];
  content::Hash unknown{};
  unknown.fill(0x77);
  const Bytes request = blob::frame(blob::encode_request({unknown, 0, kGroupBytes, false}));
  ASSERT_EQ(*mesh.host(1).swarm().write(mesh.net->now(), asked.connection, asked.stream, request), request.size());
  ASSERT_TRUE(mesh.host(1).swarm().close_write(mesh.net->now(), asked.connection, asked.stream));
  mesh.host(1).process(mesh.net->now());
  mesh.net->run_for(200ms);
  auto answer = mesh.host(1).swarm().read(mesh.net->now(), asked.connection, asked.stream, 4096);
  ASSERT_TRUE(answer);
  blob::FrameReader reader(blob::response_header_bytes_max);
  ASSERT_TRUE(reader.handle_data(answer->data));
  ASSERT_TRUE(reader.complete());
  auto header = blob::decode_response_header(reader.body());
  ASSERT_TRUE(header);
  EXPECT_EQ(header->status, blob::Status::dont_have);
  EXPECT_EQ(mesh.host(0).content().stats().serving_refused, 0u);

  // Three streams at once that ask nothing: the third is over the limit.
  for (int i = 0; i < 3; ++i) mesh.host(1).open_stream(mesh.net->now(), mesh.net->peer(0), protocol);
  mesh.net->run_for(500ms);
  EXPECT_EQ(mesh.host(0).content().stats().serving_refused, 1u);
  // Streams that never ask are reset after a while, freeing their slots.
  mesh.net->run_for(40s);
  EXPECT_EQ(mesh.host(0).content().stats().serving_idle_reset, 2u);
}

TEST(Content, IndexIsBounded) {
  Mesh mesh = make_mesh(1, 24, 0, [](std::size_t, HostOptions& host) {
    host.content.holders_per_content_max = 3;
    host.content.index_holders_max = 5;
  });
  std::vector<HolderRecord> records;
  for (std::uint8_t i = 0; i < 8; ++i) {
    std::array<std::uint8_t, 32> key{};
    key[0] = static_cast<std::uint8_t>(i + 1);
    content::Hash root{};
    root.fill(static_cast<std::uint8_t>(i % 2));  // two contents
    records.push_back(HolderRecord{root, 1000, PeerId::from_ed25519(key), {}});
  }
  mesh.host(0).import_holder_index(mesh.net->now(), records);
  EXPECT_EQ(mesh.host(0).content().index_size(), 5u);
  EXPECT_EQ(mesh.host(0).content_holders(records[0].root).size(), 3u);
  EXPECT_EQ(mesh.host(0).content_holders(records[1].root).size(), 2u);

  // Fresher entries take the place of the oldest.
  mesh.net->run_for(10s);
  std::vector<HolderRecord> newer;
  for (std::uint8_t i = 0; i < 2; ++i) {
    std::array<std::uint8_t, 32> key{};
    key[0] = static_cast<std::uint8_t>(100 + i);
    newer.push_back(HolderRecord{records[1].root, 1000, PeerId::from_ed25519(key), {}});
  }
  mesh.host(0).import_holder_index(mesh.net->now(), newer);
  EXPECT_EQ(mesh.host(0).content().index_size(), 5u);
  const auto holders = mesh.host(0).content_holders(records[1].root);
  EXPECT_EQ(holders.size(), 3u);
  std::size_t fresh = 0;
  for (const auto& holder : holders) fresh += holder.peer == newer[0].peer || holder.peer == newer[1].peer;
  EXPECT_EQ(fresh, 2u);
}

// The simulation: 100 nodes, 20 ids of 16 KiB .. 2 MiB with a few
// holders each, 30 % of the nodes stopped and started over time; every id
// stays fetchable while one of its holders is online.
TEST(ContentScale, HundredNodesTwentyIdsUnderChurn) {
  constexpr std::size_t n = 100;
  constexpr std::size_t ids = 20;
  Mesh mesh = make_mesh(n, 100, 3, [](std::size_t, HostOptions& host) {
    host.kad.refresh_interval = std::chrono::minutes(5);
    host.kad.first_refresh_delay = std::chrono::minutes(5);
    host.connections.max_peers = 10;
    host.content.discovery_timeout = 10s;
  });
  mesh.net->run_for(8s);

  std::mt19937 pick(100);
  std::vector<Bytes> contents;
  std::vector<content::Hash> roots;
  for (std::size_t k = 0; k < ids; ++k) {
    const std::size_t size = 16 * 1024 + pick() % (2 * 1024 * 1024 - 16 * 1024);
    contents.push_back(random_bytes(size, static_cast<std::uint32_t>(1000 + k)));
    content::Hash root{};
    for (int h = 0; h < 3; ++h) root = publish(mesh, 1 + pick() % (n - 1), contents.back());
    roots.push_back(root);
  }
  mesh.net->run_for(3s);

  const auto holders_online = [&](std::size_t k) {
    std::size_t online = 0;
    for (std::size_t i = 0; i < n; ++i) online += mesh.net->up(i) && mesh.store(i).size_of(roots[k]).has_value();
    return online;
  };
  std::set<std::size_t> down;
  std::set<std::size_t> ever_down;
  std::size_t fetched = 0;
  std::size_t skipped = 0;
  for (int round = 0; round < 3; ++round) {
    // Churn: 10 % of the nodes leave, earlier leavers come back, so over
    // the rounds 30 % of the nodes have been down.
    for (auto index : std::set<std::size_t>(down)) {
      if (pick() % 2 == 0) {
        mesh.net->start(index);
        down.erase(index);
      }
    }
    while (down.size() < static_cast<std::size_t>(round + 1) * n / 10) {
      const std::size_t index = 1 + pick() % (n - 1);
      if (down.insert(index).second) {
        mesh.net->stop(index);
        ever_down.insert(index);
      }
    }
    mesh.net->run_for(3s);
    // Every id with a holder online, fetched at once by a node without it.
    std::vector<std::pair<std::size_t, FetchId>> fetches(ids, {0, 0});
    for (std::size_t k = 0; k < ids; ++k) {
      if (holders_online(k) == 0) {
        ++skipped;
        continue;
      }
      std::size_t fetcher = 1 + pick() % (n - 1);
      while (!mesh.net->up(fetcher) || mesh.store(fetcher).size_of(roots[k])) fetcher = 1 + pick() % (n - 1);
      fetches[k] = {fetcher, mesh.host(fetcher).fetch(mesh.net->now(), roots[k])};
    }
    const auto all_finished = [&] {
      for (const auto& [fetcher, id] : fetches) {
        if (id != 0 && !finished_fetch(*mesh.net, fetcher, id)) return false;
      }
      return true;
    };
    // Churn while the fetches run: nodes that are neither fetching nor the
    // last online holder of an id leave.
    mesh.net->run_for(300ms);
    std::size_t left = 0;
    for (std::size_t tries = 0; left < 3 && tries < 100; ++tries) {
      const std::size_t index = 1 + pick() % (n - 1);
      const bool fetching = std::any_of(fetches.begin(), fetches.end(), [&](const auto& f) { return f.first == index; });
      if (!mesh.net->up(index) || fetching) continue;
      bool last_holder = false;
      for (std::size_t k = 0; k < ids; ++k) {
        if (mesh.store(index).size_of(roots[k]) && holders_online(k) < 2) last_holder = true;
      }
      if (last_holder) continue;
      mesh.net->stop(index);
      down.insert(index);
      ever_down.insert(index);
      ++left;
    }
    ASSERT_TRUE(mesh.net->run_until(all_finished, 90s)) << "round " << round;
    for (std::size_t k = 0; k < ids; ++k) {
      const auto [fetcher, id] = fetches[k];
      if (id == 0) continue;
      const auto finished = *finished_fetch(*mesh.net, fetcher, id);
      ASSERT_TRUE(finished.size) << "id " << k << " round " << round << ": " << finished.size.error().detail;
      ASSERT_NE(mesh.store(fetcher).contents(roots[k]), nullptr);
      EXPECT_EQ(*mesh.store(fetcher).contents(roots[k]), contents[k]);
      ++fetched;
    }
  }
  std::printf("100 nodes, %zu ids, %zu nodes stopped at some point: %zu fetches succeeded, %zu skipped (no holder "
              "online), %.1f s virtual\n",
              ids, ever_down.size(), fetched, skipped, std::chrono::duration<double>(mesh.net->now().since_start).count());
  EXPECT_GE(ever_down.size(), 30u);
  EXPECT_GE(fetched, 50u);
}

}  // namespace
}  // namespace taho::host
