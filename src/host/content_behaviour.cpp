#include "host/content_behaviour.hpp"

#include <algorithm>
#include <limits>

#include "content/tree/tree_shape.hpp"

namespace taho::host {

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kReadBytes = 256 * 1024;
// Per fetch: size probes at once, dials at once, holders downloading at
// once, size-only questions to connected peers at once.
constexpr std::size_t kProbesPerFetchMax = 3;
constexpr std::size_t kDialsPerFetchMax = 4;
constexpr std::size_t kActiveHoldersPerFetchMax = 8;
constexpr std::size_t kAsksPerFetchMax = 16;
constexpr std::size_t kCandidatesPerFetchMax = 64;  // holders a fetch keeps track of
// Stream failures in a row (resets, short answers) before a connected
// holder is dropped from a fetch.
constexpr std::size_t kFailuresBeforeDrop = 3;
constexpr Duration kBusyRetry = 2s;        // a holder that answered BUSY, or lost a stream
constexpr Duration kDialRetry = 10s;       // a holder we could not reach
constexpr Duration kDhtRetry = 5s;         // between provider lookups of one fetch
constexpr Duration kDialTimeout = 20s;
constexpr Duration kTransferIdle = 20s;    // a stream with no byte for this long is reset
constexpr Duration kServingIdle = 30s;     // a served stream without request or progress is reset
constexpr Duration kServingSweep = 5s;
constexpr Duration kTick = 500ms;          // fetch upkeep: retries, re-discovery, idle streams
constexpr Duration kProgressInterval = 100ms;
// How often a fetch whose commit runs on the storage's worker asks whether
// it is over: adds at most this to a fetch, and wakes the loop little.
constexpr Duration kCommitPoll = 5ms;
constexpr Duration kFirstAnnounceDelay = 10s;
constexpr std::size_t kReannounceBatchesMax = 16;  // x announcement_entries_max newest objects per round
constexpr std::size_t kProvidesPerRoundMax = 64;   // DHT records started per round for objects not yet provided
constexpr std::size_t kProvidedMax = 100000;
constexpr std::size_t kPeerStatsMax = 4096;
constexpr std::size_t kRetiredMax = 4096;
constexpr std::size_t kHoldingsStreamsMax = 64;
constexpr std::size_t kAddrsPerHolderMax = 8;
constexpr Instant kNever{Duration::max()};

double seconds(Duration duration) { return std::chrono::duration<double>(duration).count(); }

bool bit(const Bytes& bitmap, std::uint64_t index) {
  return index / 8 < bitmap.size() && ((bitmap[index / 8] >> (index % 8)) & 1) != 0;
}

void set_bit(Bytes& bitmap, std::uint64_t index) {
  if (index / 8 < bitmap.size()) bitmap[index / 8] = static_cast<std::uint8_t>(bitmap[index / 8] | (1u << (index % 8)));
}

// Bytes of group `index` inside [begin, end).
std::uint64_t overlap(std::uint64_t size, std::uint64_t index, std::uint64_t begin, std::uint64_t end) {
  const std::uint64_t start = index * content::kGroupBytes;
  const std::uint64_t stop = std::min(size, start + content::kGroupBytes);
  const std::uint64_t from = std::max(start, begin);
  const std::uint64_t to = std::min(stop, end);
  return to > from ? to - from : 0;
}

}  // namespace

std::string_view to_string(FetchErrc code) {
  switch (code) {
    case FetchErrc::not_found: return "not_found";
    case FetchErrc::unavailable: return "unavailable";
    case FetchErrc::bad_range: return "bad_range";
    case FetchErrc::storage: return "storage";
    case FetchErrc::cancelled: return "cancelled";
    case FetchErrc::too_large: return "too_large";
    case FetchErrc::disabled: return "disabled";
  }
  return "unknown";
}

Bytes provider_key(const content::Hash& root) { return content::ContentId(root).to_cid().hash().bytes(); }

ContentBehaviour::ContentBehaviour(const PeerId& local, ContentStorage* storage, Instant now, ContentOptions options)
    : local_(local),
      storage_(storage),
      options_(std::move(options)),
      next_reannounce_(now + std::min(options_.reannounce_interval, kFirstAnnounceDelay)) {}

std::vector<std::string> ContentBehaviour::protocols() const {
  if (!storage_) return {};
  return {std::string(blob::protocol_id), std::string(blob::holdings_protocol_id)};
}

// ---- the holder index

void ContentBehaviour::index_add(const content::Hash& root, const PeerId& peer, std::uint64_t size,
                                 std::vector<Multiaddr> addrs, Instant expires) {
  if (options_.holders_per_content_max == 0 || options_.index_holders_max == 0) return;
  if (addrs.size() > kAddrsPerHolderMax) addrs.resize(kAddrsPerHolderMax);
  if (auto holders = index_.find(root); holders != index_.end()) {
    if (auto found = holders->second.find(peer); found != holders->second.end()) {
      expiry_.erase({found->second.expires, root, peer});
      found->second = Holding{size, std::move(addrs), expires};
      expiry_.insert({expires, root, peer});
      return;
    }
    if (holders->second.size() >= options_.holders_per_content_max) {
      // Full: the holder heard of least recently makes room, if it is older.
      auto victim = std::min_element(holders->second.begin(), holders->second.end(), [](const auto& a, const auto& b) {
        return a.second.expires < b.second.expires;
      });
      if (victim->second.expires >= expires) return;
      const PeerId evicted = victim->first;
      index_remove(root, evicted);
    }
  }
  if (index_size_ >= options_.index_holders_max) {
    const auto oldest = *expiry_.begin();
    if (std::get<0>(oldest) >= expires) return;
    index_remove(std::get<1>(oldest), std::get<2>(oldest));
  }
  index_[root].emplace(peer, Holding{size, std::move(addrs), expires});
  expiry_.insert({expires, root, peer});
  ++index_size_;
}

void ContentBehaviour::index_remove(const content::Hash& root, const PeerId& peer) {
  auto holders = index_.find(root);
  if (holders == index_.end()) return;
  auto found = holders->second.find(peer);
  if (found == holders->second.end()) return;
  expiry_.erase({found->second.expires, root, peer});
  holders->second.erase(found);
  --index_size_;
  if (holders->second.empty()) index_.erase(holders);
}

void ContentBehaviour::index_expire(Instant now) {
  while (!expiry_.empty() && std::get<0>(*expiry_.begin()) <= now) {
    const auto oldest = *expiry_.begin();
    index_remove(std::get<1>(oldest), std::get<2>(oldest));
  }
}

void ContentBehaviour::ingest(Instant now, const PeerId& holder, const blob::Announcement& announcement) {
  if (holder == local_) return;
  ++stats_.announcements_received;
  for (const auto& entry : announcement.entries) {
    if (announcement.withdraw) {
      index_remove(entry.root, holder);
    } else {
      index_add(entry.root, holder, entry.size, announcement.addrs, now + options_.holder_ttl);
    }
  }
}

void ContentBehaviour::on_announcement(Instant now, const PeerId& author, ByteView data) {
  if (!storage_) return;
  auto announcement = blob::decode_announcement(data);
  if (!announcement) {
    ++stats_.bad_announcements;
    return;
  }
  ingest(now, author, *announcement);
}

std::vector<HolderInfo> ContentBehaviour::content_holders(const content::Hash& root) const {
  std::vector<HolderInfo> holders;
  auto found = index_.find(root);
  if (found == index_.end()) return holders;
  for (const auto& [peer, holding] : found->second) {
    HolderInfo info{peer, holding.addrs, holding.size, connected_.count(peer) != 0, std::nullopt};
    if (auto stats = peer_stats_.find(peer); stats != peer_stats_.end()) info.throughput = stats->second.throughput;
    holders.push_back(std::move(info));
  }
  std::stable_sort(holders.begin(), holders.end(), [](const HolderInfo& a, const HolderInfo& b) {
    if (a.connected != b.connected) return a.connected;
    return a.throughput.value_or(0) > b.throughput.value_or(0);
  });
  return holders;
}

