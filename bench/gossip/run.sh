#!/usr/bin/env bash
# bench/gossip: 20 taho daemons on loopback in one gossipsub topic against the
# same topology of 20 js-libp2p peers (@libp2p/gossipsub 17), in one run:
# messages/s sustained, p50/p99 end-to-end latency, and the ratios.
# Usage: bench/gossip/run.sh BUILD_DIR   (scripts/bench passes it; TAHO_BIN
# overrides the binary; sizes and the taho side's client: TAHO_BENCH_GOSSIP_*,
# see run.py)
set -euo pipefail
build=${1:?usage: run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
targets=()
[ -z "${TAHO_BIN:-}" ] && targets+=(taho)
[ "${TAHO_BENCH_GOSSIP_CLIENT:-native}" = native ] && targets+=(taho_bench_gossip_client)
if [ ${#targets[@]} -gt 0 ]; then
  cmake --build "$build" -j "${JOBS:-2}" --target "${targets[@]}" >/dev/null
fi
exec python3 "$here/run.py" "$build"
