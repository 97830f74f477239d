#!/bin/sh
# Sweep throughput: the same runs trained one at a time on one thread
# (--cores 1 --jobs 1) and by the scheduler on every core, alternately
# REPEAT times (default 2, as a shared machine's load drifts); prints the
# aggregate training tokens/s of each pair and their ratio.
#   bench/bench_sweep.sh [PRESET]    (default bench/sweep6.json)
set -eu
BIN=${BIN:-./scalelab}
PRESET=${1:-bench/sweep6.json}
REPEAT=${REPEAT:-2}
tmp=$(mktemp -d /tmp/scalelab-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
timed() { # name, args...: wall seconds of scalelab run
    name=$1; shift
    rm -rf "$tmp/$name"
    t0=$(date +%s.%N)
    $BIN run "$PRESET" --runs "$tmp/$name" --quiet "$@"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
i=1
while [ $i -le "$REPEAT" ]; do
    serial=$(timed serial --cores 1 --jobs 1)
    parallel=$(timed parallel)
    store=$(ls -d "$tmp"/serial/*)
    tok=$($BIN export "$store" | awk -F, 'NR > 1 { t += $17 } END { printf "%.0f", t }')
    awk -v tok="$tok" -v s="$serial" -v p="$parallel" -v n="$(nproc)" -v i="$i" 'BEGIN {
        printf "pair %d: one at a time, one thread %6.1f s %7.0f tok/s; scheduler on %d cores %6.1f s %7.0f tok/s; ratio %.2fx\n",
            i, s, tok / s, n, p, tok / p, s / p
    }'
    i=$((i + 1))
done
