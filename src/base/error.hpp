// The error value used where callers only need to report, not branch: a
// stable code name plus human-readable context. Modules whose callers branch
// on the cause define their own `enum class` codes (see multiaddr.hpp).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/expected.hpp"

namespace taho {

// Error<Code>: a module's code plus the context a person needs to act on it.
template <class Code>
struct Error {
  Code code{};
  std::string detail;

  Error() = default;
  Error(Code c, std::string d = {}) : code(c), detail(std::move(d)) {}
};

// Message: the generic error when there is nothing to branch on.
struct Message {
  std::string text;
  Message() = default;
  Message(std::string t) : text(std::move(t)) {}
  Message(const char* t) : text(t) {}
};

template <class T>
using Result = Expected<T, Message>;

inline Unexpected<Message> fail(std::string text) { return {Message{std::move(text)}}; }

}  // namespace taho
