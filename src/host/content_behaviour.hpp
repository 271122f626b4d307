// Content exchange on the swarm (DESIGN.md §4, issue 8): the holder index
// fed by announcements, serving /taho/blob/1.0.0 from the node's storage,
// and the fetch pipeline — discovery (index, DHT providers, asking connected
// peers), selection (RTT, past throughput, failures), multi-source transfer
// planned by blob::RangePlan, verification of every group before it is
// written, resume from the storage's partial downloads.
//
// Sans-IO like the other behaviours: the host forwards the swarm events that
// concern it (on_*), carries out what it asks (poll_open for streams,
// poll_command for gossip publishes, DHT queries and dials), hands its
// events to the application (poll_event) and calls handle_timeout at
// next_timeout(). Storage calls are synchronous (content_storage.hpp).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "base/multiaddr.hpp"
#include "base/peer_id.hpp"
#include "base/time.hpp"
#include "content/tree/content_id.hpp"
#include "content/tree/range_encoding.hpp"
#include "host/content_storage.hpp"
#include "proto/blob/announcement.hpp"
#include "proto/blob/client.hpp"
#include "proto/blob/message.hpp"
#include "proto/blob/range_plan.hpp"
#include "proto/blob/server.hpp"
#include "proto/identify/message.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct ContentOptions {
  std::string announce_topic = "taho/content/1";
  Duration reannounce_interval = std::chrono::minutes(10);
  Duration holder_ttl = std::chrono::hours(1);   // index entries not re-announced expire
  std::size_t index_holders_max = 100000;        // (root, peer) pairs in the index
  std::size_t holders_per_content_max = 32;
  Duration discovery_timeout = std::chrono::seconds(15); // no holder found by then: not_found
  blob::PlanOptions plan;
  blob::ServerOptions server;
  std::size_t serving_streams_per_peer_max = 8;  // more are reset
  std::size_t serving_streams_max = 256;
  double serving_bytes_per_second_per_peer = 0;  // 0: unlimited (token bucket on `now`)
  std::size_t fetches_max = 64;
};

using FetchId = std::uint64_t;

// Why a fetch failed:
// - not_found: no holder answered within discovery_timeout;
// - unavailable: holders were found but none could deliver what remained
//   (all gone, refused or dropped) within another discovery_timeout, or
//   fetches_max fetches run already;
// - bad_range: the range starts past the content's end (an empty range
//   at 0 asks for the size only: the fetch finishes with the proven size);
// - storage: the node's storage failed (open, write or commit);
// - cancelled: cancel_fetch;
// - too_large: the content is above what a plan handles (4 TiB);
// - disabled: the host has no storage (content exchange off).
enum class FetchErrc { not_found, unavailable, bad_range, storage, cancelled, too_large, disabled };
using FetchError = Error<FetchErrc>;
std::string_view to_string(FetchErrc code);

struct HolderInfo {
  PeerId peer;
  std::vector<Multiaddr> addrs;
  std::uint64_t size = 0;
  bool connected = false;
  std::optional<double> throughput;  // bytes/s measured by our fetches
};
// One index entry, for persistence (export_holder_index / import_holder_index).
struct HolderRecord {
  content::Hash root{};
  std::uint64_t size = 0;
  PeerId peer;
  std::vector<Multiaddr> addrs;
};

namespace content_event {
struct FetchProgress {
  FetchId id;
  content::Hash root{};
  std::uint64_t size = 0;
  std::uint64_t wanted_bytes = 0;
  std::uint64_t verified_bytes = 0;
  // Bytes from the start of the wanted range that are verified and written
  // with no gap (what a streaming reader may already read from the partial).
  std::uint64_t contiguous_bytes = 0;
  std::size_t sources = 0;
};
struct FetchFinished {
  FetchId id;
  content::Hash root{};
  Expected<std::uint64_t, FetchError> size;
  // This fetch moved the complete object into the store (false for content
  // held already and for a range fetch that left groups missing).
  bool committed = false;
  std::vector<PeerId> served_by;
};
}  // namespace content_event
using ContentEvent = std::variant<content_event::FetchProgress, content_event::FetchFinished>;