std::vector<HolderRecord> ContentBehaviour::export_holder_index() const {
  std::vector<HolderRecord> records;
  records.reserve(index_size_);
  for (const auto& [root, holders] : index_) {
    for (const auto& [peer, holding] : holders) records.push_back(HolderRecord{root, holding.size, peer, holding.addrs});
  }
  return records;
}

void ContentBehaviour::import_holder_index(Instant now, const std::vector<HolderRecord>& records) {
  for (const auto& record : records) {
    if (record.peer == local_) continue;
    std::vector<Multiaddr> addrs;
    for (const auto& addr : record.addrs) addrs.push_back(addr.peer_id() ? addr.without_peer_id() : addr);
    index_add(record.root, record.peer, record.size, std::move(addrs), now + options_.holder_ttl);
  }
}

// ---- announcing

void ContentBehaviour::announce(Instant now, const content::Hash& root, std::uint64_t size) {
  (void)now;
  blob::Announcement announcement{{blob::AnnouncedContent{root, size}}, listen_addrs_, false};
  commands_.push_back(content_command::Publish{blob::encode_announcement(announcement)});
  commands_.push_back(content_command::Provide{provider_key(root)});
  if (provided_.size() < kProvidedMax) provided_.insert(root);
}

void ContentBehaviour::announce_content(Instant now, const content::Hash& root, std::uint64_t size) {
  if (!storage_) return;
  announce(now, root, size);
}

void ContentBehaviour::withdraw_content(Instant now, const content::Hash& root) {
  (void)now;
  if (!storage_) return;
  blob::Announcement announcement{{blob::AnnouncedContent{root, 0}}, {}, true};
  commands_.push_back(content_command::Publish{blob::encode_announcement(announcement)});
  provided_.erase(root);
}

void ContentBehaviour::reannounce(Instant now) {
  next_reannounce_ = now + options_.reannounce_interval;
  if (!storage_) return;
  const std::vector<HeldContent> held = storage_->held();
  std::size_t provides = 0;
  for (std::size_t batch = 0; batch < kReannounceBatchesMax; ++batch) {
    const std::size_t first = batch * blob::announcement_entries_max;
    if (first >= held.size()) break;
    const std::size_t end = std::min(held.size(), first + blob::announcement_entries_max);
    blob::Announcement announcement{{}, listen_addrs_, false};
    for (std::size_t i = first; i < end; ++i) {
      announcement.entries.push_back(blob::AnnouncedContent{held[i].root, held[i].size});
      // Objects held before a restart have no provider record yet; kad
      // republishes the ones it knows.
      if (!provided_.count(held[i].root) && provides < kProvidesPerRoundMax && provided_.size() < kProvidedMax) {
        ++provides;
        provided_.insert(held[i].root);
        commands_.push_back(content_command::Provide{provider_key(held[i].root)});
      }
    }
    commands_.push_back(content_command::Publish{blob::encode_announcement(announcement)});
  }
}

// ---- connections

void ContentBehaviour::on_connected(Instant now, swarm::Swarm& swarm, const PeerId& peer) {
  connected_.insert(peer);
  std::vector<FetchId> waiting;
  for (auto& [id, fetch] : fetches_) {
    auto candidate = fetch.candidates.find(peer);
    if (candidate == fetch.candidates.end() || candidate->second.state != Candidate::State::dialing) continue;
    candidate->second.state = Candidate::State::untried;
    waiting.push_back(id);
  }
  for (auto id : waiting) drive(now, swarm, id);
}

void ContentBehaviour::on_identified(Instant now, swarm::Swarm& swarm, const PeerId& peer,
                                     const identify::Info& info) {
  (void)now;
  if (!storage_ || !swarm.is_connected(peer) || holdings_sent_.count(peer)) return;
  const bool speaks = std::find(info.protocols.begin(), info.protocols.end(), blob::holdings_protocol_id) !=
                      info.protocols.end();
  if (!speaks) return;
  holdings_sent_.insert(peer);
  Bytes frame = holdings_frame();
  if (frame.empty()) return;  // nothing to tell
  const auto token = next_token_++;
  holdings_out_.emplace(token, HoldingsOut{peer, std::move(frame), 0, std::nullopt});
  opens_.push_back(ContentOpen{token, peer, std::string(blob::holdings_protocol_id)});
}

void ContentBehaviour::on_disconnected(Instant now, swarm::Swarm& swarm, const PeerId& peer) {
  connected_.erase(peer);
  holdings_sent_.erase(peer);
  // Streams still opening die with the connection without a word.
  std::vector<std::uint64_t> orphaned;
  for (const auto& [token, transfer] : transfers_) {
    if (transfer.peer == peer) orphaned.push_back(token);
  }
  for (auto token : orphaned) end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the peer disconnected"});
  std::erase_if(holdings_out_, [&](const auto& entry) {
    if (entry.second.peer != peer) return false;
    if (entry.second.stream) holdings_out_streams_.erase(*entry.second.stream);
    return true;
  });
}

void ContentBehaviour::on_connection_closed(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection) {
  std::vector<std::uint64_t> broken;
  for (const auto& [key, token] : transfer_streams_) {
    if (key.first == connection) broken.push_back(token);
  }
  for (auto token : broken) end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the connection closed"});
  std::vector<StreamKey> served;
  for (const auto& [key, serving] : serving_) {
    if (key.first == connection) served.push_back(key);
  }
  for (const auto& key : served) drop_serving(now, swarm, key, false);
  std::erase_if(holdings_in_, [&](const auto& entry) { return entry.first.first == connection; });
  for (auto it = holdings_out_streams_.begin(); it != holdings_out_streams_.end();) {
    if (it->first.first != connection) {
      ++it;
      continue;
    }
    holdings_out_.erase(it->second);
    it = holdings_out_streams_.erase(it);
  }
  for (auto it = retired_.begin(); it != retired_.end();) it = it->first == connection ? retired_.erase(it) : std::next(it);
}

void ContentBehaviour::on_dial_failed(Instant now, swarm::Swarm& swarm, const PeerId& peer) {
  std::vector<FetchId> affected;
  for (auto& [id, fetch] : fetches_) {
    auto candidate = fetch.candidates.find(peer);
    if (candidate == fetch.candidates.end() || candidate->second.state != Candidate::State::dialing) continue;
    candidate->second.state = Candidate::State::failed;
    candidate->second.retry_at = now + kDialRetry;
    affected.push_back(id);
  }
  for (auto id : affected) drive(now, swarm, id);
}

// ---- streams

void ContentBehaviour::retire(const StreamKey& key) {
  if (!retired_.insert(key).second) return;
  retired_order_.push_back(key);
  while (retired_order_.size() > kRetiredMax) {
    retired_.erase(retired_order_.front());
    retired_order_.pop_front();
  }
}

