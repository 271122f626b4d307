#!/usr/bin/env bash
# bench/publish: `taho publish` of a 1 GiB file on tmpfs against b3sum on the
# same file in the same run, and `taho content cat` against cat.
# Usage: bench/publish/run.sh BUILD_DIR   (scripts/bench passes it)
set -euo pipefail

build=${1:?usage: run.sh BUILD_DIR}
taho="$build/bin/taho"
hasher="$build/bin/taho_bench_publish"
rounds=${TAHO_BENCH_ROUNDS:-3}
size_mib=${TAHO_BENCH_MIB:-1024}
cmake --build "$build" -j "${JOBS:-2}" --target taho taho_bench_publish >/dev/null
work=$(mktemp -d /dev/shm/taho-bench-publish.XXXXXX)
trap 'rm -rf "$work"' EXIT
file="$work/input.bin"
export TAHO_HOME="$work/home"   # the store on tmpfs too: the figure is CPU, not disk

now() { date +%s%N; }
mbps() { awk -v b="$1" -v ns="$2" 'BEGIN { printf "%.0f", b / (ns / 1e9) / 1e6 }'; }
best_ns() {  # best wall time of "$@" over the rounds, in ns
  local best=0 start elapsed
  for _ in $(seq "$rounds"); do
    start=$(now); "$@" >/dev/null; elapsed=$(( $(now) - start ))
    if [ "$best" = 0 ] || [ "$elapsed" -lt "$best" ]; then best=$elapsed; fi
  done
  echo "$best"
}
fresh_publish() { rm -rf "$TAHO_HOME/store"; "$taho" publish "$file"; }

head -c $((size_mib << 20)) /dev/urandom >"$file"
bytes=$(stat -c %s "$file")
echo "bench/publish: ${size_mib} MiB on $(df --output=fstype "$work" | tail -1), $(nproc) cores, best of $rounds"

ours=$("$taho" publish "$file")
theirs="ca_blake3_$(b3sum --no-names "$file")"
if [ "$ours" != "$theirs" ]; then
  echo "MISMATCH: taho publish printed $ours, b3sum $theirs" >&2
  exit 1
fi

b3_ns=$(best_ns b3sum "$file")
publish_ns=$(best_ns fresh_publish)
b3=$(mbps "$bytes" "$b3_ns")
publish=$(mbps "$bytes" "$publish_ns")
hash_only=$("$hasher" "$file" "$work/hash-store" "$rounds" | awk '/^hash_mb_s/ { print $2 }')
awk -v a="$publish" -v b="$b3" -v h="$hash_only" 'BEGIN {
  printf "b3sum (default threads)        %6d MB/s\n", b
  printf "taho publish (hash+store+fsync)%6d MB/s   ratio %.2f x b3sum\n", a, a / b
  printf "taho hashing alone (root+outb.)%6d MB/s   ratio %.2f x b3sum\n", h, h / b
}'

out="$work/out.bin"
cat_ns=$(best_ns sh -c "cat '$file' > '$out'")
taho_cat_ns=$(best_ns sh -c "'$taho' content cat '$ours' > '$out'")
cmp -s "$out" "$file" || { echo "taho content cat output differs" >&2; exit 1; }
verify_cat_ns=$(best_ns sh -c "'$taho' content cat --verify '$ours' > '$out'")
cat_rate=$(mbps "$bytes" "$cat_ns")
awk -v t="$(mbps "$bytes" "$taho_cat_ns")" -v v="$(mbps "$bytes" "$verify_cat_ns")" -v c="$cat_rate" 'BEGIN {
  printf "cat                            %6d MB/s\n", c
  printf "taho content cat               %6d MB/s   ratio %.2f x cat\n", t, t / c
  printf "taho content cat --verify      %6d MB/s   ratio %.2f x cat\n", v, v / c
}'
