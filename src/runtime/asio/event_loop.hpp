// The network thread: one io_context that owns all protocol state (STYLE.md
// principle 9). Other threads hand it work with post().
#pragma once

#include <functional>
#include <memory>

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

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace taho::runtime::asio
