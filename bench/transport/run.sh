#!/usr/bin/env bash
# bench/transport: the raw Asio transport against iperf3, then the whole
# stack (Noise + Yamux + perf) between two taho daemons against iperf3 and
# between two js-libp2p peers, handshakes per second, and memory per idle
# connection. Every figure sits beside its reference from the same run.
# Usage: bench/transport/run.sh BUILD_DIR   (scripts/bench passes it)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
cmake --build "$build" -j "${JOBS:-2}" --target taho taho_bench_transport taho_bench_idle_connections >/dev/null
raw=$(find "$build" -name taho_bench_transport -type f -perm -u+x | head -1)
echo "-- raw transport (one process, one thread)"
"$raw" "${TAHO_BENCH_MIB:-1024}"
echo "-- whole stack"
exec python3 "$here/run.py" "$build"
