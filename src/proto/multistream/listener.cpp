#include "proto/multistream/listener.hpp"

#include <algorithm>
#include <utility>

namespace taho::multistream {

Expected<Listener, NegotiationError> Listener::create(std::vector<std::string> supported,
                                                      ListenerOptions options) {
  for (const auto& name : supported) {
    if (!is_valid_protocol_name(name, options.message_bytes_max) || name == kNotAvailable || name == kList ||
        name == kProtocolId) {
      return unexpected(NegotiationError{Errc::invalid_argument, "cannot support '" + name + "'"});
    }
  }
  return Listener(std::move(supported), options);
}

Listener::Listener(std::vector<std::string> supported, ListenerOptions options)
    : supported_(std::move(supported)), options_(options), reader_(options.message_bytes_max) {}

std::optional<Bytes> Listener::poll_transmit() {
  if (transmit_.empty()) return std::nullopt;
  return std::exchange(transmit_, {});
}

Unexpected<NegotiationError> Listener::fail(Errc code, std::string detail) {
  state_ = State::done;
  return unexpected(NegotiationError{code, std::move(detail)});
}

bool Listener::supports(std::string_view protocol) const {
  return std::find(supported_.begin(), supported_.end(), protocol) != supported_.end();
}

Expected<std::optional<Negotiated>, NegotiationError> Listener::handle_input(ByteView bytes) {
  if (state_ == State::done) return unexpected(NegotiationError{Errc::finished, "negotiation already ended"});
  while (true) {
    auto message = reader_.next(bytes);
    if (!message) return fail(message.error().code, std::move(message.error().detail));
    if (!*message) return std::optional<Negotiated>{};
    const std::string_view text = **message;

    if (state_ == State::awaiting_header) {
      if (text != kProtocolId) return fail(Errc::bad_header, "dialer spoke '" + std::string(text) + "'");
      append_message(kProtocolId, transmit_);
      state_ = State::awaiting_proposal;
      continue;
    }
    if (++proposals_seen_ > options_.proposals_max) {
      return fail(Errc::too_many_proposals,
                  "dialer made more than " + std::to_string(options_.proposals_max) + " proposals");
    }
    if (text == kList) {
      append_protocol_list(supported_, options_.message_bytes_max, transmit_);
      continue;
    }
    if (supports(text)) {
      append_message(text, transmit_);
      state_ = State::done;
      return std::optional<Negotiated>{Negotiated{std::string(text), Bytes(bytes.begin(), bytes.end())}};
    }
    append_message(kNotAvailable, transmit_);
  }
}

}  // namespace taho::multistream
