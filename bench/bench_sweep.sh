#!/bin/sh
# Sweep throughput: the same runs trained one at a time on one thread
# (--cores 1 --jobs 1) and by the scheduler on every core; prints the
# aggregate training tokens/s of each and their ratio.
#   bench/bench_sweep.sh [PRESET]    (default bench/sweep6.json)
set -eu
BIN=${BIN:-./scalelab}
PRESET=${1:-bench/sweep6.json}
tmp=$(mktemp -d /tmp/scalelab-bench-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
tokens() { # store: the tokens of every run's last metric row
    $BIN export "$1" | awk -F, 'NR > 1 { t += $17 } END { printf "%.0f", t }'
}
timed() { # name, args...: wall seconds of scalelab run
    name=$1; shift
    t0=$(date +%s.%N)
    $BIN run "$PRESET" --runs "$tmp/$name" --quiet "$@"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc -l
}
serial=$(timed serial --cores 1 --jobs 1)
parallel=$(timed parallel)
store=$(ls -d "$tmp"/serial/*)
tok=$(tokens "$store")
nproc=$(nproc)
awk -v tok="$tok" -v s="$serial" -v p="$parallel" -v n="$nproc" 'BEGIN {
    printf "runs one at a time, one thread: %8.1f s  %8.0f tok/s\n", s, tok / s
    printf "scheduler on %d cores:           %8.1f s  %8.0f tok/s\n", n, p, tok / p
    printf "ratio %.2fx\n", s / p
}'