void ContentBehaviour::on_inbound_stream(Instant now, swarm::Swarm& swarm,
                                         const swarm::swarm_event::StreamOpened& opened) {
  const StreamKey key{opened.connection, opened.stream};
  if (!storage_) {
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  if (opened.protocol == blob::holdings_protocol_id) {
    const bool again = std::any_of(holdings_in_.begin(), holdings_in_.end(),
                                   [&](const auto& entry) { return entry.second.peer == opened.peer; });
    if (again || holdings_in_.size() >= kHoldingsStreamsMax) {
      swarm.reset(now, opened.connection, opened.stream);
      return;
    }
    holdings_in_.emplace(key, HoldingsIn{opened.peer});
    pump_holdings_in(now, swarm, key);
    return;
  }
  auto& per_peer = serving_per_peer_[opened.peer];
  if (serving_.size() >= options_.serving_streams_max || per_peer >= options_.serving_streams_per_peer_max) {
    if (per_peer == 0) serving_per_peer_.erase(opened.peer);
    ++stats_.serving_refused;
    swarm.reset(now, opened.connection, opened.stream);
    return;
  }
  ++per_peer;
  ++stats_.streams_served;
  serving_.emplace(key, Serving{opened.peer, blob::Server(options_.server), {}, 0, now});
  if (!next_serving_sweep_) next_serving_sweep_ = now + kServingSweep;
  pump_serving(now, swarm, key);
}

void ContentBehaviour::on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                          swarm::ConnectionId connection, swarm::StreamId stream) {
  const StreamKey key{connection, stream};
  if (auto out = holdings_out_.find(token); out != holdings_out_.end()) {
    out->second.stream = key;
    holdings_out_streams_[key] = token;
    pump_holdings_out(now, swarm, token);
    return;
  }
  auto found = transfers_.find(token);
  if (found == transfers_.end()) {
    swarm.reset(now, connection, stream);
    return;
  }
  found->second.stream = key;
  found->second.last_activity = now;
  transfer_streams_[key] = token;
  reserve_range_window(now, swarm, found->second);
  pump_transfer(now, swarm, token);
}

// A range stream is a bulk download read as fast as it arrives: granting its
// whole encoded size up front saves the round trips Yamux's window tuning
// needs (each range is a fresh stream that would start at 256 KiB).
void ContentBehaviour::reserve_range_window(Instant now, swarm::Swarm& swarm, const Transfer& transfer) {
  if (!transfer.assignment || !transfer.stream) return;
  const auto fetch = fetches_.find(transfer.fetch);
  if (fetch == fetches_.end() || !fetch->second.size) return;
  const auto encoded = content::encoded_range_bytes(transfer.assignment->bytes, *fetch->second.size);
  if (!encoded) return;
  const std::size_t reply_header_bytes = 64;  // the HAVE answer before the body: generous
  swarm.reserve_receive_window(now, transfer.stream->first, transfer.stream->second,
                               static_cast<std::size_t>(*encoded) + reply_header_bytes);
}

void ContentBehaviour::on_open_failed(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  if (holdings_out_.erase(token)) return;
  end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the stream could not be opened"});
}

bool ContentBehaviour::on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection,
                                       swarm::StreamId stream, bool closed) {
  const StreamKey key{connection, stream};
  if (auto transfer = transfer_streams_.find(key); transfer != transfer_streams_.end()) {
    const auto token = transfer->second;
    pump_transfer(now, swarm, token);
    if (closed && transfers_.count(token)) {
      end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the stream closed early"});
    }
    return true;
  }
  if (serving_.count(key)) {
    pump_serving(now, swarm, key);
    if (closed) drop_serving(now, swarm, key, false);
    return true;
  }
  if (auto out = holdings_out_streams_.find(key); out != holdings_out_streams_.end()) {
    const auto token = out->second;
    if (closed) {
      holdings_out_.erase(token);
      holdings_out_streams_.erase(out);
    } else {
      pump_holdings_out(now, swarm, token);
    }
    return true;
  }
  if (holdings_in_.count(key)) {
    pump_holdings_in(now, swarm, key);
    if (closed) holdings_in_.erase(key);
    return true;
  }
  if (retired_.count(key)) {
    if (closed) {
      retired_.erase(key);
    } else {
      (void)swarm.read(now, connection, stream, kReadBytes);  // nothing is expected: drain it
    }
    return true;
  }
  return false;
}

// ---- serving

std::size_t ContentBehaviour::rate_allowance(Instant now, const PeerId& peer) {
  const double rate = options_.serving_bytes_per_second_per_peer;
  if (rate <= 0) return std::numeric_limits<std::size_t>::max();
  // A quarter second of burst, and at least a group, so a stream never starves.
  const double burst = std::max(rate / 4, static_cast<double>(content::kGroupBytes));
  auto [it, fresh] = rates_.try_emplace(peer);
  RateBucket& bucket = it->second;
  if (fresh) {
    bucket.tokens = burst;
    bucket.refilled = now;
  }
  bucket.tokens = std::min(burst, bucket.tokens + seconds(now - bucket.refilled) * rate);
  bucket.refilled = now;
  if (bucket.tokens < 1) {
    const double wait = (std::min(burst, static_cast<double>(content::kGroupBytes)) - bucket.tokens) / rate;
    const Instant wakeup = now + std::chrono::duration_cast<Duration>(std::chrono::duration<double>(wait));
    if (!rate_wakeup_ || wakeup < *rate_wakeup_) rate_wakeup_ = wakeup;
    return 0;
  }
  return static_cast<std::size_t>(bucket.tokens);
}

void ContentBehaviour::spend_rate(const PeerId& peer, std::size_t bytes) {
  if (auto it = rates_.find(peer); it != rates_.end()) it->second.tokens -= static_cast<double>(bytes);
}

bool ContentBehaviour::answer_request(Serving& serving, const blob::Request& request) {
  const auto size = storage_->size_of(request.root);
  if (!size) return static_cast<bool>(serving.server.respond_dont_have());
  if (request.size_only) return static_cast<bool>(serving.server.respond_have(*size));
  const std::uint64_t length = request.offset < *size ? std::min(request.length, *size - request.offset) : 0;
  if (length > options_.server.range_bytes_max) {
    (void)serving.server.respond_have(*size);  // the core answers RANGE_TOO_LARGE itself
    return true;
  }
  auto encoding = storage_->encode_range(request.root, content::ByteRange{request.offset, length});
  if (!encoding) {
    return static_cast<bool>(serving.server.respond_error(blob::RemoteErrc::internal, encoding.error().text));
  }
  auto body = serving.server.respond_have(*size);
  if (!body) return true;  // refused on the wire by the core
  if (*body != encoding->size()) return false;  // our store disagrees with the tree: reset
  serving.encoding = std::move(*encoding);
  serving.pushed = 0;
  return true;
}

void ContentBehaviour::drop_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key, bool reset) {
  auto found = serving_.find(key);
  if (found == serving_.end()) return;
  if (reset) swarm.reset(now, key.first, key.second);
  const PeerId peer = found->second.peer;
  // The peer's rate bucket outlives its streams: fetchers open one stream per
  // range, and a fresh bucket per range would hand out a new burst each time.
  // sweep_serving forgets it once it has refilled.
  if (auto count = serving_per_peer_.find(peer); count != serving_per_peer_.end() && --count->second == 0) {
    serving_per_peer_.erase(count);
  }
  serving_.erase(found);
}

void ContentBehaviour::sweep_serving(Instant now, swarm::Swarm& swarm) {
  std::vector<StreamKey> idle;
  for (const auto& [key, serving] : serving_) {
    if (now - serving.last_activity >= kServingIdle) idle.push_back(key);
  }
  stats_.serving_idle_reset += idle.size();
  for (const auto& key : idle) drop_serving(now, swarm, key, true);
  // A bucket idle long enough to be full again is the same as no bucket (a
  // group refills in 0.13 s at the lowest configurable rate, 1 Mbit/s).
  std::erase_if(rates_, [&](const auto& entry) {
    return !serving_per_peer_.count(entry.first) && now - entry.second.refilled >= kServingSweep;
  });
  const bool more = !serving_.empty() || !rates_.empty();
  next_serving_sweep_ = more ? std::optional<Instant>(now + kServingSweep) : std::nullopt;
}

