#include "proto/ping/ping.hpp"

#include <algorithm>
#include <string>

namespace taho::ping {

// ---- Dialer ----

Expected<void, PingError> Dialer::ping(Instant now, Rng& rng) {
  if (state_ != State::idle) {
    return unexpected(PingError{Errc::busy, state_ == State::in_flight ? "a ping is already in flight"
                                                                        : "the ping stream is no longer usable"});
  }
  rng.fill(sent_);
  sent_at_ = now;
  received_.clear();
  transmit_ = Bytes(sent_.begin(), sent_.end());
  state_ = State::in_flight;
  return {};
}

void Dialer::fail(PingError error) {
  state_ = State::failed;
  transmit_.reset();
  events_.push_back(Failed{std::move(error)});
}

void Dialer::handle_data(Instant now, ByteView bytes) {
  while (!bytes.empty() && state_ != State::failed) {
    if (state_ != State::in_flight) {
      fail({Errc::unexpected_data, std::to_string(bytes.size()) + " bytes while no ping was in flight"});
      return;
    }
    const std::size_t taken = std::min(payload_bytes - received_.size(), bytes.size());
    append(received_, bytes.first(taken));
    bytes = bytes.subspan(taken);
    if (received_.size() < payload_bytes) return;
    if (!std::ranges::equal(received_, sent_)) {
      fail({Errc::mismatch, "echo " + to_hex(received_) + " for " + to_hex(sent_)});
      return;
    }
    state_ = State::idle;
    events_.push_back(Pong{now - sent_at_});
  }
}

void Dialer::handle_end(Instant) {
  if (state_ == State::in_flight) {
    fail({Errc::stream_ended, "after " + std::to_string(received_.size()) + " of " + std::to_string(payload_bytes) +
                                  " echo bytes"});
  } else if (state_ == State::idle) {
    state_ = State::ended;
  }
}

void Dialer::handle_timeout(Instant now) {
  if (state_ == State::in_flight && now >= sent_at_ + options_.timeout) {
    fail({Errc::timeout, "no echo within " + std::to_string(options_.timeout.count() / 1'000'000) + " ms"});
  }
}

std::optional<Bytes> Dialer::poll_transmit() {
  std::optional<Bytes> out = std::move(transmit_);
  transmit_.reset();
  return out;
}

std::optional<Dialer::Event> Dialer::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<Instant> Dialer::next_timeout() const {
  if (state_ != State::in_flight) return std::nullopt;
  return sent_at_ + options_.timeout;
}

// ---- Listener ----

void Listener::fail(PingError error) {
  state_ = State::failed;
  echo_.clear();
  partial_.clear();
  events_.push_back(Failed{std::move(error)});
}

void Listener::handle_data(Instant now, ByteView bytes) {
  if (state_ != State::active) return;
  last_activity_ = now;
  while (!bytes.empty()) {
    const std::size_t taken = std::min(payload_bytes - partial_.size(), bytes.size());
    append(partial_, bytes.first(taken));
    bytes = bytes.subspan(taken);
    if (partial_.size() < payload_bytes) return;
    if (echo_.size() + payload_bytes > echo_backlog_bytes_max) {
      fail({Errc::echo_backlog, "more than " + std::to_string(echo_backlog_bytes_max) + " bytes waiting to be echoed"});
      return;
    }
    append(echo_, partial_);
    partial_.clear();
  }
}

void Listener::handle_end(Instant) {
  if (state_ != State::active) return;
  if (!partial_.empty()) {
    fail({Errc::stream_ended, "inside a block, after " + std::to_string(partial_.size()) + " bytes"});
    return;
  }
  state_ = State::finished;
  events_.push_back(Finished{});
}

void Listener::handle_timeout(Instant now) {
  if (state_ == State::active && now >= last_activity_ + options_.timeout) {
    fail({Errc::timeout, "no ping data within " + std::to_string(options_.timeout.count() / 1'000'000) + " ms"});
  }
}

std::optional<Bytes> Listener::poll_transmit() {
  if (echo_.empty()) return std::nullopt;
  Bytes out;
  out.swap(echo_);
  return out;
}

std::optional<Listener::Event> Listener::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event event = std::move(events_.front());
  events_.pop_front();
  return event;
}

std::optional<Instant> Listener::next_timeout() const {
  if (state_ != State::active) return std::nullopt;
  return last_activity_ + options_.timeout;
}

}  // namespace taho::ping
