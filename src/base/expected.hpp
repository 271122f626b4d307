// A small expected-like result type: C++20 has no std::expected, and the
// protocol cores build without exceptions, so every fallible call that a peer,
// a file or the OS can make fail returns one of these (STYLE.md principle 5).
#pragma once

#include <cassert>
#include <type_traits>
#include <utility>
#include <variant>

namespace taho {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> unexpected(E&& error) {
  return {std::forward<E>(error)};
}

// Expected<T, E> holds either a value or an error. Accessing the wrong side is
// our bug, not the peer's, so it asserts (assertions stay on in release).
template <class T, class E>
class [[nodiscard]] Expected {
 public:
  using value_type = T;
  using error_type = E;

  Expected(const T& value) : state_(std::in_place_index<0>, value) {}
  Expected(T&& value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <class U, class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                              !std::is_same_v<std::decay_t<U>, Expected> &&
                                              !std::is_same_v<std::decay_t<U>, T>>>
  Expected(U&& value) : state_(std::in_place_index<0>, T(std::forward<U>(value))) {}
  template <class G>
  Expected(Unexpected<G> failure) : state_(std::in_place_index<1>, E(std::move(failure.error))) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { check(has_value()); return std::get<0>(state_); }
  const T& value() const& { check(has_value()); return std::get<0>(state_); }
  T&& value() && { check(has_value()); return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { check(!has_value()); return std::get<1>(state_); }
  const E& error() const& { check(!has_value()); return std::get<1>(state_); }
  E&& error() && { check(!has_value()); return std::get<1>(std::move(state_)); }

  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(state_) : T(std::forward<U>(fallback));
  }

 private:
  static void check(bool ok) {
    assert(ok && "Expected accessed on the wrong side");
    if (!ok) __builtin_trap();  // stays on in release builds (STYLE.md principle 6)
  }
  std::variant<T, E> state_;
};

// Expected<void, E>: success carries nothing.
template <class E>
class [[nodiscard]] Expected<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  Expected() = default;
  template <class G>
  Expected(Unexpected<G> failure) : error_(E(std::move(failure.error))), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const {
    if (failed_) __builtin_trap();
  }
  const E& error() const& {
    if (!failed_) __builtin_trap();
    return error_;
  }
  E&& error() && {
    if (!failed_) __builtin_trap();
    return std::move(error_);
  }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace taho