void ContentBehaviour::pump_serving(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = serving_.find(key);
  if (found == serving_.end()) return;
  Serving& serving = found->second;
  const PeerId peer = serving.peer;
  const auto drop = [&](bool reset) { drop_serving(now, swarm, key, reset); };
  while (serving.server.wants_input()) {
    auto chunk = swarm.read(now, key.first, key.second, blob::request_bytes_max + 16);
    if (!chunk) return drop(false);
    if (!chunk->data.empty()) serving.last_activity = now;
    if (!chunk->data.empty() && !serving.server.handle_data(chunk->data)) return drop(true);
    if (chunk->finished && !serving.server.handle_end()) return drop(true);
    if (chunk->data.empty()) break;
  }
  if (auto request = serving.server.poll_request()) {
    if (!answer_request(serving, *request)) return drop(true);
  }
  for (bool progressed = true; progressed;) {
    progressed = false;
    if (serving.pushed < serving.encoding.size() && serving.server.wants_body()) {
      const std::size_t remaining = serving.encoding.size() - serving.pushed;
      const std::size_t take = std::min({serving.server.body_room(), rate_allowance(now, peer), remaining});
      if (take > 0) {
        auto taken = serving.server.push_body(ByteView(serving.encoding).subspan(serving.pushed, take));
        if (!taken) return drop(true);
        serving.pushed += *taken;
        spend_rate(peer, *taken);
        progressed = *taken > 0;
        if (serving.pushed == serving.encoding.size()) {
          serving.encoding = Bytes{};  // all handed to the core: free it
          serving.pushed = 0;
        }
      }
    }
    const ByteView out = serving.server.pending_output();
    if (!out.empty()) {
      auto written = swarm.write(now, key.first, key.second, out);
      if (!written) return drop(false);
      if (*written > 0) {
        serving.server.consume_output(*written);
        stats_.bytes_served += *written;
        serving.last_activity = now;
        progressed = true;
      }
    }
  }
  if (serving.server.close_write_due()) {
    (void)swarm.close_write(now, key.first, key.second);
    retire(key);
    drop(false);
  }
}

// ---- the holdings exchange

Bytes ContentBehaviour::holdings_frame() {
  std::vector<HeldContent> held = storage_->held();
  if (held.empty()) return {};
  blob::Announcement announcement{{}, listen_addrs_, false};
  for (std::size_t i = 0; i < held.size() && i < blob::announcement_entries_max; ++i) {
    announcement.entries.push_back(blob::AnnouncedContent{held[i].root, held[i].size});
  }
  return blob::frame(blob::encode_announcement(announcement));
}

void ContentBehaviour::pump_holdings_out(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto found = holdings_out_.find(token);
  if (found == holdings_out_.end() || !found->second.stream) return;
  HoldingsOut& out = found->second;
  const StreamKey key = *out.stream;
  while (out.sent < out.frame.size()) {
    auto written = swarm.write(now, key.first, key.second, ByteView(out.frame).subspan(out.sent));
    if (!written) {
      holdings_out_streams_.erase(key);
      holdings_out_.erase(found);
      return;
    }
    if (*written == 0) return;  // StreamWritable follows
    out.sent += *written;
  }
  (void)swarm.close_write(now, key.first, key.second);
  retire(key);
  holdings_out_streams_.erase(key);
  holdings_out_.erase(found);
}

void ContentBehaviour::pump_holdings_in(Instant now, swarm::Swarm& swarm, const StreamKey& key) {
  auto found = holdings_in_.find(key);
  if (found == holdings_in_.end()) return;
  HoldingsIn& in = found->second;
  const auto refuse = [&] {
    ++stats_.bad_announcements;
    swarm.reset(now, key.first, key.second);
    holdings_in_.erase(key);
  };
  while (true) {
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) {
      holdings_in_.erase(key);
      return;
    }
    if (!chunk->data.empty()) {
      auto taken = in.reader.handle_data(chunk->data);
      if (!taken || *taken < chunk->data.size()) return refuse();
      if (in.reader.complete()) {
        auto announcement = blob::decode_announcement(in.reader.body());
        if (!announcement) return refuse();
        ingest(now, in.peer, *announcement);
        (void)swarm.close_write(now, key.first, key.second);
        retire(key);
        holdings_in_.erase(key);
        return;
      }
    }
    if (chunk->finished) {
      holdings_in_.erase(key);  // ended inside the message: nothing to learn
      return;
    }
    if (chunk->data.empty()) return;
  }
}

// ---- fetching: commands

FetchId ContentBehaviour::fetch(Instant now, swarm::Swarm& swarm, const content::Hash& root,
                                std::optional<content::ByteRange> range) {
  Fetch fetch;
  fetch.root = root;
  fetch.requested = range;
  return start_fetch(now, swarm, std::move(fetch));
}

FetchId ContentBehaviour::start_fetch(Instant now, swarm::Swarm& swarm, Fetch fetch) {
  const FetchId id = next_fetch_++;
  fetch.id = id;
  const auto refuse = [&](FetchErrc code, std::string detail) {
    ++stats_.fetches_failed;
    events_.push_back(content_event::FetchFinished{id, fetch.root, unexpected(FetchError{code, std::move(detail)}),
                                                   false, {}});
    return id;
  };
  if (!storage_) return refuse(FetchErrc::disabled, "content exchange is off: this node has no storage");
  if (fetches_.size() >= options_.fetches_max) {
    return refuse(FetchErrc::unavailable, "too many fetches at once (fetches_max)");
  }
  // One fetch per root works on the partial; the others wait for it.
  fetch.waiting = std::any_of(fetches_.begin(), fetches_.end(),
                              [&](const auto& entry) { return entry.second.root == fetch.root; });
  fetches_.emplace(id, std::move(fetch));
  if (!fetches_.at(id).waiting) begin(now, swarm, id);
  return id;
}

void ContentBehaviour::begin(Instant now, swarm::Swarm& swarm, FetchId id) {
  auto found = fetches_.find(id);
  if (found == fetches_.end()) return;
  Fetch& fetch = found->second;
  fetch.waiting = false;
  if (auto held = storage_->size_of(fetch.root)) {
    if (fetch.requested && fetch.requested->offset >= *held && !(*held == 0 && fetch.requested->offset == 0)) {
      return finish(now, swarm, id, unexpected(FetchError{FetchErrc::bad_range, "the range starts past the end"}),
                    false);
    }
    return finish(now, swarm, id, *held, false);
  }
  fetch.deadline = now + options_.discovery_timeout;
  if (!next_tick_) next_tick_ = now + kTick;
  drive(now, swarm, id);
}

void ContentBehaviour::cancel_fetch(Instant now, swarm::Swarm& swarm, FetchId id) {
  auto found = fetches_.find(id);
  if (found == fetches_.end()) return;
  if (found->second.committing) {
    // The storage owns the partial until its commit is over.
    found->second.cancel_after_commit = true;
    return;
  }
  finish(now, swarm, id, unexpected(FetchError{FetchErrc::cancelled, "cancelled"}), false);
}

// ---- fetching: discovery and selection

void ContentBehaviour::add_candidate(Fetch& fetch, const PeerId& peer, const std::vector<Multiaddr>& addrs) {
  if (peer == local_) return;
  if (!fetch.candidates.count(peer) && fetch.candidates.size() >= kCandidatesPerFetchMax) return;
  Candidate& candidate = fetch.candidates[peer];
  for (const auto& addr : addrs) {
    if (candidate.addrs.size() >= kAddrsPerHolderMax) break;
    const Multiaddr plain = addr.peer_id() ? addr.without_peer_id() : addr;
    if (std::find(candidate.addrs.begin(), candidate.addrs.end(), plain) == candidate.addrs.end()) {
      candidate.addrs.push_back(plain);
    }
  }
}

double ContentBehaviour::cost(const swarm::Swarm& swarm, const PeerId& peer) const {
  double value = connected_.count(peer) ? 0 : 0.5;  // a dial costs round trips
  const auto* info = swarm.peerstore().find(peer);
  value += info && info->rtt ? seconds(*info->rtt) : 0.2;
  if (auto stats = peer_stats_.find(peer); stats != peer_stats_.end()) {
    value += 0.5 * static_cast<double>(stats->second.failures) + 10.0 * static_cast<double>(stats->second.bad_data);
    // Time to move a MiB at the speed it showed before.
    value += stats->second.throughput && *stats->second.throughput > 0 ? 1048576.0 / *stats->second.throughput : 0.1;
  } else {
    value += 0.1;
  }
  return value;
}