// What the behaviour asks the host to do.
namespace content_command {
struct Publish {  // a gossip message on the announce topic
  Bytes data;
};
struct Provide {  // a DHT provider record for the key
  Bytes key;
};
struct FindProviders {  // a DHT lookup; the host answers with on_providers(token, ...)
  std::uint64_t token;
  Bytes key;
};
struct Dial {  // connect to a holder we are not connected to
  PeerId peer;
  std::vector<Multiaddr> addrs;
};
}  // namespace content_command
using ContentCommand = std::variant<content_command::Publish, content_command::Provide,
                                    content_command::FindProviders, content_command::Dial>;

struct ContentOpen {
  std::uint64_t token;
  PeerId peer;
  std::string protocol;
  swarm::Negotiation negotiation = swarm::Negotiation::confirmed;
};

struct ContentStats {
  std::uint64_t streams_served = 0;
  std::uint64_t serving_refused = 0;      // over serving_streams_(per_peer_)max: reset
  std::uint64_t serving_idle_reset = 0;   // no request or no progress for 30 s: reset
  std::uint64_t bytes_served = 0;         // response bytes written
  std::uint64_t bytes_fetched = 0;        // response bytes received
  std::uint64_t bad_groups = 0;           // holders dropped for data that did not verify
  std::uint64_t announcements_received = 0;
  std::uint64_t bad_announcements = 0;
  std::uint64_t fetches_finished = 0;
  std::uint64_t fetches_failed = 0;
};

// The DHT key of content: its CIDv1's multihash bytes (js kad-dht's key).
Bytes provider_key(const content::Hash& root);

class ContentBehaviour {
 public:
  // `storage` null: content exchange is off (fetches finish `disabled`).
  ContentBehaviour(const PeerId& local, ContentStorage* storage, Instant now, ContentOptions options = {});

  bool enabled() const { return storage_ != nullptr; }
  const ContentOptions& options() const { return options_; }
  // Protocol ids to register with the swarm (none when disabled).
  std::vector<std::string> protocols() const;

