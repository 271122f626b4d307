#include "runtime/asio/sse_parser.hpp"

#include <utility>

namespace taho::runtime {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

}  // namespace

SseParser::SseParser(SseParserOptions options) : options_(options) {}

Expected<void, SseError> SseParser::feed(std::string_view bytes) {
  if (failure_) return unexpected(*failure_);
  for (const char c : bytes) {
    if (c == '\n' && after_cr_) {
      after_cr_ = false;
      continue;
    }
    after_cr_ = c == '\r';
    if (c == '\r' || c == '\n') {
      auto ended = end_line();
      if (!ended) return ended;
      continue;
    }
    if (line_.size() >= options_.line_bytes_max) {
      failure_ = SseError{SseErrc::line_too_long,
                          "event stream line over " + std::to_string(options_.line_bytes_max) + " bytes"};
      return unexpected(*failure_);
    }
    line_.push_back(c);
  }
  return {};
}

std::optional<SseEvent> SseParser::poll_event() {
  if (events_.empty()) return std::nullopt;
  SseEvent event = std::move(events_.front());
  events_.pop_front();
  return event;
}

Expected<void, SseError> SseParser::end_line() {
  std::string_view line = line_;
  if (first_line_) {
    first_line_ = false;
    if (line.substr(0, kByteOrderMark.size()) == kByteOrderMark) line.remove_prefix(kByteOrderMark.size());
  }
  if (line.empty()) {
    dispatch();
  } else if (line.front() != ':') {  // a line starting with ':' is a comment
    const auto colon = line.find(':');
    const std::string_view field = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (field == "event") {
      event_type_ = value;
    } else if (field == "data") {
      if (data_.size() + value.size() + 1 > options_.event_bytes_max) {
        failure_ = SseError{SseErrc::event_too_large,
                            "event stream event over " + std::to_string(options_.event_bytes_max) + " bytes"};
        line_.clear();
        return unexpected(*failure_);
      }
      data_.append(value);
      data_.push_back('\n');
    } else if (field == "id") {
      if (value.find('\0') == std::string_view::npos) last_event_id_ = value;
    }
  }
  line_.clear();
  return {};
}

void SseParser::dispatch() {
  // A blank line with no data lines before it dispatches nothing but still
  // forgets the event type.
  if (!data_.empty()) {
    data_.pop_back();  // the line feed after the last data line
    SseEvent event;
    if (!event_type_.empty()) event.event = event_type_;
    event.data = std::move(data_);
    event.id = last_event_id_;
    events_.push_back(std::move(event));
  }
  data_.clear();
  event_type_.clear();
}

Expected<std::string, SseError> format_sse_event(const SseEvent& event) {
  const auto breaks_line = [](std::string_view text) { return text.find_first_of("\r\n") != std::string_view::npos; };
  if (breaks_line(event.event) || breaks_line(event.id) || event.id.find('\0') != std::string::npos) {
    return unexpected(SseError{SseErrc::bad_field, "an event's type or id holds a line break or NUL"});
  }
  std::string text;
  text.reserve(event.data.size() + event.event.size() + event.id.size() + 32);
  if (!event.event.empty() && event.event != "message") text.append("event: ").append(event.event).append("\n");
  if (!event.id.empty()) text.append("id: ").append(event.id).append("\n");
  std::string_view rest = event.data;
  while (true) {
    const auto end = rest.find_first_of("\r\n");
    text.append("data: ").append(rest.substr(0, end)).append("\n");
    if (end == std::string_view::npos) break;
    const std::size_t skip = rest.substr(end, 2) == "\r\n" ? 2 : 1;
    rest.remove_prefix(end + skip);
  }
  text.append("\n");
  return text;
}

}  // namespace taho::runtime
