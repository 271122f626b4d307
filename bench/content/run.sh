#!/usr/bin/env bash
# bench/content: fetching content between taho daemons over loopback, each
# figure beside its reference from the same run (see run.py).
# Usage: bench/content/run.sh BUILD_DIR   (scripts/bench passes it)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
cmake --build "$build" -j "${JOBS:-2}" --target taho >/dev/null
exec python3 "$here/run.py" "$build"
