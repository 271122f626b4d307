#include "proto/multistream/dialer.hpp"

#include <utility>

namespace taho::multistream {

Expected<Dialer, NegotiationError> Dialer::create(std::vector<std::string> protocols, DialerOptions options) {
  if (protocols.empty()) return unexpected(NegotiationError{Errc::invalid_argument, "no protocol to propose"});
  if (protocols.size() > options.proposals_max) {
    return unexpected(NegotiationError{Errc::too_many_proposals,
                                       std::to_string(protocols.size()) + " proposals, limit " +
                                           std::to_string(options.proposals_max)});
  }
  if (options.mode == DialerMode::lazy && protocols.size() != 1) {
    return unexpected(NegotiationError{Errc::invalid_argument, "lazy negotiation takes exactly one protocol"});
  }
  for (const auto& name : protocols) {
    if (!is_valid_protocol_name(name, options.message_bytes_max) || name == kNotAvailable || name == kList) {
      return unexpected(NegotiationError{Errc::invalid_argument, "cannot propose '" + name + "'"});
    }
  }
  return Dialer(std::move(protocols), options);
}

Dialer::Dialer(std::vector<std::string> protocols, DialerOptions options)
    : protocols_(std::move(protocols)), options_(options), reader_(options.message_bytes_max) {
  append_message(kProtocolId, transmit_);
  append_message(protocols_.front(), transmit_);
}

std::optional<Bytes> Dialer::poll_transmit() {
  if (transmit_.empty()) return std::nullopt;
  return std::exchange(transmit_, {});
}

Unexpected<NegotiationError> Dialer::fail(Errc code, std::string detail) {
  state_ = State::done;
  return unexpected(NegotiationError{code, std::move(detail)});
}

Expected<std::optional<Negotiated>, NegotiationError> Dialer::handle_input(ByteView bytes) {
  if (state_ == State::done) return unexpected(NegotiationError{Errc::finished, "negotiation already ended"});
  while (true) {
    auto message = reader_.next(bytes);
    if (!message) return fail(message.error().code, std::move(message.error().detail));
    if (!*message) return std::optional<Negotiated>{};
    const std::string_view text = **message;

    if (state_ == State::awaiting_header) {
      if (text != kProtocolId) return fail(Errc::bad_header, "listener spoke '" + std::string(text) + "'");
      state_ = State::awaiting_answer;
      continue;
    }
    if (text == current_proposal()) {
      state_ = State::done;
      return std::optional<Negotiated>{Negotiated{std::string(text), Bytes(bytes.begin(), bytes.end())}};
    }
    if (text != kNotAvailable) {
      return fail(Errc::unexpected_message,
                  "listener answered '" + std::string(text) + "' to '" + std::string(current_proposal()) + "'");
    }
    if (options_.mode == DialerMode::lazy || proposal_index_ + 1 == protocols_.size()) {
      return fail(Errc::no_protocol_agreed, "listener supports none of our " +
                                                std::to_string(protocols_.size()) + " protocols");
    }
    ++proposal_index_;
    append_message(protocols_[proposal_index_], transmit_);
  }
}

}  // namespace taho::multistream
