#include "runtime/asio/event_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>

namespace taho::runtime::asio {

struct EventLoop::State {
  boost::asio::io_context context{1};
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

EventLoop::EventLoop() : state_(std::make_unique<State>()) {}
EventLoop::~EventLoop() = default;

boost::asio::io_context& EventLoop::context() { return state_->context; }

void EventLoop::run_until_signal(std::function<void(int)> on_signal) {
  boost::asio::signal_set signals(state_->context, SIGINT, SIGTERM);
  signals.async_wait([this, on_signal](const boost::system::error_code& error, int signal_number) {
    if (error) return;
    if (on_signal) on_signal(signal_number);
    state_->context.stop();
  });
  state_->context.run();
}

void EventLoop::post(std::function<void()> work) { boost::asio::post(state_->context, std::move(work)); }

void EventLoop::stop() { state_->context.stop(); }

Instant EventLoop::now() const {
  return Instant{std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - state_->started)};
}

struct Timer::State {
  explicit State(boost::asio::io_context& context) : timer(context) {}
  boost::asio::steady_timer timer;
  std::uint64_t generation = 0;  // a wait from an older arm_at() must not fire
};

Timer::Timer(EventLoop& loop) : loop_(loop), state_(std::make_shared<State>(loop.context())) {}

Timer::~Timer() { cancel(); }

void Timer::arm_at(Instant when, std::function<void()> fire) {
  auto delay = when - loop_.now();
  if (delay < Duration::zero()) delay = Duration::zero();
  std::uint64_t generation = ++state_->generation;
  state_->timer.expires_after(delay);
  std::weak_ptr<State> weak = state_;
  state_->timer.async_wait([weak, generation, fire = std::move(fire)](const boost::system::error_code& error) {
    auto state = weak.lock();
    if (error || !state || state->generation != generation) return;
    fire();
  });
}

void Timer::cancel() {
  ++state_->generation;
  state_->timer.cancel();
}

}  // namespace taho::runtime::asio