std::vector<PeerId> ContentBehaviour::ranked_candidates(const swarm::Swarm& swarm, const Fetch& fetch,
                                                        Candidate::State state) const {
  std::vector<std::pair<double, PeerId>> ranked;
  for (const auto& [peer, candidate] : fetch.candidates) {
    if (candidate.state == state && !candidate.bad) ranked.push_back({cost(swarm, peer), peer});
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<PeerId> peers;
  for (auto& [value, peer] : ranked) peers.push_back(std::move(peer));
  return peers;
}

void ContentBehaviour::discover(Instant now, swarm::Swarm& swarm, Fetch& fetch) {
  if (!fetch.dht_token && now >= fetch.next_dht) {
    const auto token = next_token_++;
    fetch.dht_token = token;
    fetch.next_dht = now + kDhtRetry;
    dht_lookups_[token] = fetch.id;
    commands_.push_back(content_command::FindProviders{token, provider_key(fetch.root)});
  }
  // Ask connected peers that serve blobs: a holder that never announced
  // (or whose announcement we missed) still answers.
  std::size_t asking = static_cast<std::size_t>(std::count_if(transfers_.begin(), transfers_.end(), [&](const auto& entry) {
    return entry.second.fetch == fetch.id && entry.second.kind == TransferKind::ask;
  }));
  for (const auto& peer : connected_) {
    if (asking >= kAsksPerFetchMax) break;
    if (fetch.candidates.count(peer) || fetch.asked.count(peer)) continue;
    const auto* info = swarm.peerstore().find(peer);
    if (!info || std::find(info->protocols.begin(), info->protocols.end(), blob::protocol_id) == info->protocols.end()) {
      continue;
    }
    fetch.asked.insert(peer);
    open_transfer(fetch, peer, TransferKind::ask, blob::Client::for_size(fetch.root), std::nullopt, now);
    ++asking;
  }
}

void ContentBehaviour::on_providers(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                    const std::vector<std::pair<PeerId, std::vector<Multiaddr>>>& providers) {
  auto lookup = dht_lookups_.find(token);
  if (lookup == dht_lookups_.end()) return;
  const FetchId id = lookup->second;
  dht_lookups_.erase(lookup);
  auto found = fetches_.find(id);
  if (found == fetches_.end()) return;
  found->second.dht_token.reset();
  for (const auto& [peer, addrs] : providers) add_candidate(found->second, peer, addrs);
  drive(now, swarm, id);
}

std::uint64_t ContentBehaviour::open_transfer(Fetch& fetch, const PeerId& peer, TransferKind kind, blob::Client client,
                                              std::optional<blob::Assignment> assignment, Instant now) {
  const auto token = next_token_++;
  transfers_.emplace(token, Transfer{fetch.id, peer, kind, assignment, std::move(client), std::nullopt, now, 0, false});
  // Lazy: the request follows the protocol proposal in the same flight. A
  // range's first byte then costs one round trip, not two.
  opens_.push_back(ContentOpen{token, peer, std::string(blob::protocol_id), swarm::Negotiation::lazy});
  return token;
}

void ContentBehaviour::drive(Instant now, swarm::Swarm& swarm, FetchId id) {
  auto found = fetches_.find(id);
  if (found == fetches_.end() || found->second.waiting || found->second.committing) return;
  Fetch& fetch = found->second;

  if (auto holders = index_.find(fetch.root); holders != index_.end()) {
    for (const auto& [peer, holding] : holders->second) add_candidate(fetch, peer, holding.addrs);
  }
  std::size_t dialing = 0;
  std::size_t probing = 0;
  std::size_t active = 0;
  for (auto& [peer, candidate] : fetch.candidates) {
    if (candidate.state == Candidate::State::failed && !candidate.bad && now >= candidate.retry_at) {
      candidate.state = Candidate::State::untried;
    }
    if (candidate.state == Candidate::State::dialing && now - candidate.dial_started >= kDialTimeout) {
      candidate.state = Candidate::State::failed;
      candidate.retry_at = now + kDialRetry;
    }
    dialing += candidate.state == Candidate::State::dialing;
    probing += candidate.state == Candidate::State::probing;
    active += candidate.state == Candidate::State::active;
  }

  for (const PeerId& peer : ranked_candidates(swarm, fetch, Candidate::State::untried)) {
    Candidate& candidate = fetch.candidates.at(peer);
    if (connected_.count(peer)) {
      if (!fetch.size) {
        if (probing >= kProbesPerFetchMax) continue;
        // The cheapest answer that proves the size: the last group and its path.
        auto client = blob::Client::for_range(fetch.root, content::ByteRange{0, 0});
        if (!client) continue;
        candidate.state = Candidate::State::probing;
        ++probing;
        open_transfer(fetch, peer, TransferKind::probe, std::move(*client), std::nullopt, now);
      } else {
        if (active >= kActiveHoldersPerFetchMax) continue;
        activate(now, fetch, peer);
        active += candidate.state == Candidate::State::active;
      }
    } else if (dialing < kDialsPerFetchMax) {
      if (candidate.addrs.empty()) {
        // A provider record without addresses: the peerstore may know some.
        if (const auto* info = swarm.peerstore().find(peer)) {
          for (const auto& addr : info->addrs) {
            if (candidate.addrs.size() >= kAddrsPerHolderMax) break;
            candidate.addrs.push_back(addr);
          }
        }
        if (candidate.addrs.empty()) continue;
      }
      candidate.state = Candidate::State::dialing;
      candidate.dial_started = now;
      ++dialing;
      commands_.push_back(content_command::Dial{peer, candidate.addrs});
    }
  }

  if (fetch.plan) {
    reap_cancelled(now, swarm, fetch);
    for (const auto& [peer, candidate] : fetch.candidates) {
      if (candidate.state != Candidate::State::active) continue;
      const blob::HolderId holder = fetch.holder_ids.at(peer);
      while (auto assignment = fetch.plan->next_assignment(holder, now)) {
        auto client = blob::Client::for_range(fetch.root, assignment->bytes);
        if (!client) {
          fetch.plan->finish_assignment(holder, assignment->range_index);
          break;
        }
        open_transfer(fetch, peer, TransferKind::range, std::move(*client), *assignment, now);
      }
    }
    if (fetch.plan->done()) return complete(now, swarm, id);
  }

  const bool working = std::any_of(fetch.candidates.begin(), fetch.candidates.end(), [](const auto& entry) {
    const auto state = entry.second.state;
    return state == Candidate::State::dialing || state == Candidate::State::probing ||
           state == Candidate::State::active;
  });
  if (!working) {
    if (!fetch.deadline) {
      // Holders ran out with work left: a new round of discovery.
      fetch.deadline = now + options_.discovery_timeout;
      fetch.asked.clear();
    }
    discover(now, swarm, fetch);
  }
}

void ContentBehaviour::activate(Instant now, Fetch& fetch, const PeerId& peer) {
  Candidate& candidate = fetch.candidates.at(peer);
  if (!fetch.plan) return;
  if (!fetch.holder_ids.count(peer)) {
    const blob::HolderId holder{fetch.next_holder++};
    if (!fetch.plan->add_holder(holder, now)) {
      candidate.state = Candidate::State::failed;
      candidate.retry_at = now + kBusyRetry;
      return;
    }
    fetch.holder_ids.emplace(peer, holder);
    fetch.holder_peers.emplace(holder.value, peer);
  } else if (!fetch.plan->has_holder(fetch.holder_ids.at(peer))) {
    if (!fetch.plan->add_holder(fetch.holder_ids.at(peer), now)) {
      candidate.state = Candidate::State::failed;
      candidate.retry_at = now + kBusyRetry;
      return;
    }
  }
  candidate.state = Candidate::State::active;
}

// ---- fetching: transfers

void ContentBehaviour::pump_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto found = transfers_.find(token);
  if (found == transfers_.end() || !found->second.stream) return;
  Transfer& transfer = found->second;
  const StreamKey key = *transfer.stream;
  while (!transfer.client.pending_output().empty()) {
    auto written = swarm.write(now, key.first, key.second, transfer.client.pending_output());
    if (!written) return end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the stream is gone"});
    if (*written == 0) return;  // StreamWritable follows
    transfer.client.consume_output(*written);
  }
  if (transfer.client.close_write_due() && !transfer.write_closed) {
    transfer.write_closed = true;
    (void)swarm.close_write(now, key.first, key.second);
  }
  while (true) {
    auto current = transfers_.find(token);
    if (current == transfers_.end()) return;
    Transfer& t = current->second;
    if (!t.client.wants_input()) return;
    auto chunk = swarm.read(now, key.first, key.second, kReadBytes);
    if (!chunk) return end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "the stream is gone"});
    if (!chunk->data.empty()) {
      t.last_activity = now;
      stats_.bytes_fetched += chunk->data.size();
      auto fed = t.client.handle_data(chunk->data);
      take_groups(now, swarm, token);  // groups verified before a failure are good
      if (!transfers_.count(token)) return;
      if (!fed) return end_transfer(now, swarm, token, fed.error());
    }
    if (transfers_.at(token).client.done()) return end_transfer(now, swarm, token, std::nullopt);
    if (chunk->finished) {
      auto ended = transfers_.at(token).client.handle_end();
      return end_transfer(now, swarm, token, ended ? std::nullopt : std::optional<blob::BlobError>(ended.error()));
    }
    if (chunk->data.empty()) return;
  }
}

