// The dialer (initiator) side of multistream-select 1.0, sans-IO: feed it the
// peer's bytes, send what poll_transmit returns. Used on raw connections (to
// pick the security protocol and the muxer) and on every new stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.hpp"
#include "proto/multistream/errors.hpp"
#include "proto/multistream/message.hpp"
#include "proto/multistream/negotiated.hpp"

namespace taho::multistream {

enum class DialerMode {
  // Wait for the listener's echo before using the protocol; `na` moves on to
  // the next proposal.
  full,
  // Optimistic single-protocol negotiation (rust-libp2p's V1Lazy, js's
  // negotiateFully=false): the caller may send protocol data right after the
  // negotiation bytes without waiting a round trip. An `na` then fails.
  lazy,
};

struct DialerOptions {
  DialerMode mode = DialerMode::full;
  std::size_t message_bytes_max = kMessageBytesMax;
  std::size_t proposals_max = 16;  // length of our protocol list
};

class Dialer {
 public:
  // Fails with invalid_argument for an empty list, a bad name or a lazy dialer
  // with more than one protocol, and too_many_proposals past proposals_max.
  static Expected<Dialer, NegotiationError> create(std::vector<std::string> protocols,
                                                   DialerOptions options = {});

  // Bytes to send. The first call yields the header and the first proposal in
  // one buffer: the js listener stays silent until it has read our header.
  std::optional<Bytes> poll_transmit();

  // Feeds bytes from the peer, in any fragmentation. Returns the result once
  // the listener has confirmed a protocol, nullopt while more input is needed.
  // After a result or an error the dialer is spent: further input fails with
  // `finished`.
  Expected<std::optional<Negotiated>, NegotiationError> handle_input(ByteView bytes);

  // The proposal currently awaiting an answer. In lazy mode this is the
  // protocol the caller may already speak once poll_transmit is drained.
  std::string_view current_proposal() const { return protocols_[proposal_index_]; }
  DialerMode mode() const { return options_.mode; }

 private:
  Dialer(std::vector<std::string> protocols, DialerOptions options);
  Unexpected<NegotiationError> fail(Errc code, std::string detail);

  enum class State { awaiting_header, awaiting_answer, done };

  std::vector<std::string> protocols_;
  DialerOptions options_;
  MessageReader reader_;
  std::size_t proposal_index_ = 0;
  State state_ = State::awaiting_header;
  Bytes transmit_;
};

}  // namespace taho::multistream
