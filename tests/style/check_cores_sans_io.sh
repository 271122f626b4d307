#!/usr/bin/env bash
# The protocol cores and what they use must stay sans-IO and wasm-portable
# (DESIGN.md §1, STYLE.md principle 1): no sockets, threads, Asio, clocks,
# sleeping or exceptions. This test fails on the first include or call that
# breaks that, naming file and line.
set -u
root=${1:?usage: $0 SOURCE_DIR}
cd "$root" || exit 2

portable_dirs=(src/base src/proto src/content/tree src/swarm src/host src/runtime/sim)
forbidden_includes='#\s*include\s*[<"](boost/|asio|thread>|mutex>|condition_variable>|future>|sys/socket\.h|netinet/|arpa/inet\.h|unistd\.h|fcntl\.h|sys/stat\.h|filesystem>|fstream>|iostream>|spdlog/)'
forbidden_calls='std::chrono::(system_clock|steady_clock|high_resolution_clock)|std::this_thread|\bthrow\b|\btry\s*\{|std::rand\b|\brand\(\)|std::random_device|\btime\(nullptr\)|\bgetenv\('

status=0
for dir in "${portable_dirs[@]}"; do
  [ -d "$dir" ] || continue
  while IFS= read -r -d '' file; do
    case "$file" in *_test.cpp) continue ;; esac
    if hits=$(grep -nE "$forbidden_includes" "$file"); then
      while IFS= read -r hit; do echo "$file:$hit: forbidden include in a portable core" >&2; done <<<"$hits"
      status=1
    fi
    if hits=$(grep -nE "$forbidden_calls" "$file" | grep -vE '^\s*[0-9]+:\s*//'); then
      while IFS= read -r hit; do echo "$file:$hit: clock, thread, randomness or exception in a portable core" >&2; done <<<"$hits"
      status=1
    fi
  done < <(find "$dir" \( -name '*.cpp' -o -name '*.hpp' \) -print0)
done
if [ $status -eq 0 ]; then echo "portable cores: no sockets, threads, clocks or exceptions"; fi
exit $status