void ContentBehaviour::take_groups(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto found = transfers_.find(token);
  if (found == transfers_.end()) return;
  Transfer& transfer = found->second;
  auto fetch_it = fetches_.find(transfer.fetch);
  if (fetch_it == fetches_.end()) return;
  Fetch& fetch = fetch_it->second;
  const FetchId id = fetch.id;
  if (fetch.plan) {
    if (auto holder = fetch.holder_ids.find(transfer.peer); holder != fetch.holder_ids.end()) {
      fetch.plan->record_progress(holder->second, transfer.client.received_bytes() - transfer.received, now);
    }
  }
  transfer.received = transfer.client.received_bytes();
  while (auto group = transfer.client.poll_group()) {
    if (!fetch.plan) {
      // A probe's groups prove the size; they are written once the partial is open.
      if (fetch.early_groups.empty()) fetch.early_groups.push_back({transfer.peer, std::move(*group)});
      continue;
    }
    if (!store_group(now, fetch, transfer.peer, *group)) {
      return finish(now, swarm, id, unexpected(FetchError{FetchErrc::storage, "writing a verified group failed"}),
                    false);
    }
  }
  reap_cancelled(now, swarm, fetch);
  if (fetch.plan && fetch.plan->done()) complete(now, swarm, id);
}

void ContentBehaviour::reap_cancelled(Instant now, swarm::Swarm& swarm, Fetch& fetch) {
  if (!fetch.plan) return;
  while (auto cancelled = fetch.plan->poll_cancelled()) {
    auto peer = fetch.holder_peers.find(cancelled->holder.value);
    if (peer == fetch.holder_peers.end()) continue;
    std::optional<std::uint64_t> duplicate;
    for (const auto& [token, transfer] : transfers_) {
      if (transfer.fetch == fetch.id && transfer.peer == peer->second && transfer.kind == TransferKind::range &&
          transfer.assignment && transfer.assignment->range_index == cancelled->range_index) {
        duplicate = token;
        break;
      }
    }
    // Another holder completed the range: this copy is pointless.
    if (duplicate) reset_transfer(now, swarm, *duplicate);
  }
}

bool ContentBehaviour::store_group(Instant now, Fetch& fetch, const PeerId& from, const content::VerifiedGroup& group) {
  const auto holder = fetch.holder_ids.find(from);
  const blob::HolderId id = holder != fetch.holder_ids.end() ? holder->second : blob::HolderId{0};
  if (!fetch.plan->record_group(id, group.index)) {
    // Outside a range fetch's wanted groups (the last group proving the
    // size): verified all the same, so keep it for a later fetch.
    const bool outside = group.index < fetch.wanted_first_group || group.index >= fetch.wanted_end_group;
    if (outside && !bit(fetch.stored, group.index) && storage_->write_group(fetch.root, group)) {
      set_bit(fetch.stored, group.index);
    }
    return true;
  }
  if (!storage_->write_group(fetch.root, group)) return false;
  set_bit(fetch.stored, group.index);
  fetch.verified_bytes += overlap(*fetch.size, group.index, fetch.wanted_offset, fetch.wanted_end);
  if (std::find(fetch.served_by.begin(), fetch.served_by.end(), from) == fetch.served_by.end()) {
    fetch.served_by.push_back(from);
  }
  fetch.deadline.reset();
  fetch.progress_due = true;
  emit_progress(now, fetch, false);
  return true;
}

Expected<void, FetchError> ContentBehaviour::size_proven(Instant now, Fetch& fetch, std::uint64_t size) {
  std::uint64_t offset = 0;
  std::uint64_t end = size;
  if (fetch.requested) {
    offset = fetch.requested->offset;
    if (offset >= size && !(size == 0 && offset == 0)) {
      return unexpected(FetchError{FetchErrc::bad_range, "the range starts at " + std::to_string(offset) +
                                                              ", past the end of content of " + std::to_string(size) +
                                                              " bytes"});
    }
    end = offset + std::min(fetch.requested->length, size - offset);
  }
  if (size > blob::plan_content_bytes_max) {
    return unexpected(FetchError{FetchErrc::too_large, "content of " + std::to_string(size) + " bytes is too large"});
  }
  auto plan = blob::RangePlan::create(size, options_.plan);
  if (!plan) {
    return unexpected(FetchError{FetchErrc::unavailable, "cannot plan the fetch: " + plan.error().detail});
  }
  auto bitmap = storage_->open_partial(fetch.root, size);
  if (!bitmap) {
    return unexpected(FetchError{FetchErrc::storage, "opening the partial download failed: " + bitmap.error().text});
  }
  fetch.partial_open = true;
  const std::uint64_t groups = content::group_count(size);
  if (bitmap->size() != (groups + 7) / 8) {
    return unexpected(FetchError{FetchErrc::storage, "the partial's bitmap has the wrong length"});
  }
  fetch.stored = *bitmap;
  fetch.wanted_offset = offset;
  fetch.wanted_end = end;
  fetch.wanted_first_group = offset / content::kGroupBytes;
  fetch.wanted_end_group = size == 0 ? 1 : std::max<std::uint64_t>(fetch.wanted_first_group + 1,
                                                                   (end + content::kGroupBytes - 1) / content::kGroupBytes);
  // Groups outside the wanted range count as done for the plan, so only
  // the needed ranges are asked for.
  Bytes restore = fetch.stored;
  for (std::uint64_t group = 0; group < groups; ++group) {
    if (group < fetch.wanted_first_group || group >= fetch.wanted_end_group) set_bit(restore, group);
  }
  if (auto restored = plan->restore(restore); !restored) {
    return unexpected(FetchError{FetchErrc::storage, "the partial's bitmap is invalid: " + restored.error().detail});
  }
  fetch.plan.emplace(std::move(*plan));
  fetch.size = size;
  fetch.contiguous_group = fetch.wanted_first_group;
  fetch.deadline.reset();
  for (std::uint64_t group = fetch.wanted_first_group; group < fetch.wanted_end_group; ++group) {
    if (bit(fetch.stored, group)) fetch.verified_bytes += overlap(size, group, offset, end);
  }
  emit_progress(now, fetch, true);  // the size is known
  auto early = std::move(fetch.early_groups);
  fetch.early_groups.clear();
  for (const auto& [peer, group] : early) {
    if (!store_group(now, fetch, peer, group)) {
      return unexpected(FetchError{FetchErrc::storage, "writing a verified group failed"});
    }
  }
  return {};
}