  // ---- from the host
  void set_listen_addrs(std::vector<Multiaddr> addrs) { listen_addrs_ = std::move(addrs); }
  void on_connected(Instant now, swarm::Swarm& swarm, const PeerId& peer);
  void on_identified(Instant now, swarm::Swarm& swarm, const PeerId& peer, const identify::Info& info);
  // The peer's last connection closed.
  void on_disconnected(Instant now, swarm::Swarm& swarm, const PeerId& peer);
  // One connection closed: its streams are gone without StreamClosed events.
  void on_connection_closed(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection);
  void on_dial_failed(Instant now, swarm::Swarm& swarm, const PeerId& peer);
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream);
  void on_open_failed(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  // Readable, writable or closed: false if the stream is not ours.
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);
  // A gossip message on the announce topic; `author` is the signed author.
  void on_announcement(Instant now, const PeerId& author, ByteView data);
  // The answer to a FindProviders command.
  void on_providers(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                    const std::vector<std::pair<PeerId, std::vector<Multiaddr>>>& providers);
  void handle_timeout(Instant now, swarm::Swarm& swarm);

  // ---- commands
  FetchId fetch(Instant now, swarm::Swarm& swarm, const content::Hash& root,
                std::optional<content::ByteRange> range = std::nullopt);
  void cancel_fetch(Instant now, swarm::Swarm& swarm, FetchId id);
  void announce_content(Instant now, const content::Hash& root, std::uint64_t size);
  void withdraw_content(Instant now, const content::Hash& root);
  std::vector<HolderInfo> content_holders(const content::Hash& root) const;
  std::vector<HolderRecord> export_holder_index() const;
  void import_holder_index(Instant now, const std::vector<HolderRecord>& records);

  // ---- output
  std::optional<ContentOpen> poll_open();
  std::optional<ContentCommand> poll_command();
  std::optional<ContentEvent> poll_event();
  std::optional<Instant> next_timeout() const;

  // ---- state
  // Peers we are exchanging content with now: the connection manager keeps them.
  std::set<PeerId> active_peers() const;
  std::size_t index_size() const { return index_size_; }
  std::size_t fetches_running() const { return fetches_.size(); }
  const ContentStats& stats() const { return stats_; }

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;

  // ---- index
  struct Holding {
    std::uint64_t size = 0;
    std::vector<Multiaddr> addrs;
    Instant expires;
  };
  void index_add(const content::Hash& root, const PeerId& peer, std::uint64_t size, std::vector<Multiaddr> addrs,
                 Instant expires);
  void index_remove(const content::Hash& root, const PeerId& peer);
  void index_expire(Instant now);
  void ingest(Instant now, const PeerId& holder, const blob::Announcement& announcement);

  // ---- serving
  struct Serving {
    PeerId peer;
    blob::Server server;
    Bytes encoding;
    std::size_t pushed = 0;  // bytes of `encoding` handed to the core
    Instant last_activity;
  };
  struct RateBucket {
    double tokens = 0;
    Instant refilled;
  };
  void pump_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  bool answer_request(Serving& serving, const blob::Request& request);
  void drop_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key, bool reset);
  void sweep_serving(Instant now, swarm::Swarm& swarm);
  std::size_t rate_allowance(Instant now, const PeerId& peer);
  void spend_rate(const PeerId& peer, std::size_t bytes);

  // ---- holdings exchange
  struct HoldingsOut {
    PeerId peer;
    Bytes frame;
    std::size_t sent = 0;
    std::optional<StreamKey> stream;
  };
  struct HoldingsIn {
    PeerId peer;
    blob::FrameReader reader{blob::announcement_bytes_max};
  };
  void pump_holdings_out(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  void pump_holdings_in(Instant now, swarm::Swarm& swarm, const StreamKey& key);
  Bytes holdings_frame();

  // ---- fetching
  struct Candidate {
    std::vector<Multiaddr> addrs;
    enum class State : std::uint8_t { untried, dialing, probing, active, failed } state = State::untried;
    Instant retry_at;         // failed: may be tried again from then (busy, transient errors)
    bool bad = false;         // sent data that did not verify: never again for this fetch
    std::size_t failures = 0; // consecutive stream failures
    Instant dial_started;
  };
  struct Fetch {
    FetchId id = 0;
    content::Hash root{};
    std::optional<content::ByteRange> requested;
    bool waiting = false;  // another fetch of the same root runs: start after it
    std::map<PeerId, Candidate> candidates;
    std::set<PeerId> asked;
    std::optional<Instant> deadline;  // no holder found by then: fail
    bool holder_seen = false;         // someone answered HAVE
    std::optional<std::uint64_t> dht_token;
    Instant next_dht;
    std::optional<std::uint64_t> size;
    std::optional<blob::RangePlan> plan;
    bool partial_open = false;
    Bytes stored;  // groups in the storage's partial (resumed or written)
    std::uint64_t wanted_first_group = 0;
    std::uint64_t wanted_end_group = 0;
    std::uint64_t wanted_offset = 0;  // bytes, as asked (not aligned)
    std::uint64_t wanted_end = 0;
    std::map<PeerId, blob::HolderId> holder_ids;
    std::map<std::uint64_t, PeerId> holder_peers;  // by HolderId value
    std::uint64_t next_holder = 1;
    std::vector<std::pair<PeerId, content::VerifiedGroup>> early_groups;  // proved the size before the partial opened
    std::vector<PeerId> served_by;
    std::uint64_t verified_bytes = 0;    // of the wanted range
    std::uint64_t contiguous_group = 0;  // groups before it (from the wanted start) are all stored
    std::optional<Instant> last_progress;
    bool reported_contiguous = false;  // a progress event has told of a contiguous prefix
    bool progress_due = false;
    // Every group is stored and the storage commits the object (on a worker
    // thread in the daemon): the fetch waits for that, polling, and does
    // nothing else meanwhile. A cancel then takes effect once it is over.
    bool committing = false;
    bool cancel_after_commit = false;
  };
  enum class TransferKind : std::uint8_t { probe, range, ask };
  struct Transfer {
    FetchId fetch = 0;
    PeerId peer;
    TransferKind kind = TransferKind::range;
    std::optional<blob::Assignment> assignment;
    blob::Client client;
    std::optional<StreamKey> stream;
    Instant last_activity;
    std::uint64_t received = 0;  // client bytes already counted as plan progress
    bool write_closed = false;
  };

  FetchId start_fetch(Instant now, swarm::Swarm& swarm, Fetch fetch);
  void begin(Instant now, swarm::Swarm& swarm, FetchId id);
  void drive(Instant now, swarm::Swarm& swarm, FetchId id);
  void discover(Instant now, swarm::Swarm& swarm, Fetch& fetch);
  void add_candidate(Fetch& fetch, const PeerId& peer, const std::vector<Multiaddr>& addrs);
  std::vector<PeerId> ranked_candidates(const swarm::Swarm& swarm, const Fetch& fetch,
                                        Candidate::State state) const;
  double cost(const swarm::Swarm& swarm, const PeerId& peer) const;
  std::uint64_t open_transfer(Fetch& fetch, const PeerId& peer, TransferKind kind, blob::Client client,
                              std::optional<blob::Assignment> assignment, Instant now);
  void pump_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  void reserve_range_window(Instant now, swarm::Swarm& swarm, const Transfer& transfer);
  // The transfer ended (complete, failed or its stream closed). `error`
  // unset: it completed.
  void end_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token, std::optional<blob::BlobError> error);
  void take_groups(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  // Opens the partial and plans the fetch; on failure the caller finishes
  // the fetch with the error.
  Expected<void, FetchError> size_proven(Instant now, Fetch& fetch, std::uint64_t size);
  bool store_group(Instant now, Fetch& fetch, const PeerId& from, const content::VerifiedGroup& group);
  void activate(Instant now, Fetch& fetch, const PeerId& peer);
  void drop_holder(Instant now, swarm::Swarm& swarm, Fetch& fetch, const PeerId& peer, bool bad);
  void reset_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token);
  // Resets the streams of ranges the plan cancelled (another copy won).
  void reap_cancelled(Instant now, swarm::Swarm& swarm, Fetch& fetch);
  void complete(Instant now, swarm::Swarm& swarm, FetchId id);
  // A committing fetch: finishes it if the storage's commit is over.
  void check_commit(Instant now, swarm::Swarm& swarm, FetchId id);
  void finish(Instant now, swarm::Swarm& swarm, FetchId id, Expected<std::uint64_t, FetchError> result,
              bool committed);
  void emit_progress(Instant now, Fetch& fetch, bool force);
  bool stored_all(const Fetch& fetch) const;
  void remember_throughput(const Fetch& fetch, const PeerId& peer);
  void announce(Instant now, const content::Hash& root, std::uint64_t size);
  void reannounce(Instant now);
  void retire(const StreamKey& key);

  PeerId local_;
  ContentStorage* storage_;
  ContentOptions options_;
  std::vector<Multiaddr> listen_addrs_;
  std::set<PeerId> connected_;

  std::map<content::Hash, std::map<PeerId, Holding>> index_;
  std::set<std::tuple<Instant, content::Hash, PeerId>> expiry_;
  std::size_t index_size_ = 0;

  std::map<StreamKey, Serving> serving_;
  std::map<PeerId, std::size_t> serving_per_peer_;
  std::map<PeerId, RateBucket> rates_;
  std::optional<Instant> rate_wakeup_;
  std::optional<Instant> next_serving_sweep_;

  std::set<PeerId> holdings_sent_;
  std::map<std::uint64_t, HoldingsOut> holdings_out_;
  std::map<StreamKey, std::uint64_t> holdings_out_streams_;
  std::map<StreamKey, HoldingsIn> holdings_in_;

  std::map<FetchId, Fetch> fetches_;
  FetchId next_fetch_ = 1;
  std::map<std::uint64_t, Transfer> transfers_;  // by token
  std::map<StreamKey, std::uint64_t> transfer_streams_;
  std::map<std::uint64_t, FetchId> dht_lookups_;  // FindProviders token -> fetch
  std::uint64_t next_token_ = 1;
  std::optional<Instant> next_tick_;
  std::optional<Instant> next_commit_poll_;  // while a fetch is committing

  struct PeerStats {
    std::optional<double> throughput;
    std::size_t failures = 0;
    std::size_t bad_data = 0;
  };
  PeerStats& stats_of(const PeerId& peer);
  std::map<PeerId, PeerStats> peer_stats_;
  std::set<content::Hash> provided_;
  Instant next_reannounce_;

  std::set<StreamKey> retired_;  // streams we are done with, until they close
  std::deque<StreamKey> retired_order_;

  std::deque<ContentOpen> opens_;
  std::deque<ContentCommand> commands_;
  std::deque<ContentEvent> events_;
  ContentStats stats_;
};

}  // namespace taho::host
