// The network thread: one io_context that owns all protocol state (STYLE.md
// principle 9). Other threads hand it work with post().
#pragma once

#include <functional>
#include <memory>

#include "base/time.hpp"

namespace boost::asio {
class io_context;
}

namespace taho::runtime::asio {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  boost::asio::io_context& context();
  // Runs until stop() or until SIGINT/SIGTERM arrives; `on_signal` runs on
  // the loop with the signal number before it stops.
  void run_until_signal(std::function<void(int)> on_signal);
  void post(std::function<void()> work);
  void stop();
  // Monotonic time since the loop was created: the `now` handed to cores.
  Instant now() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// A one-shot timer on the loop, re-armable. Firing after cancel() or
// destruction never happens.
class Timer {
 public:
  explicit Timer(EventLoop& loop);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void arm_at(Instant when, std::function<void()> fire);
  void cancel();

 private:
  struct State;
  EventLoop& loop_;
  std::shared_ptr<State> state_;
};

}  // namespace taho::runtime::asio