void ContentBehaviour::end_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token,
                                    std::optional<blob::BlobError> error) {
  auto found = transfers_.find(token);
  if (found == transfers_.end()) return;
  Transfer transfer = std::move(found->second);
  transfers_.erase(found);
  if (transfer.stream) {
    transfer_streams_.erase(*transfer.stream);
    if (error) {
      swarm.reset(now, transfer.stream->first, transfer.stream->second);
    } else {
      retire(*transfer.stream);
    }
  }
  auto fetch_it = fetches_.find(transfer.fetch);
  if (fetch_it == fetches_.end()) return;
  Fetch& fetch = fetch_it->second;
  const FetchId id = fetch.id;
  const PeerId peer = transfer.peer;

  if (transfer.kind == TransferKind::ask) {
    if (!error && transfer.client.size()) {
      fetch.holder_seen = true;
      add_candidate(fetch, peer, {});
    }
    return drive(now, swarm, id);
  }
  if (transfer.kind == TransferKind::range && transfer.assignment && fetch.plan) {
    if (auto holder = fetch.holder_ids.find(peer); holder != fetch.holder_ids.end()) {
      fetch.plan->finish_assignment(holder->second, transfer.assignment->range_index);
    }
  }
  auto candidate_it = fetch.candidates.find(peer);
  if (candidate_it == fetch.candidates.end()) return drive(now, swarm, id);
  Candidate& candidate = candidate_it->second;

  if (!error) {
    candidate.failures = 0;
    if (transfer.kind == TransferKind::probe) {
      fetch.holder_seen = true;
      if (!fetch.size && transfer.client.size()) {
        // The first verified answer: the size is proven.
        // An empty range asks for the size only (HEAD): the proof is the answer.
        if (fetch.requested && fetch.requested->length == 0) {
          return finish(now, swarm, id, *transfer.client.size(), false);
        }
        if (auto planned = size_proven(now, fetch, *transfer.client.size()); !planned) {
          return finish(now, swarm, id, unexpected(std::move(planned).error()), false);
        }
      }
      if (candidate.state == Candidate::State::probing) activate(now, fetch, peer);
    } else {
      remember_throughput(fetch, peer);
    }
    return drive(now, swarm, id);
  }

  PeerStats& stats = stats_of(peer);
  switch (error->code) {
    case blob::Errc::bad_group:
      // Data that does not hash to the id: this peer is done for this content.
      ++stats_.bad_groups;
      ++stats.bad_data;
      drop_holder(now, swarm, fetch, peer, true);
      break;
    case blob::Errc::dont_have:
      drop_holder(now, swarm, fetch, peer, false);
      break;
    case blob::Errc::remote_error:
      drop_holder(now, swarm, fetch, peer, false);
      if (error->remote == blob::RemoteErrc::busy) fetch.candidates.at(peer).retry_at = now + kBusyRetry;
      break;
    case blob::Errc::truncated:
      ++candidate.failures;
      ++stats.failures;
      if (!connected_.count(peer) || candidate.failures >= kFailuresBeforeDrop) {
        drop_holder(now, swarm, fetch, peer, false);
        fetch.candidates.at(peer).retry_at = now + (connected_.count(peer) ? kBusyRetry : kDialRetry);
      } else if (candidate.state == Candidate::State::probing) {
        candidate.state = Candidate::State::untried;  // probe again
      }
      break;
    default:
      // A malformed or contradictory answer: a broken or hostile peer.
      ++stats.failures;
      drop_holder(now, swarm, fetch, peer, false);
      break;
  }
  drive(now, swarm, id);
}

void ContentBehaviour::drop_holder(Instant now, swarm::Swarm& swarm, Fetch& fetch, const PeerId& peer, bool bad) {
  auto candidate = fetch.candidates.find(peer);
  if (candidate == fetch.candidates.end()) return;
  candidate->second.state = Candidate::State::failed;
  candidate->second.retry_at = kNever;
  candidate->second.bad = candidate->second.bad || bad;
  if (fetch.plan) {
    if (auto holder = fetch.holder_ids.find(peer); holder != fetch.holder_ids.end()) {
      fetch.plan->drop_holder(holder->second);
    }
  }
  std::vector<std::uint64_t> streams;
  for (const auto& [token, transfer] : transfers_) {
    if (transfer.fetch == fetch.id && transfer.peer == peer) streams.push_back(token);
  }
  for (auto token : streams) reset_transfer(now, swarm, token);
}

void ContentBehaviour::reset_transfer(Instant now, swarm::Swarm& swarm, std::uint64_t token) {
  auto found = transfers_.find(token);
  if (found == transfers_.end()) return;
  if (found->second.stream) {
    transfer_streams_.erase(*found->second.stream);
    swarm.reset(now, found->second.stream->first, found->second.stream->second);
  }
  transfers_.erase(found);
}

void ContentBehaviour::remember_throughput(const Fetch& fetch, const PeerId& peer) {
  if (!fetch.plan) return;
  auto holder = fetch.holder_ids.find(peer);
  if (holder == fetch.holder_ids.end()) return;
  auto rate = fetch.plan->throughput(holder->second);
  if (!rate) return;
  stats_of(peer).throughput = rate;
}

ContentBehaviour::PeerStats& ContentBehaviour::stats_of(const PeerId& peer) {
  if (!peer_stats_.count(peer) && peer_stats_.size() >= kPeerStatsMax) peer_stats_.erase(peer_stats_.begin());
  return peer_stats_[peer];
}

bool ContentBehaviour::stored_all(const Fetch& fetch) const {
  if (!fetch.size) return false;
  const std::uint64_t groups = content::group_count(*fetch.size);
  for (std::uint64_t group = 0; group < groups; ++group) {
    if (!bit(fetch.stored, group)) return false;
  }
  return true;
}

void ContentBehaviour::complete(Instant now, swarm::Swarm& swarm, FetchId id) {
  auto found = fetches_.find(id);
  if (found == fetches_.end()) return;
  Fetch& fetch = found->second;
  const std::uint64_t size = *fetch.size;
  emit_progress(now, fetch, false);  // unless one went out in the last 100 ms: FetchFinished follows anyway
  if (!stored_all(fetch)) return finish(now, swarm, id, size, false);
  if (fetch.committing) return;
  if (auto begun = storage_->begin_commit(fetch.root); !begun) {
    return finish(now, swarm, id,  // closes the partial, which stays for a later fetch
                  unexpected(FetchError{FetchErrc::storage, "committing the download failed: " + begun.error().text}),
                  false);
  }
  fetch.partial_open = false;  // the storage's until the commit is over
  fetch.committing = true;
  fetch.deadline.reset();
  // Nothing more to receive: streams still open (stolen duplicates) go now.
  std::vector<std::uint64_t> streams;
  for (const auto& [token, transfer] : transfers_) {
    if (transfer.fetch == id) streams.push_back(token);
  }
  for (auto token : streams) reset_transfer(now, swarm, token);
  check_commit(now, swarm, id);
}

