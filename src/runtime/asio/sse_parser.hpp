// Server-sent events (the text/event-stream format of the HTML Living
// Standard, "Server-sent events" §9.2.6): an incremental parser for
// subscribers and the matching formatter for publishers. Plain code with no
// Asio; it lives here because the asio library is what the CLI and the API
// already link.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.hpp"
#include "base/expected.hpp"

namespace taho::runtime {

struct SseEvent {
  std::string event = "message";  // the type; "message" when the stream names none
  std::string data;               // data lines joined with "\n"
  std::string id;                 // the last event id seen on the stream, as the standard defines it
};

// line_too_long / event_too_large: the stream broke a bound, the parser
// stops; bad_field: an event that cannot be written (a line break in its
// type or id would forge other fields).
enum class SseErrc { line_too_long, event_too_large, bad_field };
using SseError = Error<SseErrc>;

struct SseParserOptions {
  std::size_t line_bytes_max = 64 * 1024;
  std::size_t event_bytes_max = 1024 * 1024;  // data of one event
};

// Feed bytes as they arrive, in pieces of any size, then take the complete
// events with poll_event(). Lines end with CRLF, LF or CR; comments (lines
// starting with ':') and unknown fields are skipped; `retry` is ignored (the
// caller decides about reconnecting). An event still open when the stream
// ends is never dispatched, as the standard says.
class SseParser {
 public:
  explicit SseParser(SseParserOptions options = {});

  // After an error every later call returns it again: the stream is broken.
  // The event queue holds what the fed bytes completed: poll after each feed.
  Expected<void, SseError> feed(std::string_view bytes);
  std::optional<SseEvent> poll_event();

 private:
  Expected<void, SseError> end_line();
  void dispatch();

  SseParserOptions options_;
  std::string line_;
  bool after_cr_ = false;   // a CR ended the last line; an LF right after it belongs to it
  bool first_line_ = true;  // a byte order mark may start the stream
  std::string event_type_;
  std::string data_;
  std::string last_event_id_;
  std::deque<SseEvent> events_;
  std::optional<SseError> failure_;
};

// One event as text/event-stream bytes, ending with the blank line that
// dispatches it. `data` may hold line breaks (each line becomes a data
// field); `event` and `id` may not, and `id` may not hold NUL.
Expected<std::string, SseError> format_sse_event(const SseEvent& event);

}  // namespace taho::runtime
