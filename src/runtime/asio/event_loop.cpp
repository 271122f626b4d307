#include "runtime/asio/event_loop.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>

namespace taho::runtime::asio {

struct EventLoop::State {
  boost::asio::io_context context{1};
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

}  // namespace taho::runtime::asio