void ContentBehaviour::check_commit(Instant now, swarm::Swarm& swarm, FetchId id) {
  auto found = fetches_.find(id);
  if (found == fetches_.end() || !found->second.committing) return;
  Fetch& fetch = found->second;
  auto committed = storage_->poll_commit(fetch.root);
  if (!committed) {
    if (!next_commit_poll_) next_commit_poll_ = now + kCommitPoll;
    return;
  }
  fetch.committing = false;
  if (!*committed) {
    return finish(now, swarm, id,
                  unexpected(FetchError{FetchErrc::storage, "committing the download failed: " + committed->error().text}),
                  false);
  }
  const std::uint64_t size = *fetch.size;
  // A node that fetched content holds it: it says so (content redundancy).
  announce(now, fetch.root, size);
  if (fetch.cancel_after_commit) {
    return finish(now, swarm, id, unexpected(FetchError{FetchErrc::cancelled, "cancelled"}), false);
  }
  finish(now, swarm, id, size, true);
}

void ContentBehaviour::finish(Instant now, swarm::Swarm& swarm, FetchId id, Expected<std::uint64_t, FetchError> result,
                              bool committed) {
  auto found = fetches_.find(id);
  if (found == fetches_.end()) return;
  Fetch fetch = std::move(found->second);
  fetches_.erase(found);
  std::vector<std::uint64_t> streams;
  for (const auto& [token, transfer] : transfers_) {
    if (transfer.fetch == id) streams.push_back(token);
  }
  for (auto token : streams) reset_transfer(now, swarm, token);
  std::erase_if(dht_lookups_, [&](const auto& entry) { return entry.second == id; });
  if (fetch.partial_open) storage_->close_partial(fetch.root);
  if (result) {
    // Peers that served verified bytes hold the content, however they were
    // found (DHT, asking): the index learns them too.
    for (const auto& peer : fetch.served_by) {
      const auto candidate = fetch.candidates.find(peer);
      if (candidate == fetch.candidates.end() || candidate->second.bad) continue;
      index_add(fetch.root, peer, *result, candidate->second.addrs, now + options_.holder_ttl);
    }
    ++stats_.fetches_finished;
  } else {
    ++stats_.fetches_failed;
  }
  events_.push_back(
      content_event::FetchFinished{id, fetch.root, std::move(result), committed, std::move(fetch.served_by)});
  if (fetches_.empty()) next_tick_.reset();
  // The next fetch of the same root may start now (it finds the object
  // in the store if this one committed it).
  for (auto& [other, waiting] : fetches_) {
    if (waiting.waiting && waiting.root == fetch.root) {
      begin(now, swarm, other);
      break;
    }
  }
}

void ContentBehaviour::emit_progress(Instant now, Fetch& fetch, bool force) {
  if (!fetch.size || !fetch.plan) return;
  const std::uint64_t size = *fetch.size;
  while (fetch.contiguous_group < fetch.wanted_end_group && bit(fetch.stored, fetch.contiguous_group)) {
    ++fetch.contiguous_group;
  }
  const std::uint64_t contiguous_end = std::min(size, fetch.contiguous_group * content::kGroupBytes);
  const std::uint64_t contiguous =
      std::min(contiguous_end, fetch.wanted_end) > fetch.wanted_offset
          ? std::min(contiguous_end, fetch.wanted_end) - fetch.wanted_offset
          : 0;
  // The first contiguous bytes go out at once: a reader streaming the
  // content (GET /api/v1/content) waits for them, so pacing them would add
  // up to kProgressInterval to its time to first byte.
  const bool first_bytes = contiguous > 0 && !fetch.reported_contiguous;
  if (!force && !first_bytes && fetch.last_progress && now - *fetch.last_progress < kProgressInterval) {
    fetch.progress_due = true;
    return;
  }
  fetch.reported_contiguous = contiguous > 0;
  const std::size_t sources = static_cast<std::size_t>(std::count_if(
      fetch.candidates.begin(), fetch.candidates.end(),
      [](const auto& entry) { return entry.second.state == Candidate::State::active; }));
  events_.push_back(content_event::FetchProgress{fetch.id, fetch.root, size, fetch.wanted_end - fetch.wanted_offset,
                                                 fetch.verified_bytes, contiguous, sources});
  fetch.last_progress = now;
  fetch.progress_due = false;
}

// ---- time

void ContentBehaviour::handle_timeout(Instant now, swarm::Swarm& swarm) {
  if (now >= next_reannounce_) reannounce(now);
  index_expire(now);
  if (next_serving_sweep_ && now >= *next_serving_sweep_) sweep_serving(now, swarm);
  if (rate_wakeup_ && now >= *rate_wakeup_) {
    rate_wakeup_.reset();
    std::vector<StreamKey> keys;
    for (const auto& [key, serving] : serving_) keys.push_back(key);
    for (const auto& key : keys) pump_serving(now, swarm, key);
  }
  std::vector<FetchId> ids;
  for (const auto& [id, fetch] : fetches_) ids.push_back(id);
  if (next_commit_poll_ && now >= *next_commit_poll_) {
    next_commit_poll_.reset();  // re-armed by those still committing
    for (const FetchId id : ids) check_commit(now, swarm, id);
  }
  for (const FetchId id : ids) {
    auto found = fetches_.find(id);
    if (found == fetches_.end()) continue;
    Fetch& fetch = found->second;
    if (fetch.deadline && now >= *fetch.deadline && !fetch.committing) {
      const bool found_any = fetch.size || fetch.holder_seen;
      finish(now, swarm, id,
             unexpected(FetchError{found_any ? FetchErrc::unavailable : FetchErrc::not_found,
                                   found_any ? "no holder could deliver the rest within the discovery timeout"
                                             : "no holder found within the discovery timeout"}),
             false);
      continue;
    }
    if (fetch.progress_due && fetch.last_progress && now - *fetch.last_progress >= kProgressInterval) {
      emit_progress(now, fetch, true);
    }
  }
  if (next_tick_ && now >= *next_tick_) {
    next_tick_ = now + kTick;
    std::vector<std::uint64_t> idle;
    for (const auto& [token, transfer] : transfers_) {
      if (now - transfer.last_activity >= kTransferIdle) idle.push_back(token);
    }
    for (auto token : idle) {
      end_transfer(now, swarm, token, blob::BlobError{blob::Errc::truncated, "no progress on the stream"});
    }
    ids.clear();
    for (const auto& [id, fetch] : fetches_) ids.push_back(id);
    for (const FetchId id : ids) drive(now, swarm, id);
    if (fetches_.empty()) next_tick_.reset();
  }
}

std::optional<Instant> ContentBehaviour::next_timeout() const {
  Instant next = next_reannounce_;
  if (!expiry_.empty()) next = std::min(next, std::get<0>(*expiry_.begin()));
  if (rate_wakeup_) next = std::min(next, *rate_wakeup_);
  if (next_serving_sweep_) next = std::min(next, *next_serving_sweep_);
  if (next_tick_) next = std::min(next, *next_tick_);
  if (next_commit_poll_) next = std::min(next, *next_commit_poll_);
  for (const auto& [id, fetch] : fetches_) {
    if (fetch.deadline) next = std::min(next, *fetch.deadline);
    if (fetch.progress_due && fetch.last_progress) next = std::min(next, *fetch.last_progress + kProgressInterval);
  }
  return next;
}

// ---- output

std::optional<ContentOpen> ContentBehaviour::poll_open() {
  if (opens_.empty()) return std::nullopt;
  auto next = std::move(opens_.front());
  opens_.pop_front();
  return next;
}

std::optional<ContentCommand> ContentBehaviour::poll_command() {
  if (commands_.empty()) return std::nullopt;
  auto next = std::move(commands_.front());
  commands_.pop_front();
  return next;
}

std::optional<ContentEvent> ContentBehaviour::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto next = std::move(events_.front());
  events_.pop_front();
  return next;
}

std::set<PeerId> ContentBehaviour::active_peers() const {
  std::set<PeerId> peers;
  for (const auto& [token, transfer] : transfers_) peers.insert(transfer.peer);
  for (const auto& [key, serving] : serving_) peers.insert(serving.peer);
  return peers;
}

}  // namespace taho::host
