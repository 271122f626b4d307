#include "node/periodic_save.hpp"

#include <spdlog/spdlog.h>

namespace taho::node {

PeriodicSave::PeriodicSave(runtime::asio::EventLoop& loop, Duration interval, std::string what, SaveFn save)
    : loop_(loop), interval_(interval), what_(std::move(what)), save_(std::move(save)), timer_(loop) {
  arm();
}

PeriodicSave::~PeriodicSave() {
  timer_.cancel();
  save_now();
}

void PeriodicSave::save_now() {
  if (auto saved = save_(); !saved) spdlog::warn("{}: {}", what_, saved.error().text);
}

void PeriodicSave::arm() {
  timer_.arm_at(loop_.now() + interval_, [this] {
    save_now();
    arm();
  });
}

}  // namespace taho::node
