// The listener (responder) side of multistream-select 1.0, sans-IO. It stays
// silent until the dialer's header arrives (as js-libp2p does), answers each
// proposal with an echo or `na`, and `ls` with its protocol list.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.hpp"
#include "proto/multistream/errors.hpp"
#include "proto/multistream/message.hpp"
#include "proto/multistream/negotiated.hpp"

namespace taho::multistream {

struct ListenerOptions {
  std::size_t message_bytes_max = kMessageBytesMax;
  // Proposals (and `ls` requests) a dialer may make before we give up on it.
  std::size_t proposals_max = 16;
};

class Listener {
 public:
  // `supported` in the order `ls` lists them. Fails with invalid_argument on a
  // name that could never be negotiated.
  static Expected<Listener, NegotiationError> create(std::vector<std::string> supported,
                                                     ListenerOptions options = {});

  // Feeds bytes from the dialer. Returns the result once a supported protocol
  // was proposed. Drain poll_transmit afterwards even then: the echo that
  // confirms the protocol is still queued.
  Expected<std::optional<Negotiated>, NegotiationError> handle_input(ByteView bytes);
  std::optional<Bytes> poll_transmit();

 private:
  Listener(std::vector<std::string> supported, ListenerOptions options);
  Unexpected<NegotiationError> fail(Errc code, std::string detail);
  bool supports(std::string_view protocol) const;

  enum class State { awaiting_header, awaiting_proposal, done };

  std::vector<std::string> supported_;
  ListenerOptions options_;
  MessageReader reader_;
  std::size_t proposals_seen_ = 0;
  State state_ = State::awaiting_header;
  Bytes transmit_;
};

}  // namespace taho::multistream
