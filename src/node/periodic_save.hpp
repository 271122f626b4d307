// Saves some state to disk every `interval` and once more when destroyed,
// so a crash loses at most one interval of it (the peerstore, the holder
// index). Failures are logged under `what`, never fatal.
#pragma once

#include <functional>
#include <string>

#include "base/error.hpp"
#include "base/time.hpp"
#include "runtime/asio/event_loop.hpp"

namespace taho::node {

class PeriodicSave {
 public:
  using SaveFn = std::function<Result<void>()>;
  PeriodicSave(runtime::asio::EventLoop& loop, Duration interval, std::string what, SaveFn save);
  ~PeriodicSave();
  PeriodicSave(const PeriodicSave&) = delete;
  PeriodicSave& operator=(const PeriodicSave&) = delete;

  void save_now();

 private:
  void arm();

  runtime::asio::EventLoop& loop_;
  Duration interval_;
  std::string what_;
  SaveFn save_;
  runtime::asio::Timer timer_;
};

}  // namespace taho::node
