// Identify push (/ipfs/id/push/1.0.0) for the host: the swarm answers
// identify requests itself but neither sends nor receives pushes, and the
// host needs both when what it announces changes at runtime (the DHT and
// rendezvous modes follow AutoNAT's reachability verdict). A push is one
// stream carrying our identify message, then closed; received pushes come
// out as the remote's updated Info.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>

#include "base/bytes.hpp"
#include "base/peer_id.hpp"
#include "proto/identify/message.hpp"
#include "proto/identify/reader.hpp"
#include "swarm/swarm.hpp"

namespace taho::host {

struct IdentifyPushOpen {
  std::uint64_t token;
  PeerId peer;
};
struct IdentifyPushReceived {
  PeerId peer;
  identify::Info info;
};

class IdentifyPush {
 public:
  static constexpr std::size_t pending_max = 1024;         // pushes waiting for their stream
  static constexpr std::size_t inbound_streams_max = 64;   // pushes being read

  static constexpr std::string_view protocol() { return identify::push_protocol_id; }

  // Sends `message` (encode_message of our Info) to the peer on a new stream.
  void push(const PeerId& peer, Bytes message);
  void on_outbound_stream(Instant now, swarm::Swarm& swarm, std::uint64_t token, swarm::ConnectionId connection,
                          swarm::StreamId stream);
  void on_open_failed(std::uint64_t token) { pending_.erase(token); }
  void on_inbound_stream(Instant now, swarm::Swarm& swarm, const swarm::swarm_event::StreamOpened& opened);
  bool on_stream_event(Instant now, swarm::Swarm& swarm, swarm::ConnectionId connection, swarm::StreamId stream,
                       bool closed);

  std::optional<IdentifyPushOpen> poll_open();
  std::optional<IdentifyPushReceived> poll_received();
  std::uint64_t pushes_sent() const { return pushes_sent_; }

 private:
  using StreamKey = std::pair<swarm::ConnectionId, swarm::StreamId>;
  struct Inbound {
    PeerId peer;
    identify::Reader reader;
  };
  void pump(Instant now, swarm::Swarm& swarm, const StreamKey& key);

  std::uint64_t next_token_ = 1;
  std::map<std::uint64_t, Bytes> pending_;  // by token, until the stream opens
  std::map<StreamKey, Inbound> inbound_;
  std::deque<IdentifyPushOpen> opens_;
  std::deque<IdentifyPushReceived> received_;
  std::uint64_t pushes_sent_ = 0;
};

}  // namespace taho::host
